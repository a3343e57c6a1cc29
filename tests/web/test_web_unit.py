"""systemd/breathring-web.service: what it runs, its hardening, systemd-analyze on it."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.units import Unit, parse_unit

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "breathring-web.service"
EXEC = "/opt/breathring/venv/bin/breathring"
#: The figure the unit reaches with systemd 252 (issue 11 asks for <= 2.5): losing a
#: hardening line fails this.
MAX_EXPOSURE = 1.0
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))


def one(unit: Unit, key: str) -> str:
    values = unit[("Service", key)]
    assert len(values) == 1, key
    return values[0]


def test_runs_breathring_web_unprivileged() -> None:
    unit = parse_unit(UNIT)
    start = one(unit, "ExecStart").split()
    assert start[:2] == [EXEC, "web"]
    assert start[start.index("--token-file") + 1] == "/etc/breathring/web.token"
    assert one(unit, "User") == "breathring"
    assert one(unit, "Group") == "breathring"
    assert one(unit, "Type") == "notify"
    assert one(unit, "RestartPreventExitStatus") == "78"
    # /run/breathring is the LED service's: a RuntimeDirectory here would delete its socket.
    assert ("Service", "RuntimeDirectory") not in unit
    assert ("Service", "StateDirectory") not in unit


def test_hardening() -> None:
    unit = parse_unit(UNIT)
    for key in (
        "NoNewPrivileges",
        "ProtectHome",
        "PrivateTmp",
        "PrivateDevices",
        "PrivateUsers",
        "ProtectKernelTunables",
        "ProtectKernelModules",
        "ProtectKernelLogs",
        "ProtectControlGroups",
        "ProtectClock",
        "ProtectHostname",
        "RestrictNamespaces",
        "RestrictRealtime",
        "RestrictSUIDSGID",
        "LockPersonality",
        "MemoryDenyWriteExecute",
        "RemoveIPC",
        "PrivateMounts",
    ):
        assert one(unit, key) == "yes", key
    assert one(unit, "CapabilityBoundingSet") == ""
    assert one(unit, "ProtectSystem") == "strict"
    assert one(unit, "ProcSubset") == "pid"
    assert one(unit, "RestrictAddressFamilies").split() == ["AF_UNIX", "AF_INET", "AF_INET6"]
    assert one(unit, "IPAddressDeny") == "any"
    assert "192.168.0.0/16" in one(unit, "IPAddressAllow").split()
    assert unit[("Service", "SystemCallFilter")] == ["@system-service", "~@privileged @resources"]
    assert ("Service", "PrivateNetwork") not in unit  # it is the network service


def _analyze(*args: str) -> subprocess.CompletedProcess[str]:
    assert ANALYZE is not None
    return subprocess.run([ANALYZE, *args], capture_output=True, text=True, timeout=120)


@needs_analyze
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    base = next((d for d in SYSTEM_UNIT_DIRS if (d / "multi-user.target").is_file()), None)
    if base is None:
        pytest.skip("no distribution unit directory to verify against")
    root = tmp_path / "root"
    shutil.copytree(base, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(UNIT, root / "etc/systemd/system" / UNIT.name)
    exe = root / EXEC.lstrip("/")
    exe.parent.mkdir(parents=True)
    exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
    exe.chmod(0o755)
    result = _analyze("verify", f"--root={root}", UNIT.name)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr


@needs_analyze
def test_exposure() -> None:
    result = _analyze("security", "--offline=true", str(UNIT))
    if "offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze is too old for --offline (needs systemd 250)")
    match = re.search(
        r"Overall exposure level for breathring-web.service: (\d+\.\d+)", result.stdout
    )
    assert match, result.stdout[-500:] + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE
