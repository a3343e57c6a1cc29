"""systemd/breathring-web.service: what it runs and its hardening (verify: test_verify.py)."""

from __future__ import annotations

from pathlib import Path

from testkit.units import Unit, parse_unit

ROOT = Path(__file__).resolve().parents[2]
UNIT = ROOT / "systemd" / "breathring-web.service"
EXEC = "/opt/breathring/venv/bin/breathring"


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
