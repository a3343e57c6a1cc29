"""Sessions and pulses recorded in the history by the service, across a SIGKILL too."""

from __future__ import annotations

import re
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testkit.service_loop import (
    SESSION_S,
    control,
    make_service_with_settings,
    run_for,
)
from testkit.sqlite_rows import rows as sqlite_rows

from breathring.history import History

#: Ten breaths of 2 s in and 3 s out, after a 2 s lead-in.
TEN_BREATHS = '[session]\npattern = "custom"\ninhale = 2.0\nexhale = 3.0\nbreaths = 10\n'


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    return sqlite_rows(tmp_path / "history.sqlite3", sql)


def test_a_pressed_and_finished_session_is_counted(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
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
    service, clock, hw = make_service_with_settings(tmp_path, at=(2026, 3, 10, 12, 59, 50))
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


def test_a_finished_session_is_counted_and_survives_sigkill(cli_service):
    cli_service.start()
    assert cli_service.cli("press").returncode == 0
    cli_service.wait_idle(SESSION_S + 5)  # a real process in real time
    today = cli_service.json("stats")["today"]
    assert (today["sessions"], today["completed"], today["breaths"]) == (1, 1, 1)
    cli_service.kill()
    cli_service.start()
    stats = cli_service.json("stats", "--days", "3")
    assert (stats["today"]["sessions"], stats["today"]["completed"]) == (1, 1)
    assert len(stats["days"]) == 3
    png = cli_service.tmp / "chart.png"
    assert cli_service.cli("stats", "--png", str(png)).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = cli_service.cli("stats", "--png", str(cli_service.tmp / "no" / "such" / "dir" / "c.png"))
    assert bad.returncode == 73 and len(bad.stderr.strip().splitlines()) == 1
    assert cli_service.cli("history", "--clear").returncode == 0
    assert cli_service.json("stats")["today"]["sessions"] == 0


def stop_by_sigterm(service) -> None:
    """SIGTERM as systemd sends it: the loop fades out, stops and closes."""
    service.request_stop(signal.SIGTERM)
    steps = 0
    while not service.step():
        steps += 1
        assert steps < 100_000, "the service did not stop"
    service.close()


def test_a_session_cut_by_sigterm_is_interrupted_with_its_breaths_so_far(tmp_path):
    # Virtual time: pressed at 12:10:00 (Berlin); breath k ends 2 + 5 k seconds later.
    service, clock, hw = make_service_with_settings(tmp_path, config=TEN_BREATHS)
    hw.button.press()
    run_for(service, clock, 24)  # four breaths done, the fifth under way
    stop_by_sigterm(service)
    assert rows(
        tmp_path,
        "SELECT outcome, breaths_planned, breaths_completed, ended_at - started_at FROM sessions",
    ) == [("interrupted", 10, 4, 22)]  # it ends with its fourth breath, 22 s in
    with History.open(tmp_path / "history.sqlite3") as h:
        today = h.stats(datetime(2026, 3, 10).date(), 1, UTC)["today"]
    assert (today["sessions"], today["completed"], today["breaths"], today["minutes"]) == (
        1,
        0,
        4,
        0.4,
    )


def test_stats_name_the_last_session_with_its_offset(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
    assert control(service, cmd="stats", days=1)["stats"]["last_session"] is None
    hw.button.press()  # 12:10:00 in Berlin (UTC+1 in March)
    run_for(service, clock, SESSION_S + 1)
    stats = control(service, cmd="stats", days=1)["stats"]
    service.close()
    [(ended,)] = rows(tmp_path, "SELECT ended_at - started_at FROM sessions")
    assert ended == 7  # lead-in 2 s, one breath in 1 s and out 1 s, closing 3 s
    assert stats["last_session"] == "2026-03-10T12:10:07+01:00"


def test_a_session_under_a_clock_far_ahead_erases_no_history(tmp_path):
    right = datetime(2026, 3, 10, 11, 0, tzinfo=UTC)
    with History.open(tmp_path / "history.sqlite3") as h:
        for days_back in (1, 30, 400, 1500):  # up to four years back
            start = right - timedelta(days=days_back)
            row = h.session_started("button", "custom", 1, start)
            h.session_ended(row, 1, True, start + timedelta(minutes=1))
    # A boot with a bad RTC ten years ahead, no network time: the clock is not trusted.
    service, clock, hw = make_service_with_settings(
        tmp_path, at=(2036, 3, 10, 12, 10), synced=False
    )
    hw.button.press()
    run_for(service, clock, SESSION_S + 1)
    service.close()
    # The next start at the right time (synchronised).
    service, clock, hw = make_service_with_settings(tmp_path)
    run_for(service, clock, 2)
    stats = control(service, cmd="stats", days=2)["stats"]
    service.close()
    assert rows(tmp_path, "SELECT clock_trusted, count(*) FROM sessions GROUP BY 1") == [
        (0, 1),
        (1, 4),
    ]
    assert stats["days"][0] == {
        "date": "2026-03-09",
        "sessions": 1,
        "completed": 1,
        "breaths": 1,
        "minutes": 1.0,
        "breath_rate": None,
    }
    assert stats["last_session"] == "2026-03-09T11:01:00+00:00"  # as its row was written


def test_the_last_session_of_the_real_service(cli_service):
    cli_service.start()
    assert cli_service.json("stats")["last_session"] is None
    assert cli_service.cli("press").returncode == 0
    cli_service.wait_idle(SESSION_S + 5)
    before_stop = datetime.now(UTC)
    last = cli_service.json("stats")["last_session"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", last), last
    ended = datetime.fromisoformat(last)
    # It ended within the last SESSION_S + 5 s (stamps are rounded to whole seconds).
    assert timedelta(seconds=-1) <= before_stop - ended <= timedelta(seconds=SESSION_S + 6)
    cli_service.stop()
