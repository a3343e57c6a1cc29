"""Config, socket and signal inputs nobody planned for: none of them crashes the service.

Each test is one input beyond the bad-config corpus, recorded in docs/reliability.md.
"""

from __future__ import annotations

import json
import os
import signal
import time
from datetime import datetime, timedelta

import pytest
from testkit.rig import UTC, Proc, make_rig, short_tmp

from breathring.config import parse_config

SESSION_S = 34.5


@pytest.fixture(scope="module")
def proc(tmp_path_factory):
    """One real service for the socket and signal cases."""
    base = short_tmp(tmp_path_factory.mktemp("unexpected"))
    p = Proc(base, config="[ring]\nfps = 50\n")
    try:
        p.wait_ready()
        yield p
    finally:
        p.close()


def _alive_and_answering(proc: Proc) -> None:
    assert proc.proc.poll() is None, proc.stderr()
    assert proc.cmd(cmd="status")["ok"]


# ------------------------------------------------------------------ socket


def test_nul_bytes_in_json(proc):
    reply = json.loads(proc.request(b'{"cmd": "sta\x00tus"}\n'))
    assert reply["ok"] is False and "not valid JSON" in reply["error"]
    reply = json.loads(proc.request(b'{"cmd": "sta\\u0000tus"}\n'))  # an escaped NUL
    assert reply["ok"] is False and "unknown cmd" in reply["error"]
    reply = json.loads(proc.request(b'{"cmd": "status"}\x00\n'))
    assert reply["ok"] is False
    _alive_and_answering(proc)


def test_deeply_nested_json(proc):
    reply = json.loads(proc.request(b"[" * 2000 + b"]" * 2000 + b"\n"))
    assert reply["ok"] is False and "nested too deeply" in reply["error"]
    reply = json.loads(proc.request(b'{"cmd": ' + b"[" * 1900 + b"]" * 1900 + b"}\n"))
    assert reply["ok"] is False and "nested too deeply" in reply["error"]
    reply = json.loads(proc.request(b'{"cmd": ' + b'{"a": ' * 1500 + b"1" + b"}" * 1500 + b"}\n"))
    assert reply["ok"] is False and "too long" in reply["error"]  # over 4096 bytes: cut off
    _alive_and_answering(proc)


@pytest.mark.parametrize("pattern", ["bøx", "box\u202e", "\U0001f4a8", "box\ud800", "三呼吸"])
def test_unicode_pattern_names(proc, pattern):
    line = json.dumps({"cmd": "start", "pattern": pattern}, ensure_ascii=True).encode() + b"\n"
    reply = json.loads(proc.request(line))
    assert reply["ok"] is False and "unknown pattern" in reply["error"]
    assert "three-breath" in reply["error"]  # says what is allowed
    _alive_and_answering(proc)


# ------------------------------------------------------------------ signals


def test_sighup_storm_during_a_session(proc):
    assert proc.cmd(cmd="start", pattern="box")["state"] == "session"
    before = len(proc.trace_lines())
    start = time.monotonic()
    for _ in range(200):
        os.kill(proc.pid, signal.SIGHUP)
    time.sleep(1.0)
    fps = (len(proc.trace_lines()) - before) / (time.monotonic() - start)
    _alive_and_answering(proc)
    assert proc.cmd(cmd="status")["state"] == "session"
    assert fps >= 40, fps  # ring.fps = 50, storm or not
    assert proc.cmd(cmd="stop")["ok"]


@pytest.mark.parametrize("signum", [signal.SIGUSR1, signal.SIGUSR2])
def test_stray_user_signals_are_ignored(proc, signum):
    proc.proc.send_signal(signum)
    time.sleep(0.2)
    _alive_and_answering(proc)


def test_notify_socket_nobody_reads(tmp_path):
    """systemd's side stops reading: notifications are dropped, the loop and the stop go on."""
    base = short_tmp(tmp_path)
    p = Proc(base, extra_env={"WATCHDOG_USEC": "20000"})  # a ping every 10 ms fills the queue
    try:
        p.wait_ready(drain=False)  # bound, but never read again: the queue fills at once
        time.sleep(0.5)
        assert p.cmd(cmd="press")["state"] == "session"
        time.sleep(1.0)
        started = time.monotonic()
        p.proc.terminate()
        assert p.proc.wait(timeout=5) == 0
        assert time.monotonic() - started < 2.0
        assert set(p.trace_lines()[-1]) == {"0"}
    finally:
        p.close()


def test_notify_socket_that_does_not_exist(tmp_path):
    base = short_tmp(tmp_path)
    p = Proc(base, extra_env={"NOTIFY_SOCKET": str(base / "nowhere.sock")})
    try:
        time.sleep(1.5)  # no READY will come: wait for the socket instead
        deadline = time.monotonic() + 10
        while not p.socket_path.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        _alive_and_answering(p)
        assert p.stop() == 0
        assert p.stderr().count("cannot notify systemd") == 1
    finally:
        p.close()


# ------------------------------------------------------------------ environment


