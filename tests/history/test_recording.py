"""Sessions and pulses recorded in the history by the service, across a SIGKILL too."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from testkit.service_loop import (
    SESSION_S,
    control,
    make_service_with_settings,
    run_for,
)


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(tmp_path / "history.sqlite3") as db:
        return db.execute(sql).fetchall()


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
