#!/usr/bin/env bash
# Install (or uninstall) breathring as a systemd service on a Raspberry Pi. Idempotent.
#
#   sudo systemd/install.sh [--driver spi|pwm|pi5] [--no-start] [--no-boot-config] [--web] [--mqtt]
#                           [--source DIR]
#   sudo systemd/install.sh --uninstall [--purge]
#   systemd/install.sh --prefix /tmp/stage ...      (staging: see below)
#
# On the Pi (no prefix) it: installs the Debian packages; creates the venv
# /opt/breathring/venv (--system-site-packages, so Debian's python3-lgpio and python3-pygame are
# used); pip-installs the project with the driver's extra; creates the system user breathring
# (groups spi gpio audio); installs the unit as /etc/systemd/system/breathring.service; writes
# /etc/breathring/config.toml only if there is none; enables SPI for the spi driver and sets the
# SPI clock the detected Pi model needs in config.txt / cmdline.txt (with a backup; a reboot is
# then due); with a breath radar on a serial port in the config ([breath_sensor] kind mr60bha2 or
# c1001), grants the service that one device (the drop-in breath-sensor.conf) and frees the Pi's
# UART of the serial console; enables and (re)starts the service (and the web page / MQTT bridge
# with --web / --mqtt).
#
# It never stops half-way: when something the service needs is missing (no ring yet, SPI just
# enabled, no sound card, a package that could not be installed), it finishes the install, says
# what is missing and how to fix it, and exits 0. It exits 1 only when nothing usable could be
# installed (no Python, pip failed).
#
# With --prefix DIR (or DESTDIR=DIR) every file goes under DIR, and the commands that would
# change the system (apt-get, groupadd, useradd, usermod, chgrp, raspi-config, systemctl) are
# only printed as "would run: ...". The venv and pip steps do run (into DIR).
#
# Exit codes: 0 done (possibly with problems listed at the end), 1 failed, 2 usage.

set -euo pipefail

readonly APP=breathring
readonly UNIT_NAME=breathring.service
# Optional companions (their unit files come from other parts of the project): --web, --mqtt.
readonly WEB_UNIT=breathring-web.service
readonly MQTT_UNIT=breathring-mqtt.service
readonly GROUPS_NEEDED=(spi gpio audio)
readonly DRIVERS=(spi pwm pi5)
readonly MIN_PYTHON="3.11"

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly SCRIPT_DIR

usage() {
    cat <<EOF
usage: $(basename "$0") [--prefix DIR] [--driver spi|pwm|pi5] [--no-start] [--no-boot-config]
                  [--web] [--mqtt] [--uninstall [--purge]] [--source DIR]

  --driver D        LED driver: spi (default, no root, every Pi), pwm (rpi_ws281x, root, Pi 1-4),
                    pi5 (Pi 5 PIO, no root)
  --no-start        enable the service for the next boot but do not (re)start it now
  --no-boot-config  leave config.txt and cmdline.txt alone (no SPI clock settings)
  --web             also install and enable the web page ($WEB_UNIT)
  --mqtt            also install and enable the Home Assistant bridge ($MQTT_UNIT)
  --uninstall       stop and disable the services; remove the units, the venv, the command, the
                    user and groups it created and its config.txt lines; keeps /etc/breathring
                    (config) and /var/lib/breathring (state)
  --purge           with --uninstall: remove /etc/breathring and /var/lib/breathring too
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
PURGE=0
BOOT_CONFIG=1
WEB=0
MQTT=0
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
        --purge) PURGE=1; shift ;;
        --no-boot-config) BOOT_CONFIG=0; shift ;;
        --web) WEB=1; shift ;;
        --mqtt) MQTT=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) die_usage "unknown option '$1'; allowed: --prefix, --driver, --no-start, --no-boot-config, --web, --mqtt, --uninstall, --purge, --source, --help" ;;
    esac
