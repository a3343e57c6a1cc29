"""sd_notify: messages reach a real datagram socket; watchdog pacing; no-op without systemd."""

from __future__ import annotations

import logging
import math
import os
import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from breathring.systemd import Notifier

RECV_TIMEOUT_S = 1.0
WATCHDOG_USEC = "4000000"  # 4 s timeout -> ping every 2 s


@pytest.fixture
def listener(short_dir: Path) -> Iterator[tuple[socket.socket, str]]:
    """A bound datagram socket standing in for systemd, and its NOTIFY_SOCKET value."""
    path = short_dir / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.settimeout(RECV_TIMEOUT_S)
    yield sock, str(path)
    sock.close()


def received(sock: socket.socket) -> list[str]:
    """Every datagram waiting on `sock`, without blocking."""
    out: list[str] = []
    sock.setblocking(False)
    try:
        while True:
            out.append(sock.recv(4096).decode())
    except BlockingIOError:
        pass
    finally:
        sock.settimeout(RECV_TIMEOUT_S)
    return out


def test_ready_status_stopping_reach_filesystem_socket(listener):
    sock, path = listener
    with Notifier.from_env({"NOTIFY_SOCKET": path}) as n:
        assert n.enabled
        n.ready()
        n.status("idle")
        n.stopping()
    assert received(sock) == ["READY=1", "STATUS=idle", "STOPPING=1"]


def test_abstract_socket():
    name = f"breathring-test-{secrets.token_hex(6)}"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(RECV_TIMEOUT_S)
    try:
        with Notifier.from_env({"NOTIFY_SOCKET": "@" + name}) as n:
            n.ready()
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


def test_status_sent_only_when_changed(listener):
    sock, path = listener
    with Notifier.from_env({"NOTIFY_SOCKET": path}) as n:
        for text in ("idle", "idle", "session 1/3", "session 1/3", "idle"):
            n.status(text)
    assert received(sock) == ["STATUS=idle", "STATUS=session 1/3", "STATUS=idle"]


def test_status_newlines_cannot_inject_assignments(listener):
    sock, path = listener
    with Notifier.from_env({"NOTIFY_SOCKET": path}) as n:
        n.status("bad\nREADY=1")
    assert received(sock) == ["STATUS=bad READY=1"]


def test_noop_without_notify_socket():
    n = Notifier.from_env({}, pid=1)
    assert not n.enabled
    n.ready()
    n.status("x")
    n.watchdog(0.0)
    n.stopping()
    assert n.watchdog_interval() is None
    assert n.next_watchdog_deadline() is None
    assert n._sock is None  # no socket was even created


def test_watchdog_needs_notify_socket():
    n = Notifier.from_env({"WATCHDOG_USEC": WATCHDOG_USEC}, pid=1)
    assert n.watchdog_interval() is None


def test_watchdog_interval_is_half_the_timeout(listener):
    _sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": WATCHDOG_USEC}
    assert Notifier.from_env(env, pid=42).watchdog_interval() == pytest.approx(2.0)


@pytest.mark.parametrize(
    ("watchdog_pid", "expected"),
    [("42", 2.0), ("43", None), (None, 2.0), ("", 2.0), ("nope", None)],
)
def test_watchdog_pid_must_match(listener, watchdog_pid, expected):
    _sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": WATCHDOG_USEC}
    if watchdog_pid is not None:
        env["WATCHDOG_PID"] = watchdog_pid
    assert Notifier.from_env(env, pid=42).watchdog_interval() == expected


def test_watchdog_pid_defaults_to_our_pid(listener):
    _sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": WATCHDOG_USEC, "WATCHDOG_PID": str(os.getpid())}
    assert Notifier.from_env(env).watchdog_interval() == pytest.approx(2.0)


@pytest.mark.parametrize("usec", ["0", "-5", "abc", ""])
def test_bad_watchdog_usec_disables_watchdog(listener, usec):
    _sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": usec}
    assert Notifier.from_env(env, pid=1).watchdog_interval() is None


def test_watchdog_pacing(listener):
    sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": WATCHDOG_USEC}
    with Notifier.from_env(env, pid=1) as n:
        assert n.next_watchdog_deadline() == -math.inf  # due at once
        sent_at = []
        for mono in (100.0, 100.5, 101.9, 102.0, 102.1, 103.99, 104.0, 110.0):
            n.watchdog(mono)
            messages = received(sock)
            assert messages in ([], ["WATCHDOG=1"])
            if messages:
                sent_at.append(mono)
        deadline = n.next_watchdog_deadline()
    assert sent_at == [100.0, 102.0, 104.0, 110.0]
    assert deadline == pytest.approx(112.0)


def test_watchdog_deadline_follows_last_ping(listener):
    _sock, path = listener
    env = {"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "1000000"}
    with Notifier.from_env(env, pid=1) as n:
        n.watchdog(5.0)
        assert n.next_watchdog_deadline() == pytest.approx(5.5)
        n.watchdog(5.2)  # too early: no change
        assert n.next_watchdog_deadline() == pytest.approx(5.5)


def test_errors_logged_once_never_raised(short_dir, caplog):
    missing = short_dir / "gone.sock"
    with (
        caplog.at_level(logging.WARNING, logger="breathring.systemd"),
        Notifier.from_env({"NOTIFY_SOCKET": str(missing)}) as n,
    ):
        n.ready()
        n.status("a")
        n.stopping()
    warnings = [r for r in caplog.records if "cannot notify systemd" in r.getMessage()]
    assert len(warnings) == 1
    assert str(missing) in warnings[0].getMessage()


def test_socket_created_once(listener):
    _sock, path = listener
    with Notifier.from_env({"NOTIFY_SOCKET": path}) as n:
        n.ready()
        first = n._sock
        n.status("x")
        n.stopping()
        assert n._sock is first and first is not None
    assert n._sock is None


def test_unsupported_address_is_a_logged_noop(caplog):
    with caplog.at_level(logging.WARNING, logger="breathring.systemd"):
        n = Notifier.from_env({"NOTIFY_SOCKET": "vsock:2:1234"})
    assert not n.enabled
    assert any("not supported" in r.getMessage() for r in caplog.records)
