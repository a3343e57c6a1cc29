"""systemd/breathring-mqtt.service: network allowed, nothing else (verify: test_verify.py)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "breathring-mqtt.service"
EXEC = "/opt/breathring/venv/bin/breathring"


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
