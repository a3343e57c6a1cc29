"""systemd unit files in tests: one parser, and `systemd-analyze` verify and security."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
from testkit.paths import ROOT

Unit = dict[tuple[str, str], list[str]]
#: The unit files install.sh installs.
UNIT_DIR = ROOT / "systemd"
#: Hardening every unit sets to "yes" (each adds its own: PrivateNetwork, PrivateDevices...).
HARDENED_EVERYWHERE = (
    "NoNewPrivileges",
    "ProtectHome",
    "PrivateTmp",
    "PrivateMounts",
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
)


def parse_unit(path: Path) -> Unit:
    """(section, key) -> every value in order; repeated keys (DeviceAllow=...) accumulate."""
    unit: Unit = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        assert not line.endswith("\\"), f"{path.name}: continuation lines are not used: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {raw!r}"
        unit.setdefault((section, key.strip()), []).append(value.strip())
    return unit


def one(unit: Unit, section: str, key: str) -> str:
    """The one value of `[section] key=`; fails if it is missing or set more than once."""
    values = unit.get((section, key))
    assert values is not None, f"[{section}] {key}= is missing"
    assert len(values) == 1, f"[{section}] {key}= is set {len(values)} times: {values}"
    return values[0]


def keys_anywhere(unit: Unit) -> dict[str, list[str]]:
    """key -> every value, whatever its section."""
    found: dict[str, list[str]] = {}
    for (_section, key), values in unit.items():
        found.setdefault(key, []).extend(values)
    return found


ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")
SYSTEM_UNIT_DIRS = (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
#: Where install.sh puts the program every unit runs.
EXEC = "/opt/breathring/venv/bin/breathring"


def analyze(*args: str) -> subprocess.CompletedProcess[str]:
    """`systemd-analyze ARGS`."""
    assert ANALYZE is not None
    return subprocess.run(
        [ANALYZE, *args], capture_output=True, text=True, timeout=120, check=False
    )


def fake_root(tmp_path: Path, unit: Path, with_exec: bool) -> Path:
    """A root with the unit, the distribution's units (targets) and, optionally, ExecStart."""
    base = next((d for d in SYSTEM_UNIT_DIRS if (d / "multi-user.target").is_file()), None)
    if base is None:
        pytest.skip("no distribution unit directory to verify against")
    root = tmp_path / "root"
    shutil.copytree(base, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    if with_exec:
        exe = root / EXEC.lstrip("/")
        exe.parent.mkdir(parents=True)
        exe.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        exe.chmod(0o755)
        kill = root / "bin" / "kill"  # ExecReload's command, as on every Debian system
        kill.parent.mkdir(parents=True)
        kill.write_text("#!/bin/sh\nexit 0\n", encoding="utf-8")
        kill.chmod(0o755)
    return root


def exposure(path: Path) -> float:
    """The overall exposure `systemd-analyze security --offline` gives the unit."""
    result = analyze("security", "--offline=true", str(path))
    if "offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze is too old for --offline (needs systemd 250)")
    match = re.search(
        rf"Overall exposure level for {re.escape(path.name)}: (\d+(?:\.\d+)?)", result.stdout
    )
    assert match, result.stdout + result.stderr
    return float(match.group(1))