done
(( ! PURGE || UNINSTALL )) || die_usage "--purge goes with --uninstall"

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
readonly UNIT_DIR=/etc/systemd/system
readonly UNIT_FILE=$UNIT_DIR/$UNIT_NAME
# Written only for a serial breath sensor: that device, and the group that may open it.
readonly SENSOR_DROPIN=$UNIT_DIR/$UNIT_NAME.d/breath-sensor.conf
readonly SERIAL_KINDS=(mr60bha2 c1001)
readonly SERIAL_GROUP=dialout
readonly BIN_LINK=/usr/local/bin/$APP
readonly STATE_DIR=/var/lib/$APP
# What this installer created (groups, user), so that --uninstall removes exactly that.
readonly MANIFEST=$OPT_DIR/installed-by-install.sh
# Raspberry Pi OS Trixie and Bookworm keep the boot files in /boot/firmware; older releases in /boot.
readonly BOOT_DIRS=(/boot/firmware /boot)
STAGED=0
[[ -z "$PREFIX" ]] || STAGED=1
readonly STAGED

# What could not be done; listed at the end with how to fix it (the install still finishes).
PROBLEMS=()
problem() {
    PROBLEMS+=("$1")
    echo "    warning: $1"
}
REBOOT_DUE=0

# dest PATH: where PATH is written (under the prefix when staging).
dest() { echo "${PREFIX}$1"; }

# sys CMD...: a command that changes the system: run it, or only print it when staging.
# Returns the command's status (callers decide whether a failure is a problem).
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

# The board, from the device tree (under the prefix when staging, so tests can give one).
pi_model() {
    local model_file
    model_file="$(dest /proc/device-tree/model)"
    if [[ -r $model_file ]]; then
        tr -d '\0' <"$model_file"
    fi
}

# The boot partition's config.txt (first of BOOT_DIRS that has one), or nothing.
boot_config_txt() {
    local dir
    for dir in "${BOOT_DIRS[@]}"; do
        if [[ -f "$(dest "$dir")/config.txt" ]]; then
            echo "$(dest "$dir")/config.txt"
            return
        fi
    done
}

# boot_config_cmd ARGS...: the product's `breathring boot-config` (hw/boot_rules.py, the one home
# of the SPI timing rules) from the venv. Staged, it works on the prefix's boot files and model.
boot_config_cmd() {
    local txt cmdline args=()
    txt="$(boot_config_txt)"
    cmdline="$(dirname "$txt")/cmdline.txt"
    if (( STAGED )); then
        args+=(--config-txt "$txt")
        [[ ! -f "$cmdline" ]] || args+=(--cmdline "$cmdline")
    fi
    "$(dest "$VENV")/bin/$APP" boot-config "$@" "${args[@]}"
}

