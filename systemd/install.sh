#!/usr/bin/env bash
# Install (or uninstall) breathring as a systemd service on a Raspberry Pi. Idempotent.
#
#   sudo systemd/install.sh [--driver spi|pwm|pi5] [--no-start] [--source DIR]
#   sudo systemd/install.sh --uninstall
#   systemd/install.sh --prefix /tmp/stage ...      (staging: see below)
#
# On the Pi (no prefix) it: installs the Debian packages; creates the venv
# /opt/breathring/venv (--system-site-packages, so Debian's python3-lgpio and python3-pygame are
# used); pip-installs the project with the driver's extra; creates the system user breathring
# (groups spi gpio audio); installs the unit as /etc/systemd/system/breathring.service; writes
# /etc/breathring/config.toml only if there is none; enables SPI for the spi driver; enables and
# (re)starts the service.
#
# With --prefix DIR (or DESTDIR=DIR) every file goes under DIR, and the commands that would
# change the system (apt-get, groupadd, useradd, usermod, chgrp, raspi-config, systemctl) are
# only printed as "would run: ...". The venv and pip steps do run (into DIR).
#
# Exit codes: 0 done, 1 failed, 2 usage.

set -euo pipefail

readonly APP=breathring
readonly UNIT_NAME=breathring.service
readonly GROUPS_NEEDED=(spi gpio audio)
readonly DRIVERS=(spi pwm pi5)
readonly MIN_PYTHON="3.11"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR

usage() {
    cat <<EOF
usage: $(basename "$0") [--prefix DIR] [--driver spi|pwm|pi5] [--no-start] [--uninstall] [--source DIR]

  --driver D    LED driver: spi (default, no root, every Pi), pwm (rpi_ws281x, root, Pi 1-4),
                pi5 (Pi 5 PIO, no root)
  --no-start    enable the service for the next boot but do not (re)start it now
  --uninstall   stop and disable the service, remove the unit, the venv and the command;
                keeps /etc/breathring (config) and /var/lib/breathring (state)
  --source DIR  the project to install (default: $(dirname "$SCRIPT_DIR"))
  --prefix DIR  stage every file under DIR and only print system commands (DESTDIR works too)
EOF
}

die_usage() {
    echo "install.sh: $1" >&2
    echo "run '$(basename "$0") --help' for the options" >&2
    exit 2
}

die() {
    echo "install.sh: error: $1" >&2
    exit 1
}

say() { echo "==> $*"; }
note() { echo "    $*"; }

# ---------------------------------------------------------------------------------------------
# Options
PREFIX="${DESTDIR:-}"
DRIVER=spi
START=1
UNINSTALL=0
SOURCE="$(dirname "$SCRIPT_DIR")"

need_value() {
    [[ $# -ge 2 && -n "$2" && "$2" != --* ]] || die_usage "$1 needs a value"
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --prefix) need_value "$@"; PREFIX="$2"; shift 2 ;;
        --prefix=*) PREFIX="${1#*=}"; shift ;;
        --driver) need_value "$@"; DRIVER="$2"; shift 2 ;;
        --driver=*) DRIVER="${1#*=}"; shift ;;
        --source) need_value "$@"; SOURCE="$2"; shift 2 ;;
        --source=*) SOURCE="${1#*=}"; shift ;;
        --no-start) START=0; shift ;;
        --uninstall) UNINSTALL=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown option '$1'; allowed: --prefix, --driver, --no-start, --uninstall, --source, --help" ;;
    esac
done

case " ${DRIVERS[*]} " in
    *" $DRIVER "*) ;;
    *) die_usage "--driver '$DRIVER' is not a driver; allowed: ${DRIVERS[*]}" ;;
esac

if [[ -n "$PREFIX" ]]; then
    mkdir -p "$PREFIX"
    PREFIX="$(cd "$PREFIX" && pwd)"
    [[ "$PREFIX" != "/" ]] || PREFIX=""
fi

# Real paths (what the unit and the symlink refer to) and where we write them (under PREFIX).
readonly OPT_DIR=/opt/$APP
readonly VENV=$OPT_DIR/venv
readonly CONF_DIR=/etc/$APP
readonly CONF_FILE=$CONF_DIR/config.toml
readonly UNIT_FILE=/etc/systemd/system/$UNIT_NAME
readonly BIN_LINK=/usr/local/bin/$APP
readonly STATE_DIR=/var/lib/$APP

STAGED=0
[[ -z "$PREFIX" ]] || STAGED=1
readonly STAGED

# dest PATH: where PATH is written (under the prefix when staging).
dest() { echo "${PREFIX}$1"; }

# sys CMD...: a command that changes the system: run it, or only print it when staging.
sys() {
    if (( STAGED )); then
        echo "    would run: $*"
    else
        echo "    + $*"
        "$@"
    fi
}

# sys_if_missing WHAT CMD...: like sys, for a command the caller runs only when WHAT is missing.
sys_if_missing() {
    local what="$1"
    shift
    if (( STAGED )); then
        echo "    would run (if $what is missing): $*"
    else
        sys "$@"
    fi
}

