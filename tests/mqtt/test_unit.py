"""systemd/breathring-mqtt.service: network allowed, nothing else; verify and exposure."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "breathring-mqtt.service"
EXEC = "/opt/breathring/venv/bin/breathring"
#: `systemd-analyze security --offline=true` with systemd 252 gives 1.2; losing a line fails.
MAX_EXPOSURE = 1.2
ANALYZE = shutil.which("systemd-analyze")
needs_analyze = pytest.mark.skipif(ANALYZE is None, reason="systemd-analyze not installed")


def settings() -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for raw in UNIT.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            found.setdefault(key, []).append(value)
    return found


def test_runs_the_bridge_and_stops_retrying_bad_config() -> None:
    s = settings()
    assert s["ExecStart"] == [f"{EXEC} mqtt --socket /run/breathring/control.sock"]
    assert s["RestartPreventExitStatus"] == ["78"]
    assert s["Restart"] == ["on-failure"]
    assert s["Environment"][0] == "BREATHRING_CONFIG=/etc/breathring/config.toml"


def test_network_but_nothing_else() -> None:
    s = settings()
    assert s["RestrictAddressFamilies"] == ["AF_UNIX AF_INET AF_INET6"]
    assert "PrivateNetwork" not in s
    assert s["SupplementaryGroups"] == ["breathring"]  # the control socket's group
    assert s["DynamicUser"] == ["yes"]
    for key in ("PrivateDevices", "NoNewPrivileges", "ProtectHome", "MemoryDenyWriteExecute"):
        assert s[key] == ["yes"], key
    assert s["ProtectSystem"] == ["strict"]
    assert s["CapabilityBoundingSet"] == [""]
    assert "WantedBy" in s  # installable, but off until enabled (install.sh --mqtt)


@needs_analyze
def test_systemd_analyze_verify_is_clean(tmp_path: Path) -> None:
    base = next(
        (
            d
            for d in (Path("/usr/lib/systemd/system"), Path("/lib/systemd/system"))
            if (d / "multi-user.target").is_file()
        ),
        None,
    )
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
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "verify", f"--root={root}", UNIT.name],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr


@needs_analyze
def test_exposure() -> None:
    assert ANALYZE is not None
    result = subprocess.run(
        [ANALYZE, "security", "--offline=true", str(UNIT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if "offline" in result.stderr and "unrecognized" in result.stderr:
        pytest.skip("systemd-analyze is too old for --offline (needs systemd 250)")
    match = re.search(r"Overall exposure level for \S+: (\d+(?:\.\d+)?)", result.stdout)
    assert match, result.stdout + result.stderr
    assert float(match.group(1)) <= MAX_EXPOSURE
