#!/usr/bin/env bash
# Fill a wheelhouse for the guest (no network there): the project's dependencies with the spi
# extra, and its build backend, for the guest's Python (bookworm 3.11, trixie 3.13). When the
# guest has the host's architecture and Python, `pip wheel` also builds the source-only
# packages. Otherwise pip cannot resolve for the guest: it evaluates environment markers
# (platform_machine == "aarch64", python_version) for the host, so uv resolves for the guest
# instead (`uv pip compile --python-platform --python-version`), and each pin is downloaded as a
# wheel for the guest when one exists, else as its source (the guest builds it: build-essential,
# python3-dev and swig are in the image), together with what the source needs to build
# (offline, with build isolation).
#
#   wheelhouse.sh ARCH PYTHON REPO DIR        PYTHON: the guest's, e.g. 3.13
set -euo pipefail
ARCH="$1"; GUEST_PYTHON="$2"; REPO="$3"; DIR="$4"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly GUEST_PYTHON
readonly GUEST_ABI="cp${GUEST_PYTHON/./}"
# The oldest guest glibc is bookworm's 2.36: any manylinux_2_N wheel with N <= 36 runs on both
# releases (trixie has 2.41; lgpio's aarch64 wheel is manylinux_2_34).
readonly GUEST_GLIBC_MINOR=36
readonly EXTRAS=spi
mkdir -p "$DIR"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
pip=("$venv/bin/pip" --disable-pip-version-check)
reqs=()
while read -r line; do
    [[ -z "$line" || "$line" == \#* ]] || reqs+=("$line")
done <"$HERE/wheels.txt"

host_python="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
if [[ "$ARCH" == "$(dpkg --print-architecture)" && "$GUEST_PYTHON" == "$host_python" ]]; then
    "${pip[@]}" wheel -q -w "$DIR" "${REPO}[${EXTRAS}]" "${reqs[@]}"
    rm -f "$DIR"/breathring-*.whl
    find "$DIR" -name "*.whl" | wc -l
    exit 0
fi

case "$ARCH" in
    arm64) machine=aarch64 ;;
    amd64) machine=x86_64 ;;
    *) echo "wheelhouse.sh: no cross resolution for $ARCH; allowed: amd64, arm64" >&2; exit 2 ;;
esac
uv_platform="$machine-manylinux_2_28"
platforms=(--platform "manylinux2014_$machine")
for (( minor = 17; minor <= GUEST_GLIBC_MINOR; minor++ )); do
    platforms+=(--platform "manylinux_2_${minor}_$machine")
done
"${pip[@]}" install -q uv
uv="$venv/bin/uv"

# resolve OUT REQUIREMENT-FILES...: pins for the guest's platform and Python, one per line.
resolve() {
    local out="$1"
    shift
    "$uv" pip compile -q --no-header --no-annotate --python-platform "$uv_platform" \
        --python-version "$GUEST_PYTHON" "$@" -o "$out"
}

# fetch PIN: the guest's wheel if there is one, else the source distribution.
fetch() {
    local pin="$1"
    if "${pip[@]}" download -q --no-deps -d "$DIR" --only-binary=:all: "${platforms[@]}" \
            --python-version "$GUEST_PYTHON" --implementation cp --abi "$GUEST_ABI" "$pin" 2>/dev/null; then
        echo "wheel  $pin"
    else
        "${pip[@]}" download -q --no-deps -d "$DIR" --no-binary=:all: "$pin"
        echo "source $pin"
    fi
}

pins="$venv/pins.txt"
resolve "$pins" --extra "$EXTRAS" "$REPO/pyproject.toml" "$HERE/wheels.txt"
while read -r pin; do
    [[ -z "$pin" || "$pin" == \#* ]] || fetch "$pin"
done <"$pins"

# What the source distributions need to build (their [build-system] requires; setuptools when
# they name none), resolved for the guest as well and added when not there already.
build_reqs="$venv/build-requires.txt"
python3 - "$DIR" >"$build_reqs" <<'PY'
import sys
import tarfile
import tomllib
from pathlib import Path

DEFAULT = ["setuptools>=40.8.0"]
for sdist in sorted(Path(sys.argv[1]).glob("*.tar.gz")):
    with tarfile.open(sdist) as tar:
        names = [n for n in tar.getnames() if n.count("/") == 1 and n.endswith("/pyproject.toml")]
        requires = DEFAULT
        if names:
            data = tomllib.load(tar.extractfile(names[0]))
            requires = data.get("build-system", {}).get("requires", DEFAULT)
    print("\n".join(requires))
PY
if [[ -s "$build_reqs" ]]; then
    build_pins="$venv/build-pins.txt"
    resolve "$build_pins" "$build_reqs" "$HERE/wheels.txt"
    while read -r pin; do
        [[ -z "$pin" || "$pin" == \#* ]] || grep -qxF "$pin" "$pins" || fetch "$pin"
    done <"$build_pins"
fi
find "$DIR" -name "*.whl" | wc -l
