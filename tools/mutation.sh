#!/usr/bin/env bash
# Mutation testing of the pure core with mutmut (docs/testing.md).
# mutmut 3 looks for code in ./, src/ or source/, so this lays the package out as
# src/breathring in a scratch folder, with the tests beside it, and runs mutmut there.
#
# Usage: tools/mutation.sh [--survivors] [MODULE ...]
#   MODULE       names without .py (a package such as config is mutated whole);
#                default: the whole pure core in one run.
#   --survivors  keep the run's folder, copy the current tests into it and run again only
#                the mutants that survived last time (after adding tests that kill them).
# Each run has its own folder, .mutation/<modules joined by +>/, with mutmut's state and that
# run's results.txt (`mutmut results --all true`); .mutation/results.txt sums every run present
# (tools/mutation_summary.py): killed, survived and the score per module and overall, also
# counted without the equivalent mutants listed in docs/testing.md.
# Environment: MUTATION_JOBS (mutants run in parallel, default 2), MUTATION_TESTS (the test
# files, space-separated), MUTATION_DIR (the scratch folder, default .mutation),
# MUTATION_NAMES (mutant names or fnmatch patterns, space-separated: run only those, e.g. the
# functions an earlier, unfinished run never reached; the rest stay "not checked").
set -euo pipefail

# The unit tests of the pure core, one file per module (fast, no processes, no real time):
# a mutant must be killed by the tests of the core itself. The end-to-end `simulate` tests,
# the property tests (tests/core/test_properties.py) and the process, hardware and reliability suites
# are left out: each mutant would rerun them (tests/cli/test_simulate.py alone takes ~20 s here).
DEFAULT_TESTS="tests/core/test_patterns.py tests/core/test_session.py tests/core/test_scene.py
 tests/core/test_output.py tests/controller
 tests/core/test_gestures.py tests/core/test_reminder.py
 tests/core/test_clock.py tests/config/test_config.py"
PURE_CORE="patterns session scene output gestures controller activities reminder clock config"
# Modules outside the pure core, each with its own fast unit tests (run one module per run:
# tools/mutation.sh history). Tests that start processes are deselected by DESELECT.
module_tests() {
    case $1 in
        history | history_file)
            echo "tests/history/test_store.py tests/history/test_breath_rates.py
                tests/history/test_storage_failures.py tests/history/test_unusable_files.py" ;;
        # The recorder unit by unit (tests/history/test_recording.py runs the service loop: ~4 s).
        history_recorder) echo "tests/history/test_recorder_jobs.py" ;;
        settings) echo "tests/service/test_settings_store.py" ;;
        hw/gpio_cdev) echo "tests/hw/test_gpio_cdev.py" ;;
        hw/boot_rules | hw/boot_config)
            echo "tests/hw/test_boot_rules.py tests/hw/test_boot_config.py
                tests/hw/test_boot_config_command.py tests/hw/test_spi_timing_check.py
                tests/hw/test_live_spi_clock.py" ;;
        # aiohttp's test client over the fake service (threads, no process, no browser).
        web/auth | web/app | web/plumbing | web)
            echo "tests/web/test_auth.py tests/web/test_api.py tests/web/test_history_range.py
                tests/web/test_token_file.py tests/web/test_lockout.py
                tests/web/test_cross_origin.py tests/web/test_request_bodies.py
                tests/web/test_response_headers.py tests/web/test_error_answers.py
                tests/web/test_settings_answers.py tests/web/test_session_answers.py
                tests/web/test_events.py" ;;
        mqtt/settings) echo "tests/mqtt/test_settings.py tests/mqtt/test_password_and_ca_files.py" ;;
        # discovery is pure: its configs written down, no broker.
        mqtt/discovery) echo "tests/mqtt/test_discovery.py" ;;
        # The bridge in a thread on a real mosquitto (a second or so per test); the tests that
        # start `breathring mqtt` as a process are left out (they run the unmutated package).
        mqtt/bridge | mqtt/service_side | mqtt/commands | mqtt)
            echo "tests/mqtt/test_bridge.py tests/mqtt/test_last_session.py
                tests/mqtt/test_breath_rate.py tests/mqtt/test_refused_commands.py
                tests/mqtt/test_bridge_log.py tests/mqtt/test_clean_stop.py
                tests/mqtt/test_odd_service_replies.py tests/mqtt/test_service_backoff.py
                tests/mqtt/test_custom_seconds.py" ;;
        *) echo "$DEFAULT_TESTS" ;;
    esac
}
# pytest -k: the tests that start a process (a SIGKILLed child, the real service, a benchmark).
DESELECT="not sigkill and not interrupted_without_progress and not real_service"
DESELECT="$DESELECT and not benchmark"

