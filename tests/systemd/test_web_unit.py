"""systemd/breathring-web.service: what it runs and its hardening (verify: test_verify.py)."""

from __future__ import annotations

from testkit.units import EXEC, HARDENED_EVERYWHERE, UNIT_DIR, one, parse_unit

UNIT = UNIT_DIR / "breathring-web.service"


def test_runs_breathring_web_unprivileged() -> None:
    unit = parse_unit(UNIT)
    start = one(unit, "Service", "ExecStart").split()
    assert start[:2] == [EXEC, "web"]
    assert start[start.index("--token-file") + 1] == "/etc/breathring/web.token"
    assert one(unit, "Service", "User") == "breathring"
    assert one(unit, "Service", "Group") == "breathring"
    assert one(unit, "Service", "Type") == "notify"
    assert one(unit, "Service", "RestartPreventExitStatus") == "78"
    # /run/breathring is the LED service's: a RuntimeDirectory here would delete its socket.
    assert ("Service", "RuntimeDirectory") not in unit
    assert ("Service", "StateDirectory") not in unit


def test_hardening() -> None:
    unit = parse_unit(UNIT)
    for key in (*HARDENED_EVERYWHERE, "PrivateDevices", "PrivateUsers"):
        assert one(unit, "Service", key) == "yes", key
    assert one(unit, "Service", "CapabilityBoundingSet") == ""
    assert one(unit, "Service", "ProtectSystem") == "strict"
    assert one(unit, "Service", "ProcSubset") == "pid"
    assert one(unit, "Service", "RestrictAddressFamilies").split() == [
        "AF_UNIX",
        "AF_INET",
        "AF_INET6",
    ]
    assert one(unit, "Service", "IPAddressDeny") == "any"
    assert "192.168.0.0/16" in one(unit, "Service", "IPAddressAllow").split()
    assert unit[("Service", "SystemCallFilter")] == ["@system-service", "~@privileged @resources"]
    assert ("Service", "PrivateNetwork") not in unit  # it is the network service