# ---------------------------------------------------------------------------------------------
# Checks
if (( ! STAGED )) && [[ $EUID -ne 0 ]]; then
    die "installing a system service needs root; run: sudo $0 $*"
fi

pi_model() {
    local model_file=/proc/device-tree/model
    if [[ -r $model_file ]]; then
        tr -d '\0' <"$model_file"
    fi
}

# ---------------------------------------------------------------------------------------------
uninstall() {
    say "Uninstalling $APP${PREFIX:+ from $PREFIX}"
    if (( STAGED )); then
        sys systemctl disable --now "$UNIT_NAME"
    elif systemctl list-unit-files "$UNIT_NAME" >/dev/null 2>&1; then
        sys systemctl disable --now "$UNIT_NAME" || note "(the service was not running)"
    fi
    rm -f "$(dest "$UNIT_FILE")"
    sys systemctl daemon-reload
    if (( ! STAGED )); then
        systemctl reset-failed "$UNIT_NAME" >/dev/null 2>&1 || true
    fi
    local link
    link="$(dest "$BIN_LINK")"
    if [[ -L "$link" && "$(readlink "$link")" == "$VENV/bin/$APP" ]]; then
        rm -f "$link"
    fi
    rm -rf "$(dest "$VENV")" "$(dest "$OPT_DIR")/docs"
    rmdir "$(dest "$OPT_DIR")" 2>/dev/null || true
    say "Removed the service, $VENV and $BIN_LINK."
    note "Kept $CONF_DIR (your configuration) and $STATE_DIR (state)."
    note "Remove them and the user yourself if you want: sudo rm -r $CONF_DIR $STATE_DIR; sudo userdel $APP"
}

if (( UNINSTALL )); then
    uninstall
    exit 0
fi

# ---------------------------------------------------------------------------------------------
# Install
[[ -d "$SOURCE" ]] || die_usage "--source '$SOURCE' is not a directory; give the breathring project folder"
SOURCE="$(cd "$SOURCE" && pwd)"
[[ -f "$SOURCE/pyproject.toml" ]] || die_usage "--source '$SOURCE' has no pyproject.toml; give the breathring project folder"

UNIT_SOURCE="$SCRIPT_DIR/breathring.service"
[[ "$DRIVER" != pwm ]] || UNIT_SOURCE="$SCRIPT_DIR/breathring-root.service"
[[ -f "$UNIT_SOURCE" ]] || die "missing unit file $UNIT_SOURCE"

PYTHON="${PYTHON:-python3}"
command -v "$PYTHON" >/dev/null || die "$PYTHON not found; install it: sudo apt-get install python3"

say "Installing $APP (driver: $DRIVER) from $SOURCE${PREFIX:+ into $PREFIX}"

model="$(pi_model)"
if (( ! STAGED )); then
    if [[ -z "$model" ]]; then
        note "warning: this does not look like a Raspberry Pi (no /proc/device-tree/model)"
    else
        note "board: $model"
    fi
    if [[ "$DRIVER" == pwm && "$model" == *"Raspberry Pi 5"* ]]; then
        die "the pwm driver (rpi_ws281x) does not work on a Raspberry Pi 5; use --driver pi5 or spi"
    fi
fi

# 1. Debian packages. Debian's python3-lgpio and python3-pygame are prebuilt for armhf and
#    arm64; from PyPI, lgpio is source only and pygame has no 32-bit ARM wheel.
apt_has() { apt-cache show "$1" >/dev/null 2>&1; }
APT_PACKAGES=(python3-venv python3-dev build-essential swig python3-pygame libsdl2-mixer-2.0-0
              python3-spidev alsa-utils)
say "Debian packages"
if (( STAGED )); then
    APT_PACKAGES+=(python3-lgpio)
else
    if apt_has python3-lgpio; then
        APT_PACKAGES+=(python3-lgpio)
    elif apt_has liblgpio-dev; then
        APT_PACKAGES+=(liblgpio-dev)
        note "python3-lgpio is not packaged here; pip will build lgpio against liblgpio-dev"
    else
        note "warning: neither python3-lgpio nor liblgpio-dev is packaged here; pip will try to build lgpio"
    fi
fi
sys apt-get update
sys env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${APT_PACKAGES[@]}"

# 2. The venv and the project.
if ! "$PYTHON" -c "import sys; sys.exit(sys.version_info < (${MIN_PYTHON/./, }))"; then
    die "$APP needs Python >= $MIN_PYTHON ($PYTHON is older); use Raspberry Pi OS Bookworm or later"
fi
venv_dir="$(dest "$VENV")"
say "Python environment $VENV"
if [[ -x "$venv_dir/bin/python" && -x "$venv_dir/bin/pip" ]]; then
    note "reusing the existing venv"
else
    mkdir -p "$(dirname "$venv_dir")"
    "$PYTHON" -m venv --system-site-packages "$venv_dir"