def test_runtime_directory_missing(tmp_path):
    base = short_tmp(tmp_path)
    p = Proc(base, extra_env={"RUNTIME_DIRECTORY": str(base / "gone")})
    try:
        assert p.proc.wait(timeout=20) == 69
        lines = [line for line in p.stderr().splitlines() if not line.startswith("INFO")]
        assert len(lines) == 1 and "cannot listen on control socket" in lines[0], lines
        assert "Traceback" not in p.stderr()
        assert set(p.trace_lines()[-1]) == {"0"}  # the ring it had cleared stays dark
    finally:
        p.close()


def test_state_directory_missing_is_created(tmp_path):
    base = short_tmp(tmp_path)
    state = base / "not" / "there" / "yet"
    p = Proc(base, extra_env={"STATE_DIRECTORY": str(state)})
    try:
        p.wait_ready()
        assert p.cmd(cmd="reminders", value="off")["reminders"] is False
        saved = state / "state.json"
        deadline = time.monotonic() + 5.0  # saved by the loop on the next frame
        while not saved.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert json.loads(saved.read_text())["reminders_enabled"] is False
        assert p.stop() == 0
    finally:
        p.close()


# ------------------------------------------------------------------ config on reload


@pytest.mark.parametrize("replacement", ["directory", "fifo", "deeply-nested", "deleted"])
def test_config_file_replaced_on_reload(tmp_path, caplog, replacement):
    path = tmp_path / "config.toml"
    path.write_text("[ring]\nbrightness = 0.3\n")
    rig = make_rig(parse_config(path.read_text()), config_path=path)
    rig.button.press()
    rig.run_for(3.0)
    path.unlink()
    if replacement == "directory":
        path.mkdir()
    elif replacement == "fifo":
        os.mkfifo(path)
    elif replacement == "deeply-nested":
        path.write_text("[ring]\nx = " + "[" * 50_000 + "]" * 50_000 + "\n")
    rig.service.request_stop(signal.SIGHUP)
    rig.run_for(SESSION_S)  # the reload does not block, the session goes on to its end
    assert rig.service.cfg.ring.brightness == 0.3
    assert "reload failed, keeping the old configuration" in caplog.text
    assert [c for c, _, _ in rig.audio.played][-1] == "end"
    assert rig.ring.lit == 0


# ------------------------------------------------------------------ clock


def test_clock_at_1970_without_sync(tmp_path):
    """A Pi without a real-time clock may boot in 1970: sessions work, no pulse, no crash."""
    rig = make_rig(wall=datetime(1970, 1, 1, 0, 0, 5, tzinfo=UTC), state_dir=tmp_path)
    rig.clock.set_synced(False)
    rig.button.press()
    rig.run_for(SESSION_S + 1.0)
    assert [c for c, _, _ in rig.audio.played][-1] == "end"
    rig.run_for(3 * 3600.0)
    assert rig.service.engine.last_pulse is None
    # NTP arrives: the clock jumps 56 years ahead to 10:20; the 10:00 slot is over, 11:00 pulses.
    rig.clock.set_wall(datetime(2026, 5, 4, 10, 20, tzinfo=UTC))
    rig.clock.set_synced(True)
    rig.run_for(3600.0)
    assert rig.service.engine.last_pulse == datetime(2026, 5, 4, 11, 0, tzinfo=UTC)
    assert rig.ring.lit == 0


def test_clock_near_the_end_of_time(caplog):
    """Year 9999: date arithmetic may overflow; the loop must log, not die, and sessions run."""
    rig = make_rig(wall=datetime(9999, 12, 31, 21, 59, 30, tzinfo=UTC))
    rig.run_for(120.0)
    rig.button.press()
    rig.run_for(SESSION_S + 1.0)
    assert [c for c, _, _ in rig.audio.played][-1] == "end"
    assert rig.ring.lit == 0
    rig.clock.jump_wall(timedelta(hours=-1))
    rig.run_for(60.0)
    failures = [r for r in caplog.records if "reminder schedule failed" in r.getMessage()]
    assert 1 <= len(failures) <= 4  # logged, rate-limited (one per 30 s)


def test_empty_config_env_means_defaults(tmp_path):
    base = short_tmp(tmp_path)
    p = Proc(base, extra_env={"BREATHRING_CONFIG": ""})
    try:
        p.wait_ready()
        assert p.cmd(cmd="status")["ok"]
        assert p.stop() == 0
    finally:
        p.close()


def test_garbage_watchdog_usec(tmp_path):
    base = short_tmp(tmp_path)
    p = Proc(base, extra_env={"WATCHDOG_USEC": "soon"})
    try:
        p.wait_ready()
        _alive_and_answering(p)
        assert p.stop() == 0
        assert "ignoring WATCHDOG_USEC='soon'" in p.stderr()
    finally:
        p.close()


def test_the_fixture_process_ends_clean(proc):
    """Last: the shared process survived everything above and stops dark, exit 0."""
    _alive_and_answering(proc)
    assert proc.stop() == 0
    assert "Traceback" not in proc.stderr()
    assert set(proc.trace_lines()[-1]) == {"0"}
