"""The watch stream: a session's phases in order, settings changes; silent watchers stall none."""

from __future__ import annotations

import json
import socket
from pathlib import Path

from testkit.service_loop import (
    SESSION_S,
    WatchClient,
    control,
    make_service_with_settings,
    run_for,
)


def test_watch_delivers_the_phases_of_a_session_in_order(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
    client = WatchClient(service)
    hw.button.press()
    run_for(service, clock, SESSION_S + 1)
    service.history.flush()
    lines = client.lines(1)

    def back_to_idle() -> bool:
        last_status = [m for m in lines if m["kind"] == "status"][-1]
        return len(lines) > 2 and last_status["status"]["state"] == "idle"

    # The history line comes from the history thread, so it may follow the last status line.
    while not (back_to_idle() and {"kind": "history"} in lines):
        lines += client.lines(1)
        assert len(lines) < 20
    statuses = [m["status"]["phase"] for m in lines if m["kind"] == "status"]
    assert lines[0]["kind"] == "status" and lines[0]["status"]["phase"] == "idle"
    assert {"kind": "gesture", "gesture": "press", "source": "button"} in lines
    assert statuses == ["idle", "lead-in", "inhale", "exhale", "closing", "idle"]
    assert {"kind": "history"} in lines  # the session's row (written after its lead-in)


def test_a_watcher_that_does_not_read_is_dropped_and_the_frames_keep_coming(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
    client = WatchClient(service, max_lines=4, read=False)
    client.watcher.conn.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1024)
    frames_before = hw.ring.writes
    for _ in range(6):
        hw.button.press()
        run_for(service, clock, SESSION_S + 0.5)
    assert hw.ring.writes - frames_before > 6 * 600  # 100 fps throughout
    client.thread.join(5)
    assert client.watcher.closed and client.watcher.dropped is not None
    assert len(service.feed) == 0


def test_settings_change_reaches_watchers(tmp_path):
    service, _clock, _hw = make_service_with_settings(tmp_path)
    client = WatchClient(service)
    assert control(service, cmd="set", key="session.pattern", value="box")["ok"]
    lines = client.lines(3)
    assert lines[1] == {"kind": "settings"}
    assert lines[2]["status"]["next_pattern"] == "box"


def watch(path: Path) -> tuple[socket.socket, object]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    sock.sendall(b'{"cmd": "watch"}\n')
    sock.settimeout(10)
    return sock, sock.makefile("r")


def test_watch_follows_a_session_and_a_silent_watcher_stalls_nothing(cli_service):
    cli_service.start()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    silent.connect(str(cli_service.socket))
    silent.sendall(b'{"cmd": "watch"}\n')  # and never reads
    sock, lines = watch(cli_service.socket)
    first = json.loads(lines.readline())
    assert first["kind"] == "status" and first["status"]["phase"] == "idle"
    frames_before = len(cli_service.trace.read_text().split())
    assert cli_service.cli("start", "--pattern", "custom").returncode == 0
    phases = []
    while not phases or phases[-1] != "idle":
        message = json.loads(lines.readline())
        if message["kind"] == "status":
            phases.append(message["status"]["phase"])
    assert phases == ["lead-in", "inhale", "exhale", "closing", "idle"]
    frames = len(cli_service.trace.read_text().split()) - frames_before
    assert frames > 300  # 100 fps for most of the 6.5 s session
    assert cli_service.json("status")["state"] == "idle"
    sock.close()
    silent.close()
