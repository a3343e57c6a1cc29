"""Every systemd unit passes `systemd-analyze verify` and stays under its exposure ceiling."""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.units import EXEC, UNIT_DIR, analyze, exposure, fake_root, needs_analyze

#: Every unit install.sh installs, and the highest `security --offline` exposure each may have
#: (the figures the units reach with systemd 252, docs/reliability.md): losing a hardening
#: line fails this.
MAX_EXPOSURE = {
    "breathring.service": 0.7,
    "breathring-root.service": 1.2,
    "breathring-web.service": 1.0,
    "breathring-mqtt.service": 1.2,
}
UNITS = [UNIT_DIR / name for name in MAX_EXPOSURE]


@needs_analyze
@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_systemd_analyze_verify_is_clean(path: Path, tmp_path: Path) -> None:
    """Verified inside a temporary --root that holds a stand-in ExecStart, so no complaint at
    all is accepted (outside such a root, the only one would be the missing executable)."""
    root = fake_root(tmp_path, path, with_exec=True)
    result = analyze("verify", f"--root={root}", path.name)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr
    assert result.stdout.strip() == "", result.stdout


@needs_analyze
def test_systemd_analyze_verify_notices_a_missing_executable(tmp_path: Path) -> None:
    """The check above can fail: the same root without ExecStart's file is rejected."""
    unit = UNIT_DIR / "breathring.service"
    root = fake_root(tmp_path, unit, with_exec=False)
    result = analyze("verify", f"--root={root}", unit.name)
    assert result.returncode != 0
    assert f"Command {EXEC} is not executable" in result.stderr


@needs_analyze
@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_exposure(path: Path) -> None:
    assert exposure(path) <= MAX_EXPOSURE[path.name]