# Write the tests and data the run needs into the run's folder (the sources only on a new run).
lay_out() {
    local here=$1 run_dir=$2
    mkdir -p "$run_dir/src"
    rm -rf "$run_dir/tests"
    for d in tests assets docs systemd benchmarks README.md LICENSE; do
        cp -r "$here/$d" "$run_dir/"
    done
}

write_config() {
    local run_dir=$1 only_mutate=$2 tests=$3
    cat > "$run_dir/pyproject.toml" <<TOML
[tool.pytest.ini_options]
testpaths = ["tests"]
pythonpath = ["tests"]
addopts = "-q -p no:cacheprovider"
markers = ["bench: smoke test of the benchmarks (a few seconds)"]

[tool.mutmut]
source_paths = ["src"]
only_mutate = [$only_mutate]
also_copy = ["assets", "docs", "systemd", "benchmarks", "README.md", "LICENSE"]
pytest_add_cli_args_test_selection = [$tests]
pytest_add_cli_args = ["-k", "$DESELECT"]
TOML
}

# One function, read whole before it runs, so editing this file during a run is safe.
main() {
    local here work venv survivors_only=false
    here=$(cd "$(dirname "$0")/.." && pwd)
    work=${MUTATION_DIR:-$here/.mutation}
    venv=$here/.venv
    if [ "${1:-}" = "--survivors" ]; then survivors_only=true; shift; fi
    local modules=("$@")
    [ ${#modules[@]} -gt 0 ] || read -r -a modules <<< "$PURE_CORE"
    local run_dir
    run_dir=$work/$(IFS=+; echo "${modules[*]//\//.}")
    "$venv/bin/pip" install -q 'mutmut==3.8.1' 2>&1 | grep -v "is ignored" || true

    local core_tests quoted=() t
    read -r -a core_tests <<< "$(echo ${MUTATION_TESTS:-$(module_tests "${modules[0]}")})"
    for t in "${core_tests[@]}"; do [ -e "$here/$t" ] && quoted+=("\"$t\""); done

    local names=()
    [ -n "${MUTATION_NAMES:-}" ] && read -r -a names <<< "$MUTATION_NAMES"
    if $survivors_only; then
        [ -f "$run_dir/results.txt" ] || { echo "no earlier run in $run_dir" >&2; exit 2; }
        mapfile -t names < <(sed -n 's/^ *\([^ ]*\): \(survived\|no tests\|not checked\)$/\1/p' \
            "$run_dir/results.txt")
        lay_out "$here" "$run_dir"
        # Collect which tests reach which function again: new tests must reach the survivors.
        rm -f "$run_dir/mutants/mutmut-stats.json"
    else
        rm -rf "$run_dir"
        lay_out "$here" "$run_dir"
        cp -r "$here/firmware/breathring" "$run_dir/src/"
    fi
    local paths=() m
    for m in "${modules[@]}"; do
        if [ -d "$run_dir/src/breathring/$m" ]; then
            paths+=("\"src/breathring/$m/*\"")
        else
            paths+=("\"src/breathring/$m.py\"")
        fi
    done
    write_config "$run_dir" "$(IFS=,; echo "${paths[*]}")" "$(IFS=,; echo "${quoted[*]}")"

    cd "$run_dir"
    if $survivors_only && [ ${#names[@]} -eq 0 ]; then
        echo "no survivors to run again"
    else
        local start
        start=$(date +%s)
        "$venv/bin/mutmut" run --max-children "${MUTATION_JOBS:-2}" "${names[@]}" || true
        echo "$(date -Is) ${modules[*]}$($survivors_only && echo " (${#names[@]} survivors)"):" \
            "$(( $(date +%s) - start )) s" | tee -a "$run_dir/timing.txt"
    fi
    "$venv/bin/mutmut" results --all true > results.txt 2>&1 || true
    "$venv/bin/python" "$here/tools/mutation_summary.py" "$work" "$here/docs/testing.md"
    echo "results in $work/results.txt; a survivor: cd $run_dir && $venv/bin/mutmut show NAME"
}

main "$@"; exit $?