fi
"$venv_dir/bin/pip" install --disable-pip-version-check --upgrade "${SOURCE}[${DRIVER}]"
[[ -x "$venv_dir/bin/$APP" ]] || die "pip did not install the $APP command into $VENV/bin"

mkdir -p "$(dest "$(dirname "$BIN_LINK")")"
ln -sfn "$VENV/bin/$APP" "$(dest "$BIN_LINK")"
if [[ -d "$SOURCE/docs" ]]; then
    mkdir -p "$(dest "$OPT_DIR")/docs"
    cp -R "$SOURCE/docs/." "$(dest "$OPT_DIR")/docs/"
fi

# 3. The system user: no login, no home; its group owns the control socket and the state.
say "System user $APP"
# When staging we cannot know what exists on the target: print both as conditional.
for group in "${GROUPS_NEEDED[@]}"; do
    if (( STAGED )) || ! getent group "$group" >/dev/null; then
        sys_if_missing "group $group" groupadd --system "$group"
    fi
done
if (( STAGED )) || ! id -u "$APP" >/dev/null 2>&1; then
    sys_if_missing "user $APP" useradd --system --user-group --no-create-home \
        --home-dir /nonexistent --shell /usr/sbin/nologin "$APP"
fi
groups_csv="$(IFS=,; echo "${GROUPS_NEEDED[*]}")"
sys usermod --append --groups "$groups_csv" "$APP"

# 4. Configuration: never overwrite an existing (possibly edited) file.
say "Configuration $CONF_FILE"
conf="$(dest "$CONF_FILE")"
mkdir -p "$(dirname "$conf")"
chmod 0755 "$(dirname "$conf")"
if [[ -e "$conf" ]]; then
    note "kept your existing $CONF_FILE"
    if ! grep -Eq "^[[:space:]]*driver[[:space:]]*=[[:space:]]*\"$DRIVER\"" "$conf"; then
        note "warning: it does not say driver = \"$DRIVER\" under [ring]; edit it if you changed drivers"
    fi
else
    tmp="$(mktemp "$conf.XXXXXX")"
    trap 'rm -f "$tmp"' EXIT
    "$venv_dir/bin/$APP" config defaults >"$tmp" || die "'$APP config defaults' failed"
    if [[ "$DRIVER" != spi ]]; then
        sed -i -E "s/^([[:space:]]*driver[[:space:]]*=[[:space:]]*)\"spi\"/\1\"$DRIVER\"/" "$tmp"
    fi
    chmod 0640 "$tmp"
    mv -f "$tmp" "$conf"
    trap - EXIT
    sys chgrp "$APP" "$CONF_FILE"
    note "wrote the default configuration (driver = \"$DRIVER\")"
fi

CONFIG_OK=1
if ! "$venv_dir/bin/$APP" config check --config "$conf"; then
    CONFIG_OK=0
    note "warning: $CONF_FILE has errors (above); the service would exit 78 until they are fixed"
fi

# 5. The unit.
say "Unit $UNIT_FILE (from $(basename "$UNIT_SOURCE"))"
mkdir -p "$(dest "$(dirname "$UNIT_FILE")")"
install -m 0644 "$UNIT_SOURCE" "$(dest "$UNIT_FILE")"

# 6. The LED interface.
case "$DRIVER" in
    spi)
        say "SPI for the LED data (GPIO10)"
        if (( STAGED )) || command -v raspi-config >/dev/null; then
            sys raspi-config nonint do_spi 0
            (( STAGED )) || note "SPI is on (dtparam=spi=on); if /dev/spidev0.0 does not appear, reboot"
        else
            note "raspi-config not found: add 'dtparam=spi=on' to /boot/firmware/config.txt and reboot"
        fi
        ;;
    pwm)
        say "pwm driver: the service runs as root (breathring-root.service)"
        note "PWM on GPIO18/12 takes the analog audio output: use a USB, HDMI or I2S speaker"
        ;;
    pi5)
        say "pi5 driver: the RP1's PIO through /dev/pio0"
        if (( ! STAGED )) && [[ ! -e /dev/pio0 ]]; then
            note "warning: /dev/pio0 is missing: update the firmware and kernel (sudo apt full-upgrade)"
        fi
        ;;
esac

# 7. systemd.
say "systemd"
sys systemctl daemon-reload
sys systemctl enable "$UNIT_NAME"
if (( START && CONFIG_OK )); then
    sys systemctl restart "$UNIT_NAME"
elif (( START )); then
    note "not started: fix $CONF_FILE, then: sudo systemctl restart $APP"
else
    note "not started (--no-start); start it with: sudo systemctl start $APP"
fi

say "Done."
note "Status:  systemctl status $APP      Log: journalctl -u $APP -f"
note "Config:  $CONF_FILE (then: sudo systemctl restart $APP)"
note "Control without sudo: sudo usermod -aG $APP \$USER (then log in again)"
