#!/usr/bin/env bash
# Fill a wheelhouse for the guest (no network there): the project's dependencies with the spi
# extra, and its build backend. For the host's own architecture `pip wheel` also builds the
# source-only packages; for another architecture only ready wheels are taken.
#
#   wheelhouse.sh ARCH REPO DIR
set -euo pipefail
ARCH="$1"; REPO="$2"; DIR="$3"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly GUEST_PYTHON=3.11
mkdir -p "$DIR"
venv="$(mktemp -d)"
trap 'rm -rf "$venv"' EXIT
python3 -m venv "$venv"
pip=("$venv/bin/pip" --disable-pip-version-check)
readonly EXTRAS=spi
reqs=()
while read -r line; do
    [[ -z "$line" || "$line" == \#* ]] || reqs+=("$line")
done <"$HERE/wheels.txt"
if [[ "$ARCH" == "$(dpkg --print-architecture)" ]]; then
    "${pip[@]}" wheel -q -w "$DIR" "${REPO}[${EXTRAS}]" "${reqs[@]}"
    rm -f "$DIR"/breathring-*.whl
else
    case "$ARCH" in arm64) plat=manylinux2014_aarch64 ;; *) plat="linux_$ARCH" ;; esac
    "${pip[@]}" download -q -d "$DIR" --only-binary=:all: --platform "$plat" \
        --platform manylinux_2_28_aarch64 --platform manylinux_2_17_aarch64 \
        --python-version "$GUEST_PYTHON" "${REPO}[${EXTRAS}]" "${reqs[@]}"
fi
find "$DIR" -name "*.whl" | wc -l
