"""systemd/breathring-mqtt.service: network allowed, nothing else (verify: test_verify.py)."""

from __future__ import annotations

from testkit.units import EXEC, UNIT_DIR, keys_anywhere, parse_unit

UNIT = UNIT_DIR / "breathring-mqtt.service"


def settings() -> dict[str, list[str]]:
    return keys_anywhere(parse_unit(UNIT))


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