# ---------------------------------------------------------------------------------------------
uninstall() {
    say "Uninstalling $APP${PREFIX:+ from $PREFIX}"
    local unit
    for unit in "$UNIT_NAME" "$WEB_UNIT" "$MQTT_UNIT"; do
        if (( STAGED )); then
            [[ "$unit" == "$UNIT_NAME" || -e "$(dest "$UNIT_DIR/$unit")" ]] || continue
            sys systemctl disable --now "$unit"
        elif [[ -e "$UNIT_DIR/$unit" ]] || systemctl is-active --quiet "$unit" 2>/dev/null; then
            sys systemctl disable --now "$unit" || note "($unit was not running)"
        fi
        rm -f "$(dest "$UNIT_DIR/$unit")"
    done
    sys systemctl daemon-reload || true
    if (( ! STAGED )); then
        for unit in "$UNIT_NAME" "$WEB_UNIT" "$MQTT_UNIT"; do
            systemctl reset-failed "$unit" >/dev/null 2>&1 || true
        done
    fi
    local link
    link="$(dest "$BIN_LINK")"
    if [[ -L "$link" && "$(readlink "$link")" == "$VENV/bin/$APP" ]]; then
        rm -f "$link"
    fi

    # The user, and the groups this installer created (Raspberry Pi OS has spi/gpio/audio).
    local manifest created_user=0 created_groups=()
    manifest="$(dest "$MANIFEST")"
    if [[ -f "$manifest" ]]; then
        grep -qx 'user' "$manifest" && created_user=1
        mapfile -t created_groups < <(sed -n 's/^group //p' "$manifest")
    elif (( ! STAGED )) && id -u "$APP" >/dev/null 2>&1; then
        created_user=1  # installed by an older install.sh, which always made the user
    fi
    if (( created_user )); then
        if (( STAGED )); then
            sys userdel "$APP"
        elif id -u "$APP" >/dev/null 2>&1; then
            sys userdel "$APP" || note "could not remove the user $APP (still running a process?)"
        fi
        if (( ! STAGED )) && getent group "$APP" >/dev/null; then
            sys groupdel "$APP" || true
        fi
    fi
    local group
    for group in "${created_groups[@]}"; do
        if (( STAGED )) || getent group "$group" >/dev/null; then
            sys groupdel "$group" || note "could not remove the group $group"
        fi
    done

    # What `breathring boot-config --fix` wrote in config.txt / cmdline.txt (the backups stay).
    if [[ -n "$(boot_config_txt)" ]]; then
        if [[ -x "$(dest "$VENV")/bin/$APP" ]]; then
            boot_config_cmd --undo 2>&1 | sed 's/^/    /' || true
        else
            note "no $VENV/bin/$APP: config.txt left as it is (its breathring block stays)"
        fi
    fi
    rm -rf "$(dest "$VENV")" "$(dest "$OPT_DIR")/docs"
    rm -f "$manifest"
    rmdir "$(dest "$OPT_DIR")" 2>/dev/null || true

    say "Removed the services, $VENV, $BIN_LINK and the user $APP."
    if (( PURGE )); then
        rm -rf "$(dest "$CONF_DIR")" "$(dest "$STATE_DIR")"
        note "Removed $CONF_DIR (configuration) and $STATE_DIR (state) (--purge)."
    else
        note "Kept $CONF_DIR (your configuration) and $STATE_DIR (state)."
        note "Remove them too with: sudo $0 --uninstall --purge"
    fi
    if [[ -f "$(dest "$SENSOR_DROPIN")" ]]; then
        rm -f "$(dest "$SENSOR_DROPIN")"
        rmdir "$(dest "$UNIT_DIR/$UNIT_NAME.d")" 2>/dev/null || true
    fi
    if [[ -d "$(dest "$UNIT_DIR/$UNIT_NAME.d")" ]]; then
        note "Kept your drop-ins in $UNIT_DIR/$UNIT_NAME.d (remove them yourself if you want)"
    fi
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
if [[ -z "$model" ]]; then
    (( STAGED )) || note "warning: this does not look like a Raspberry Pi (no /proc/device-tree/model)"
else
    note "board: $model"
fi
if [[ "$DRIVER" == pwm && "$model" == *"Raspberry Pi 5"* ]]; then
    die "the pwm driver (rpi_ws281x) does not work on a Raspberry Pi 5; use --driver pi5 or spi"
fi

# 1. Debian packages. Raspberry Pi OS Trixie (Debian 13, Python 3.13) and Bookworm (Debian 12,
#    Python 3.11) name and version them differently, and plain Debian lacks some of Raspberry Pi
#    OS's (python3-lgpio): each need is a list of candidates, resolved by what is installed, else
#    by what apt offers (apt-cache policy) on this release. Debian's python3-lgpio and
#    python3-pygame are prebuilt for armhf and arm64; from PyPI, lgpio is source only and pygame
#    has no 32-bit ARM wheel. What pip can bring instead (pygame, gpiozero, lgpio) is optional.
#    Only what is missing is installed, so a device without network that has them all is fine.
#
#    NEED: "label|required or what stands in for it|min_version|candidate candidate ..."
#    (min_version: what pyproject.toml asks of the Python package; older is left to pip).
PY_VERSION="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])' 2>/dev/null || echo 3)"
NEEDS=(
    "venv|required||python3-venv python${PY_VERSION}-venv"
    "Python headers|required||python3-dev python${PY_VERSION}-dev"
    "compiler|required||build-essential"
    "swig|required||swig"
    "pygame|pip installs pygame (its wheel brings SDL)|2.1|python3-pygame"
    "SDL mixer|pip's pygame brings its own|2.0|libsdl2-mixer-2.0-0 libsdl2-mixer-2.0-0t64"
    "spidev|pip installs spidev|3.0|python3-spidev"
    "lgpio|pip installs lgpio (its wheel, or built from source)||python3-lgpio liblgpio-dev"
    "gpiozero|pip installs gpiozero|2.0|python3-gpiozero"
    "ALSA tools|required||alsa-utils"
)
# The release packages are looked for on (VERSION_CODENAME of /etc/os-release).
os_codename() {
    local file
    file="$(dest /etc/os-release)"
    if [[ -r "$file" ]]; then
        sed -n 's/^VERSION_CODENAME=//p' "$file" | tr -d '"' | head -1
    fi
}
RELEASE="$(os_codename)"
RELEASE="${RELEASE:-this release}"
deb_version() {
    dpkg-query -W -f='${Status} ${Version}' "$1" 2>/dev/null | awk '/install ok installed/ { print $4 }'
}
apt_candidate() {
    apt-cache policy "$1" 2>/dev/null | awk '$1 == "Candidate:" && $2 != "(none)" { print $2; exit }'
}
# new_enough VERSION MIN: a Debian version at least MIN (any when MIN is empty).
new_enough() { [[ -z "$2" ]] || dpkg --compare-versions "$1" ge "$2"; }
# pick_installed MIN CANDIDATE...: the first candidate installed (new enough).
pick_installed() {
    local min="$1" pkg v
    shift
    for pkg in "$@"; do
        v="$(deb_version "$pkg")"
        if [[ -n "$v" ]] && new_enough "$v" "$min"; then echo "$pkg"; return 0; fi
    done
    return 1
}
# pick_available MIN CANDIDATE...: the first candidate apt offers (new enough); else fails,
# printing the candidates apt has in an older version ("pkg version", comma-separated).
pick_available() {
    local min="$1" pkg v seen=()
    shift
    for pkg in "$@"; do
        v="$(apt_candidate "$pkg")"
        [[ -n "$v" ]] || continue
        if new_enough "$v" "$min"; then echo "$pkg"; return 0; fi
        seen+=("$pkg $v")
    done
    (( ${#seen[@]} == 0 )) || (IFS=,; echo "${seen[*]}")
    return 1
}

say "Debian packages (for $RELEASE)"
APT_PACKAGES=()
missing_packages=()
unresolved=()
for need in "${NEEDS[@]}"; do
    IFS='|' read -r label _ min candidates <<<"$need"
    read -ra cands <<<"$candidates"
    if (( STAGED )); then
        APT_PACKAGES+=("${cands[0]}")
    elif pkg="$(pick_installed "$min" "${cands[@]}")"; then
        APT_PACKAGES+=("$pkg")
    else
        unresolved+=("$need")
    fi
done
if (( STAGED )); then
    missing_packages=("${APT_PACKAGES[@]}")
    note "would look each package up with apt-cache policy on $RELEASE"
elif (( ${#unresolved[@]} )); then
    sys apt-get update || note "apt-get update failed (no network?); looking in the package lists apt has"
    for need in "${unresolved[@]}"; do
        IFS='|' read -r label instead min candidates <<<"$need"
        read -ra cands <<<"$candidates"
        if found="$(pick_available "$min" "${cands[@]}")"; then
            APT_PACKAGES+=("$found")
            missing_packages+=("$found")
            continue
        fi
        if [[ -n "$found" ]]; then
            what="$label: $RELEASE has only $found (older than $min)"
        else
            what="$label: none of ${cands[*]} is packaged for $RELEASE"
        fi
        if [[ "$instead" == required ]]; then
            problem "$what; install it by hand (sudo apt-get install ${cands[0]}) and run the installer again"
        else
            note "$what; $instead"
        fi
    done
fi
if (( ${#missing_packages[@]} == 0 )); then
    note "all installed already: ${APT_PACKAGES[*]}"
elif ! sys env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing_packages[@]}"; then
    problem "could not install ${missing_packages[*]} on $RELEASE; connect the device to the network and run: sudo apt-get install ${missing_packages[*]}"
fi

# 2. The venv and the project. Without these there is nothing to run: a failure here stops.
if ! "$PYTHON" -c "import sys; sys.exit(sys.version_info < (${MIN_PYTHON/./, }))"; then
    die "$APP needs Python >= $MIN_PYTHON ($PYTHON is older); use Raspberry Pi OS Trixie (or Bookworm)"
fi
venv_dir="$(dest "$VENV")"
say "Python environment $VENV"
if [[ -x "$venv_dir/bin/python" && -x "$venv_dir/bin/pip" ]]; then
    note "reusing the existing venv"
else
    mkdir -p "$(dirname "$venv_dir")"
    "$PYTHON" -m venv --system-site-packages "$venv_dir" || die "could not create the venv $VENV (is python3-venv installed?)"
fi
# lgpio from PyPI is a source package for Python 3.13 (and for ARM) that links against the lgpio
# C library, which Raspberry Pi OS packages and plain Debian does not: with neither
# python3-lgpio nor liblgpio-dev, its setup.py is asked (PYPI=1) to build the C library into
# the module instead.
if (( ! STAGED )) && [[ " ${APT_PACKAGES[*]} " != *" python3-lgpio "* && " ${APT_PACKAGES[*]} " != *" liblgpio-dev "* ]]; then
    export PYPI=1
    note "no python3-lgpio or liblgpio-dev: if pip builds lgpio, it builds the C library into it (PYPI=1)"
fi
extras=$DRIVER
(( ! WEB )) || extras+=,web
(( ! MQTT )) || extras+=,mqtt
"$venv_dir/bin/pip" install --disable-pip-version-check --upgrade "${SOURCE}[${extras}]" \
    || die "pip could not install $APP into $VENV (above: why); without network, pip needs a wheelhouse: PIP_NO_INDEX=1 PIP_FIND_LINKS=DIR"
[[ -x "$venv_dir/bin/$APP" ]] || die "pip did not install the $APP command into $VENV/bin"

mkdir -p "$(dest "$(dirname "$BIN_LINK")")"
ln -sfn "$VENV/bin/$APP" "$(dest "$BIN_LINK")"
if [[ -d "$SOURCE/docs" ]]; then
    mkdir -p "$(dest "$OPT_DIR")/docs"
    cp -R "$SOURCE/docs/." "$(dest "$OPT_DIR")/docs/"
fi

# 3. The system user: no login, no home; its group owns the control socket and the state.
say "System user $APP"
manifest="$(dest "$MANIFEST")"
touch "$manifest"
remember() { grep -qxF "$1" "$manifest" || echo "$1" >>"$manifest"; }
# When staging we cannot know what exists on the target: print both as conditional.
for group in "${GROUPS_NEEDED[@]}"; do
    if (( STAGED )) || ! getent group "$group" >/dev/null; then
        if sys_if_missing "group $group" groupadd --system "$group"; then
            (( STAGED )) || remember "group $group"
        else
            problem "could not create the group $group: sudo groupadd --system $group"
        fi
    fi
done
if (( STAGED )) || ! id -u "$APP" >/dev/null 2>&1; then
    if sys_if_missing "user $APP" useradd --system --user-group --no-create-home \
            --home-dir /nonexistent --shell /usr/sbin/nologin "$APP"; then
        remember "user"
    else
        problem "could not create the user $APP"
    fi
fi
groups_csv="$(IFS=,; echo "${GROUPS_NEEDED[*]}")"
sys usermod --append --groups "$groups_csv" "$APP" || problem "could not add $APP to the groups $groups_csv"

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
    sys chgrp "$APP" "$CONF_FILE" || problem "could not give $CONF_FILE to the group $APP: sudo chgrp $APP $CONF_FILE"
    note "wrote the default configuration (driver = \"$DRIVER\")"
fi

CONFIG_OK=1
if ! "$venv_dir/bin/$APP" config check --config "$conf"; then
    CONFIG_OK=0
    note "warning: $CONF_FILE has errors (above); the service would exit 78 until they are fixed"
fi

# 5. The units.
say "Unit $UNIT_FILE (from $(basename "$UNIT_SOURCE"))"
mkdir -p "$(dest "$UNIT_DIR")"
install -m 0644 "$UNIT_SOURCE" "$(dest "$UNIT_FILE")"
EXTRA_UNITS=()
add_companion() {
    local unit="$1" flag="$2"
    if [[ -f "$SCRIPT_DIR/$unit" ]]; then
        say "Unit $UNIT_DIR/$unit ($flag)"
        install -m 0644 "$SCRIPT_DIR/$unit" "$(dest "$UNIT_DIR/$unit")"
        EXTRA_UNITS+=("$unit")
    else
        problem "$flag: this checkout has no systemd/$unit; update it (git pull) and run the installer again"
    fi
}
(( ! WEB )) || add_companion "$WEB_UNIT" --web

# The web page's token: 32 random bytes as hex, readable by root and the breathring group only.
# An existing token is kept (phones already hold it); delete the file to make a new one.
readonly WEB_TOKEN=$CONF_DIR/web.token
TOKEN_BYTES=32
if (( WEB )); then
    token_file="$(dest "$WEB_TOKEN")"
    if [[ -s "$token_file" ]]; then
        note "keeping the web token $WEB_TOKEN"
    else
        say "Web token $WEB_TOKEN (0640 root:$APP)"
        mkdir -p "$(dirname "$token_file")"
        (umask 077 && od -An -vtx1 -N"$TOKEN_BYTES" /dev/urandom | tr -d ' \n' >"$token_file") \
            || problem "could not write $WEB_TOKEN; make one: head -c $TOKEN_BYTES /dev/urandom | od -An -vtx1 | tr -d ' \\n' | sudo install -m 0640 -g $APP /dev/stdin $WEB_TOKEN"
        chmod 0640 "$token_file"
        sys chgrp "$APP" "$WEB_TOKEN" || problem "could not give $WEB_TOKEN to the $APP group: sudo chgrp $APP $WEB_TOKEN"
    fi
    note "open the page on your phone: $APP web --url (prints the address and a QR code)"
fi
(( ! MQTT )) || add_companion "$MQTT_UNIT" --mqtt

# 5b. The breath sensor. A radar on a serial port: the unit (DevicePolicy=closed) gets that one
#     device and the group that may open it, in a drop-in this installer owns (rewritten or removed
#     at every install), and the Pi's UART is freed of the kernel's serial console. What the
#     config says is read through the product (`config show`: its defaults and spellings).
config_value() {
    "$venv_dir/bin/$APP" config show --config "$conf" 2>/dev/null | awk -v want="[$1]" -v key="$2" '
        /^\[/ { section = $0; next }
        section == want && $1 == key { sub(/^[^=]*=[ \t]*/, ""); gsub(/^"|"$/, ""); print; exit }'
}

# free_uart DEVICE: the Pi's own UART without the serial console (raspi-config; a reboot is due).
free_uart() {
    local device="$1"
    case "$device" in
        /dev/serial0|/dev/serial1|/dev/ttyAMA*|/dev/ttyS0) ;;
        *)
            note "$device is not the Pi's own UART: boot settings left alone"
            return
            ;;
    esac
    if (( ! BOOT_CONFIG )); then
        note "--no-boot-config: the UART left as it is (it needs enable_uart=1 and no console=serial0 in cmdline.txt)"
        return
    fi
    if (( ! STAGED )) && ! command -v raspi-config >/dev/null; then
        problem "no raspi-config: free the UART by hand: enable_uart=1 in config.txt, remove console=serial0,115200 from cmdline.txt, then reboot"
        return
    fi
    # Console off the UART (no login shell, no kernel messages), the UART itself on.
    if sys raspi-config nonint do_serial_cons 1 && sys raspi-config nonint do_serial_hw 0; then
        if (( ! STAGED )) && { [[ ! -e "$device" ]] \
                || grep -Eq '(^| )console=(serial[01]|ttyAMA[0-9]|ttyS0)' /proc/cmdline; }; then
            REBOOT_DUE=1
        fi
    else
        problem "raspi-config could not free the UART: sudo raspi-config (Interface Options, Serial Port: login shell no, serial hardware yes), then reboot"
    fi
}

sensor_kind=""
sensor_device=""
if (( CONFIG_OK )); then
    sensor_kind="$(config_value breath_sensor kind || true)"
    sensor_device="$(config_value breath_sensor device || true)"
fi
dropin="$(dest "$SENSOR_DROPIN")"
if [[ -n "$sensor_kind" && " ${SERIAL_KINDS[*]} " == *" $sensor_kind "* && -n "$sensor_device" ]]; then
    say "Breath sensor: $sensor_kind on $sensor_device ($SENSOR_DROPIN)"
    mkdir -p "$(dirname "$dropin")"
    cat >"$dropin" <<EOF
# Written by install.sh for [breath_sensor] kind = "$sensor_kind" in $CONF_FILE: the radar's
# serial port, and nothing else. The next install rewrites or removes this file; put your own
# changes in another drop-in (sudo systemctl edit breathring).
[Service]
DeviceAllow=$sensor_device rw
SupplementaryGroups=$SERIAL_GROUP
EOF
    chmod 0644 "$dropin"
    if (( ! STAGED )) && ! getent group "$SERIAL_GROUP" >/dev/null; then
        problem "no group $SERIAL_GROUP (it owns the serial ports): sudo groupadd --system $SERIAL_GROUP, then install again"
    fi
    free_uart "$sensor_device"
elif [[ -f "$dropin" ]]; then
    rm -f "$dropin"
    rmdir "$(dirname "$dropin")" 2>/dev/null || true
    note "removed $SENSOR_DROPIN: no serial breath sensor in $CONF_FILE"
fi

# 6. The LED interface.
case "$DRIVER" in
    spi)
        say "SPI for the LED data (GPIO10)"
        if (( STAGED )) || command -v raspi-config >/dev/null; then
            sys raspi-config nonint do_spi 0 || problem "raspi-config could not turn SPI on: sudo raspi-config (Interface Options, SPI)"
        fi
        # The SPI clock the model needs (config.txt, cmdline.txt): `breathring boot-config --fix`.
        if (( BOOT_CONFIG )) && [[ -z "$(boot_config_txt)" ]]; then
            note "no config.txt in ${BOOT_DIRS[*]}: not a Raspberry Pi OS boot partition; SPI clock left alone"
        elif (( BOOT_CONFIG )) && (( STAGED )) && [[ -z "$model" ]]; then
            note "no model in $(dest /proc/device-tree/model): SPI clock left alone"
        elif (( BOOT_CONFIG )) && [[ -x "$venv_dir/bin/$APP" ]]; then
            boot_args=(--fix --driver "$DRIVER")
            (( ! STAGED )) || boot_args+=(--model "$model")
            boot_rc=0
            boot_out="$(BREATHRING_CONFIG="$conf" boot_config_cmd "${boot_args[@]}" 2>&1)" || boot_rc=$?
            printf '%s\n' "$boot_out" | sed 's/^/    /'
            if (( boot_rc == 0 )); then
                ! grep -q 'a reboot is due' <<<"$boot_out" || REBOOT_DUE=1
            else
                note "SPI clock settings left alone (above: why)"
            fi
        elif (( BOOT_CONFIG )); then
            problem "no $VENV/bin/$APP: SPI clock not set; after fixing the install: sudo $VENV/bin/$APP boot-config --fix"
        else
            note "--no-boot-config: config.txt and cmdline.txt left alone"
        fi
        ;;
    pwm)
        say "pwm driver: the service runs as root (breathring-root.service)"
        note "PWM on GPIO18/12 takes the analog audio output: use a USB, HDMI or I2S speaker"
        ;;
    pi5)
        say "pi5 driver: the RP1's PIO through /dev/pio0"
        if (( ! STAGED )) && [[ ! -e /dev/pio0 ]]; then
            problem "/dev/pio0 is missing: update the firmware and kernel (sudo apt full-upgrade), then reboot"
        fi
        ;;
esac

# What the service will need at its start: say now what is missing and how to fix it.
if (( ! STAGED )); then
    case "$DRIVER" in
        spi)
            if [[ ! -e /dev/spidev0.0 ]]; then
                if (( REBOOT_DUE )); then
                    problem "no /dev/spidev0.0 yet: SPI was just turned on; reboot (sudo reboot)"
                else
                    problem "no /dev/spidev0.0 (no SPI, so no ring): turn SPI on (sudo raspi-config, Interface Options, SPI) and reboot, or set [ring] driver = \"none\" in $CONF_FILE if no ring is wired"
                fi
            fi
            ;;
    esac
    if ! compgen -G "/dev/gpiochip*" >/dev/null; then
        problem "no /dev/gpiochip*: the button cannot be read; this kernel has no GPIO chip"
    fi
    if [[ ! -d /dev/snd ]] || ! grep -q '[0-9] \[' /proc/asound/cards 2>/dev/null; then
        problem "no sound card: the cues will be silent (the service carries on); plug in a speaker or set [audio] enabled = false"
    fi
fi

# 7. systemd.
say "systemd"
sys systemctl daemon-reload || problem "systemctl daemon-reload failed (is systemd running?)"
sys systemctl enable "$UNIT_NAME" "${EXTRA_UNITS[@]}" || problem "could not enable $UNIT_NAME ${EXTRA_UNITS[*]}"
if (( START && CONFIG_OK )); then
    if ! sys systemctl restart "$UNIT_NAME" "${EXTRA_UNITS[@]}"; then
        problem "$APP did not start; why: systemctl status $APP; journalctl -u $APP -b (it retries by itself; fix what is listed here, then: sudo systemctl restart $APP)"
        if (( ! STAGED )); then
            journalctl -u "$UNIT_NAME" -b -n 5 --no-pager -o cat 2>/dev/null | sed 's/^/      /' || true
        fi
    fi
elif (( START )); then
    note "not started: fix $CONF_FILE, then: sudo systemctl restart $APP"
else
    note "not started (--no-start); start it with: sudo systemctl start $APP"
fi

if (( ${#PROBLEMS[@]} )); then
    say "Installed, but the service cannot work fully yet:"
    for p in "${PROBLEMS[@]}"; do
        note "- $p"
    done
else
    say "Done."
fi
if (( REBOOT_DUE )); then
    say "A reboot is due for the new boot settings: sudo reboot"
fi
note "Status:  systemctl status $APP      Log: journalctl -u $APP -f"
note "Config:  $CONF_FILE (then: sudo systemctl reload $APP)"
note "Control without sudo: sudo usermod -aG $APP \$USER (then log in again)"
exit 0
