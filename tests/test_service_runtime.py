"""The service's settings, history and watch stream in virtual time (FakeClock, mock hardware)."""

from __future__ import annotations

import json
import queue
import socket
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from testkit import service_loop as steps
from testkit.mock_hw import make_bench

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.control_socket import ControlRequest, Request
from breathring.history import History
from breathring.history_recorder import HistoryWorker
from breathring.service import Service
from breathring.settings import Settings, SettingsFile
from breathring.status_feed import Watcher

BERLIN = ZoneInfo("Europe/Berlin")
#: One breath of 1 s in, 1 s out: lead-in 2 s + 2 s + closing 2.5 s = 6.5 s.
SHORT = '[session]\npattern = "custom"\ninhale = 1.0\nexhale = 1.0\nbreaths = 1\n'
SESSION_S = 6.5


def make(tmp_path: Path, config: str = SHORT, at=(2026, 3, 10, 12, 10)):
    cfg = parse_config(config)
    clock = FakeClock(datetime(*at, tzinfo=BERLIN))
    hw = make_bench(cfg, clock)

    def wait(timeout: float):
        try:
            return hw.events.get_nowait()
        except queue.Empty:
            clock.advance(timeout)
            return None

    settings = Settings(cfg, SettingsFile(tmp_path))
    settings.load()
    history = HistoryWorker(lambda: History.open(tmp_path / "history.sqlite3"))
    service = Service(
        settings.cfg, hw.hardware, clock, wait=wait, settings=settings, history=history
    )
    service.start()
    return service, clock, hw


def run_for(service: Service, clock: FakeClock, seconds: float) -> None:
    steps.run_for(service, clock, seconds, limit=1_000_000)


def control(service: Service, **fields) -> dict:
    replies: list[dict] = []
    cmd = fields.pop("cmd")
    service.inbox.put(ControlRequest(Request(cmd, **fields), replies.append))
    service.step()
    if not replies:  # history queries are answered by the history's thread
        assert service.history is not None and service.history.flush()
    return replies[0]


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        return db.execute(sql).fetchall()


def test_a_pressed_and_finished_session_is_counted(tmp_path):
    service, clock, hw = make(tmp_path)
    hw.button.press()
    run_for(service, clock, SESSION_S + 1)
    stats = control(service, cmd="stats", days=7)["stats"]
    assert stats["today"]["date"] == "2026-03-10"
    assert stats["today"]["sessions"] == 1 and stats["today"]["completed"] == 1
    assert stats["today"]["breaths"] == 1
    assert len(stats["days"]) == 7
    service.close()
    assert rows(
        tmp_path,
        "SELECT trigger, pattern, breaths_planned, breaths_completed, outcome FROM sessions",
    ) == [("button", "custom", 1, 1, "completed")]


def test_triggers_double_remote_and_an_answered_pulse(tmp_path):
    # 12:59:50: the 13:00 pulse comes ten seconds in.
    service, clock, hw = make(tmp_path, at=(2026, 3, 10, 12, 59, 50))
    run_for(service, clock, 12)
    assert service.engine.controller.state == "pulse"
    hw.button.press()  # answers the pulse
    run_for(service, clock, SESSION_S + 1)
    hw.button.double()  # a double press: the long session (coherent, 10 breaths), stopped
    run_for(service, clock, 5)
    hw.button.press()
    run_for(service, clock, 2)
    assert control(service, cmd="start", pattern="box", trigger="remote")["ok"]
    run_for(service, clock, 3)
    assert control(service, cmd="stop")["ok"]
    run_for(service, clock, 2)
    service.close()
    assert rows(tmp_path, "SELECT trigger, pattern, outcome FROM sessions ORDER BY id") == [
        ("pulse", "custom", "completed"),
        ("double", "coherent", "stopped"),
        ("remote", "box", "stopped"),
    ]
    assert rows(tmp_path, "SELECT answered FROM pulses") == [(1,)]


def test_set_brightness_during_a_session_keeps_it_going_and_dims_the_next_frame(tmp_path):
    service, clock, hw = make(tmp_path, config="")
    hw.button.press()
    run_for(service, clock, 4.0)  # into the first in-breath
    before = max(max(p) for p in hw.ring.last)
    reply = control(service, cmd="set", key="ring.brightness", value=0.1)
    assert reply == {"ok": True, "key": "ring.brightness", "value": 0.1}
    run_for(service, clock, 0.02)
    after = max(max(p) for p in hw.ring.last)
    assert service.engine.controller.state == "session"
    assert 0 < after < before / 2
    assert "brightness = 0.1" in (tmp_path / "settings.toml").read_text()


def test_set_refusals_carry_key_and_code(tmp_path):
    service, _clock, _hw = make(tmp_path)
    bad = control(service, cmd="set", key="ring.brightness", value=7)
    assert bad["ok"] is False and bad["code"] == "invalid" and bad["key"] == "ring.brightness"
    assert "ring.brightness = 7" in bad["error"]
    restart = control(service, cmd="set", key="ring.pixels", value=30)
    assert restart["code"] == "restart"
    assert control(service, cmd="set", key="nope.key", value=1)["code"] == "unknown"
    assert service.cfg.ring.brightness == 0.5
    assert not (tmp_path / "settings.toml").exists()
    listing = control(service, cmd="settings")
    assert listing["settings"]["ring.brightness"] == {"value": 0.5, "source": "default"}
    assert "ring.pixels" in listing["restart_keys"]


