#!/usr/bin/env bash
# Mutation testing of the pure core with mutmut (docs/testing.md).
# mutmut 3 looks for code in ./, src/ or source/, so this lays the package out as
# src/breathring in a scratch folder, with the tests beside it, and runs mutmut there.
# Usage: tools/mutation.sh [MODULE ...]   (default: the pure core; names without .py)
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${MUTATION_DIR:-$here/.mutation}
venv=$here/.venv
modules=("$@")
if [ ${#modules[@]} -eq 0 ]; then
    modules=(patterns session scene output gestures controller reminder clock config)
fi
"$venv/bin/pip" install -q 'mutmut==3.8.1' 2>&1 | grep -v "is ignored" || true
rm -rf "$work"
mkdir -p "$work/src"
cp -r "$here/firmware/breathring" "$work/src/"
for d in tests assets docs systemd benchmarks README.md LICENSE; do cp -r "$here/$d" "$work/"; done
paths=()
for m in "${modules[@]}"; do
    if [ -d "$work/src/breathring/$m" ]; then paths+=("\"src/breathring/$m/*\""); else paths+=("\"src/breathring/$m.py\""); fi
done
joined=$(IFS=,; echo "${paths[*]}")
# The unit tests of the pure core (fast, no processes, no real time). The property tests
# (hypothesis) and the process, hardware and reliability suites are left out: they would
# multiply the run time and their findings are covered by the tests listed here.
core_tests=(${MUTATION_TESTS:-tests/test_patterns.py tests/test_session.py tests/test_scene.py tests/test_output.py tests/test_controller.py tests/test_gestures.py tests/test_reminder.py tests/test_clock.py tests/test_config.py tests/test_engine.py tests/test_simulate_cli.py tests/test_analysis.py tests/test_render.py})
quoted=()
for t in "${core_tests[@]}"; do [ -e "$here/$t" ] && quoted+=("\"$t\""); done
tests=$(IFS=,; echo "${quoted[*]}")
cat > "$work/pyproject.toml" <<TOML
[tool.pytest.ini_options]
testpaths = ["tests"]
addopts = "-q -p no:cacheprovider"
markers = ["bench: smoke test of the benchmarks (a few seconds)"]

[tool.mutmut]
source_paths = ["src"]
only_mutate = [$joined]
also_copy = ["assets", "docs", "systemd", "benchmarks", "README.md", "LICENSE"]
pytest_add_cli_args_test_selection = [$tests]
TOML
cd "$work"
start=$(date +%s)
"$venv/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" || true
"$venv/bin/mutmut" results --all true > results.txt 2>&1 || "$venv/bin/mutmut" results > results.txt 2>&1 || true
echo "mutation run took $(( $(date +%s) - start )) s; results in $work/results.txt"
