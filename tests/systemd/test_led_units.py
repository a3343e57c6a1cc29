"""The systemd units: key settings, agreement with the code, `systemd-analyze` verify and security.

The two `systemd-analyze` tests skip when the tool is absent (install it with
`apt-get install systemd`; it works on unit files without a running systemd).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.units import EXEC, HARDENED_EVERYWHERE, UNIT_DIR, Unit, one, parse_unit

from breathring import config, state
from breathring.control import protocol as control_protocol

MAIN_UNIT = UNIT_DIR / "breathring.service"
ROOT_UNIT = UNIT_DIR / "breathring-root.service"
VARIANTS = (MAIN_UNIT, ROOT_UNIT)

EXEC_START = f"{EXEC} run --hardware pi"
RUN_DIR = "/run/breathring"

#: systemd-analyze security exposure ceilings (0 = locked down, 10 = exposed), set to the
#: figures the units reach with systemd 252 (0.7 and 1.2), so that losing a hardening line
#: fails: removing any one of 23 of its 29 hardening lines raises the score by 0.1-2.0
#: (the other six do not move the rounded score; HARDENING_YES checks most of them by name).
#: Allowing setpriority (for SDL's audio thread) costs 0.1 on both.
MAX_EXPOSURE_UNPRIVILEGED = 0.7
MAX_EXPOSURE_ROOT = 1.2

#: Settings the two variants may differ in (everything else must be identical).
ROOT_VARIANT_DIFFERENCES = {
    ("Unit", "Description"),
    ("Service", "User"),
    ("Service", "SupplementaryGroups"),
    ("Service", "CapabilityBoundingSet"),
    ("Service", "DeviceAllow"),
}

HARDENING_YES = (*HARDENED_EVERYWHERE, "PrivateNetwork")


def words(unit: Unit, section: str, key: str) -> list[str]:
    """All space-separated words of every assignment of a list-valued key."""
    return [w for v in unit.get((section, key), []) for w in v.split()]


def environment(unit: Unit) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in unit.get(("Service", "Environment"), []):
        name, sep, val = value.partition("=")
        assert sep, f"Environment={value} has no '='"
        env[name] = val
    return env


@pytest.fixture(scope="module")
def main() -> Unit:
    return parse_unit(MAIN_UNIT)


@pytest.fixture(scope="module")
def root() -> Unit:
    return parse_unit(ROOT_UNIT)


# --- the service contract ----------------------------------------------------------------------


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_service_lifecycle(path: Path) -> None:
    unit = parse_unit(path)
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "NotifyAccess") == "main"
    assert one(unit, "Service", "ExecStart") == EXEC_START
    assert one(unit, "Service", "WatchdogSec") == "30"
    assert one(unit, "Service", "TimeoutStopSec") == "5"
    assert one(unit, "Service", "KillSignal") == "SIGTERM"
    assert one(unit, "Service", "Restart") == "on-failure"
    assert one(unit, "Service", "RestartSec") == "2"
    assert one(unit, "Install", "WantedBy") == "multi-user.target"


#: Every unit we ship: the LED service's two variants and the web / MQTT companions (when present).
#: The LED service's units (the companions, web and mqtt, read their files only at start:
#: a restart is their reload).
LED_UNITS = [UNIT_DIR / "breathring.service", UNIT_DIR / "breathring-root.service"]
RELOAD = "/bin/kill -HUP $MAINPID"


@pytest.mark.parametrize("path", LED_UNITS, ids=lambda p: p.name)
def test_every_unit_reloads_with_sighup(path: Path) -> None:
    """`systemctl reload` must work (issue 10, bug 13): SIGHUP to the main process."""
    assert one(parse_unit(path), "Service", "ExecReload") == RELOAD


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_restart_policy_for_exit_codes(path: Path) -> None:
    """78 (bad config) is final; 69 (hardware unavailable) is retried, but not forever."""
    unit = parse_unit(path)
    prevent = words(unit, "Service", "RestartPreventExitStatus")
    assert "78" in prevent
    assert "69" not in prevent
    burst = int(one(unit, "Unit", "StartLimitBurst"))
    interval = int(one(unit, "Unit", "StartLimitIntervalSec"))
    restart_sec = int(one(unit, "Service", "RestartSec"))
    # Several retries ride out a slow udev at boot; a ring that stays missing hits the limit.
    assert burst >= 3
    assert burst * restart_sec < interval


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_environment_and_directories(path: Path) -> None:
    unit = parse_unit(path)
    env = environment(unit)
    assert env["BREATHRING_CONFIG"] == "/etc/breathring/config.toml"
    assert env["SDL_AUDIODRIVER"] == "alsa"
    assert env["PYTHONUNBUFFERED"] == "1"
    for key in ("StateDirectory", "RuntimeDirectory", "ConfigurationDirectory"):
        assert one(unit, "Service", key) == "breathring"
    # lgpio writes its FIFOs to LG_WD and opens them relative to the working directory:
    # both must be the (writable) runtime directory.
    assert env["LG_WD"] == RUN_DIR
    assert one(unit, "Service", "WorkingDirectory") == RUN_DIR
    assert one(unit, "Service", "Group") == "breathring"


def test_unit_agrees_with_the_code(main: Unit) -> None:
    """The paths systemd hands over are the ones the code falls back to."""
    env = environment(main)
    assert config.CONFIG_ENV in env
    assert Path(env[config.CONFIG_ENV]) == config.DEFAULT_CONFIG_PATH
    run_dir = f"/run/{one(main, 'Service', 'RuntimeDirectory')}"
    runtime_env = {control_protocol.RUNTIME_DIRECTORY_ENV: run_dir}
    assert control_protocol.socket_path_from(None, runtime_env) == control_protocol.DEFAULT_SOCKET
    state_dir = f"/var/lib/{one(main, 'Service', 'StateDirectory')}"
    assert state.state_dir_from({state.STATE_DIR_ENV: state_dir}) == state.DEFAULT_STATE_DIR


# --- the unprivileged unit --------------------------------------------------------------------


def test_main_unit_runs_unprivileged(main: Unit) -> None:
    assert one(main, "Service", "User") == "breathring"
    assert set(words(main, "Service", "SupplementaryGroups")) == {"spi", "gpio", "audio"}
    assert one(main, "Service", "CapabilityBoundingSet") == ""
    assert one(main, "Service", "AmbientCapabilities") == ""


def test_main_unit_device_access(main: Unit) -> None:
    assert one(main, "Service", "DevicePolicy") == "closed"
    allowed = main[("Service", "DeviceAllow")]
    assert sorted(allowed) == sorted(
        ["char-spi rw", "char-gpiochip rw", "char-alsa rw", "char-rp1-pio rw"]
    )


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_hardening(path: Path) -> None:
    unit = parse_unit(path)
    for key in HARDENING_YES:
        assert one(unit, "Service", key) == "yes", key
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "ProtectProc") == "invisible"
    assert one(unit, "Service", "RestrictAddressFamilies") == "AF_UNIX"
    assert one(unit, "Service", "IPAddressDeny") == "any"
    assert one(unit, "Service", "SystemCallArchitectures") == "native"
    assert unit[("Service", "SystemCallFilter")] == [
        "@system-service",
        "~@privileged @resources",
        "setpriority",
    ]
    # SDL raises its audio thread to nice -20: setpriority is allowed back, and RLIMIT_NICE
    # lets our own threads go that far (nice -20 = rlimit 40); real time stays denied.
    assert one(unit, "Service", "LimitNICE") == "-20"
    assert one(unit, "Service", "RestrictRealtime") == "yes"
    # Any other denied call must get EPERM, not SIGSYS.
    assert one(unit, "Service", "SystemCallErrorNumber") == "EPERM"
    assert int(one(unit, "Service", "UMask"), 8) & 0o007 == 0o007
    assert one(unit, "Service", "NoNewPrivileges") == "yes"


@pytest.mark.parametrize("path", VARIANTS, ids=lambda p: p.name)
def test_settings_that_would_break_the_hardware_are_absent(path: Path) -> None:
    """PrivateDevices hides /dev/spidev0.0 etc.; PrivateUsers drops the device groups;
    ProcSubset=pid hides /proc/cpuinfo and /proc/device-tree that board detection reads."""
    unit = parse_unit(path)
    assert ("Service", "PrivateDevices") not in unit
    assert ("Service", "PrivateUsers") not in unit
    assert ("Service", "ProcSubset") not in unit
    assert ("Service", "DynamicUser") not in unit


# --- the root (pwm) unit ----------------------------------------------------------------------


def test_root_unit_keeps_only_raw_io(root: Unit) -> None:
    assert ("Service", "User") not in root  # uid 0: owner of /dev/mem
    assert one(root, "Service", "CapabilityBoundingSet") == "CAP_SYS_RAWIO"
    assert one(root, "Service", "AmbientCapabilities") == ""
    assert ("Service", "SupplementaryGroups") not in root
    assert one(root, "Service", "DevicePolicy") == "closed"
    allowed = root[("Service", "DeviceAllow")]
    assert "/dev/mem rw" in allowed
    assert "/dev/vcio rw" in allowed
    assert "char-mem rw" not in allowed  # that would add /dev/port and /dev/kmem


def test_variants_differ_only_where_documented(main: Unit, root: Unit) -> None:
    differing = {key for key in main.keys() | root.keys() if main.get(key) != root.get(key)}
    assert differing <= ROOT_VARIANT_DIFFERENCES, differing - ROOT_VARIANT_DIFFERENCES