def test_status_always_has_every_protocol_key(tmp_path):
    service, _clock, _hw = make(tmp_path)
    idle = control(service, cmd="status")
    expected = {
        "ok",
        "state",
        "phase",
        "breath",
        "breaths",
        "pattern",
        "next_pattern",
        "reminders",
        "clock_synchronized",
        "clock_trusted",
        "clock_reason",
        "next_pulse",
        "elapsed",
        "remaining",
        "night",
        "hardware",
        "frames_sent",
        "frames_late",
        "late_frames_pct",
        "light",
    }
    assert set(idle) == expected
    assert (idle["phase"], idle["breath"], idle["breaths"], idle["pattern"]) == ("idle", 0, 0, None)
    assert idle["next_pattern"] == "custom" and idle["night"] is False
    assert idle["next_pulse"] == "2026-03-10T13:00+01:00"


class WatchClient:
    """A watcher on one end of a socket pair; the test reads the other end."""

    def __init__(self, service: Service, max_lines: int = 256, read: bool = True) -> None:
        self.ours, theirs = socket.socketpair()
        self.watcher = Watcher(theirs, max_lines=max_lines, send_timeout=0.05)
        replies: list[dict] = []
        service.inbox.put(ControlRequest(Request("watch"), replies.append, self.watcher))
        service.step()
        assert replies == [{"ok": True}]
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()
        self.file = self.ours.makefile("r") if read else None

    def lines(self, count: int) -> list[dict]:
        assert self.file is not None
        self.ours.settimeout(5)
        return [json.loads(self.file.readline()) for _ in range(count)]


def test_watch_delivers_the_phases_of_a_session_in_order(tmp_path):
    service, clock, hw = make(tmp_path)
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
    service, clock, hw = make(tmp_path)
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
    service, _clock, _hw = make(tmp_path)
    client = WatchClient(service)
    assert control(service, cmd="set", key="session.pattern", value="box")["ok"]
    lines = client.lines(3)
    assert lines[1] == {"kind": "settings"}
    assert lines[2]["status"]["next_pattern"] == "box"


def test_corrupt_settings_file_gives_the_config_values(tmp_path, caplog):
    (tmp_path / "settings.toml").write_bytes(b"\xff\xfe not toml")
    service, _clock, _hw = make(tmp_path, config="[ring]\nbrightness = 0.4\n")
    assert service.cfg.ring.brightness == 0.4
    assert "corrupt settings" in caplog.text
    assert (tmp_path / "settings.toml.corrupt").exists()


def test_config_default_is_used_without_settings(tmp_path):
    assert Config().ring.brightness == 0.5  # the value the tests above start from


# ------------------- reminders during a session: the hold fades it, a remote switch waits

#: The SHORT session: the closing starts at 4 s, the session ends at 6.5 s.
SHORT_CLOSING_AT_S = 4.0


def cue_times(hw) -> list[tuple[str, float]]:
    return [(cue, t) for cue, t, _ in hw.audio.played]


def test_a_remote_reminders_switch_lets_the_session_end_then_blinks(tmp_path):
    service, clock, hw = make(tmp_path)
    started = clock.monotonic()
    hw.button.press()
    run_for(service, clock, 3.0)  # in the breath
    reply = control(service, cmd="reminders", value="off")
    assert reply["ok"] and reply["reminders"] is False and reply["state"] == "session"
    run_for(service, clock, 6.0)
    played = cue_times(hw)
    names = [cue for cue, _ in played]
    assert names == ["start", "inhale", "exhale", "end", "confirm-off"]
    end_at = dict(played)["end"] - started
    confirm_at = dict(played)["confirm-off"] - started
    # `end` on the session's own schedule (its closing), not at the switch (3 s).
    assert end_at == pytest.approx(SHORT_CLOSING_AT_S, abs=0.05)
    # The blink once the session has ended (6.5 s), not before.
    assert confirm_at == pytest.approx(SESSION_S, abs=0.05)
    assert service.engine.controller.state == "idle"


def test_set_reminder_enabled_during_a_session_is_a_remote_switch_too(tmp_path):
    service, clock, hw = make(tmp_path)
    started = clock.monotonic()
    hw.button.press()
    run_for(service, clock, 3.0)
    reply = control(service, cmd="set", key="reminder.enabled", value=False)
    assert reply == {"ok": True, "key": "reminder.enabled", "value": False}
    assert service.engine.controller.state == "session"
    assert control(service, cmd="status")["reminders"] is False
    run_for(service, clock, 6.0)
    played = dict(cue_times(hw))
    assert [cue for cue, _ in cue_times(hw)] == ["start", "inhale", "exhale", "end", "confirm-off"]
    assert played["end"] - started == pytest.approx(SHORT_CLOSING_AT_S, abs=0.05)
    assert played["confirm-off"] - started == pytest.approx(SESSION_S, abs=0.05)
    # Setting the value it already has changes nothing: no second blink.
    control(service, cmd="set", key="reminder.enabled", value=False)
    run_for(service, clock, 2.0)
    assert [cue for cue, _ in cue_times(hw)].count("confirm-off") == 1


def test_the_buttons_hold_during_a_session_fades_it_out_then_blinks(tmp_path):
    service, clock, hw = make(tmp_path, config="")  # three breaths: 34.5 s
    hw.button.press()
    run_for(service, clock, 5.0)
    down_at = clock.monotonic()
    hw.button.down()
    run_for(service, clock, 2.5)  # button.hold_seconds = 2
    hw.button.up()
    run_for(service, clock, 3.0)
    names = [cue for cue, _ in cue_times(hw)]
    assert names == ["start", "inhale", "end", "confirm-off"]
    played = dict(cue_times(hw))
    # The button going down fades the session out (`end`, 0.8 s); the blink comes at the
    # hold (2 s), after the fade; long before the session's own end (34.5 s).
    assert played["end"] - down_at == pytest.approx(0.0, abs=0.05)
    assert played["confirm-off"] - down_at == pytest.approx(2.0, abs=0.05)
    assert service.engine.controller.state == "idle"
    assert service.engine.controller.reminders_enabled is False
