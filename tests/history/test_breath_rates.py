"""Breathing rates in the history: schema v4 (from a real v3 file), per session and per day."""

from __future__ import annotations

import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from testkit.sqlite_rows import rows

from breathring.history import History

BERLIN = ZoneInfo("Europe/Berlin")
MORNING = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)

#: A history file as schema version 3 wrote it (before the rates), with a session and a pulse.
V3_FILE = """
CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    trigger TEXT NOT NULL CHECK (trigger IN ('button', 'double', 'pulse', 'remote')),
    pattern TEXT NOT NULL,
    breaths_planned INTEGER NOT NULL CHECK (breaths_planned >= 0),
    breaths_completed INTEGER NOT NULL DEFAULT 0 CHECK (breaths_completed >= 0),
    started_at INTEGER NOT NULL,
    utc_offset INTEGER NOT NULL,
    ended_at INTEGER,
    outcome TEXT CHECK (outcome IN ('completed', 'stopped', 'interrupted')),
    clock_trusted INTEGER NOT NULL DEFAULT 1 CHECK (clock_trusted IN (0, 1))
);
CREATE TABLE pulses (
    id INTEGER PRIMARY KEY,
    shown_at INTEGER NOT NULL,
    utc_offset INTEGER NOT NULL,
    answered INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1)),
    clock_trusted INTEGER NOT NULL DEFAULT 1 CHECK (clock_trusted IN (0, 1))
);
CREATE INDEX sessions_started_at ON sessions (started_at);
CREATE INDEX pulses_shown_at ON pulses (shown_at);
INSERT INTO sessions VALUES (1, 'button', 'box', 3, 3, 1781506800, 7200, 1781506890,
  'completed', 1);
INSERT INTO pulses VALUES (1, 1781506800, 7200, 1, 1);
PRAGMA user_version = 3;
"""


def measured(h: History, start: datetime, before: float | None, after: float | None) -> int:
    """A completed 5-minute `follow` session with these rates."""
    row = h.session_started("button", "follow", 30, start, rate_start=before)
    h.session_ended(row, 30, True, start + timedelta(minutes=5), rate_end=after)
    return row


def test_a_version_3_file_is_migrated_keeping_its_rows(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    conn = sqlite3.connect(db)
    conn.executescript(V3_FILE)
    conn.close()
    with History.open(db) as h:
        stats = h.stats(date(2026, 6, 15), 1, BERLIN)  # 1781506800 = 2026-06-15 09:00 CEST
        assert stats["today"] == {
            "date": "2026-06-15",
            "sessions": 1,
            "completed": 1,
            "breaths": 3,
            "minutes": 1.5,
            "breath_rate": None,
        }
        assert stats["breath_rates"] == []
        measured(h, MORNING + timedelta(hours=1), 14.0, 7.5)
    assert rows(db, "PRAGMA user_version") == [(4,)]
    assert rows(db, "SELECT id, pattern, rate_start, rate_end FROM sessions ORDER BY id") == [
        (1, "box", None, None),
        (2, "follow", 14.0, 7.5),
    ]
    assert rows(db, "SELECT id, answered, rate FROM pulses") == [(1, 1, None)]


def test_rates_per_day_are_means_over_sessions_measured_at_both_ends(tmp_path: Path) -> None:
    with History.open(tmp_path / "h.sqlite3") as h:
        measured(h, MORNING, 14.0, 7.0)
        measured(h, MORNING + timedelta(hours=2), 12.0, 6.5)
        measured(h, MORNING + timedelta(hours=4), 16.0, None)  # the sensor lost the person
        measured(h, MORNING + timedelta(hours=5), None, None)  # no sensor reading at all
        measured(h, MORNING - timedelta(days=1), 10.04, 6.06)
        stats = h.stats(date(2026, 6, 15), 2, BERLIN)
    assert [d["breath_rate"] for d in stats["days"]] == [
        {"start": 10.0, "end": 6.1, "sessions": 1},
        {"start": 13.0, "end": 6.8, "sessions": 2},  # (7 + 6.5) / 2 = 6.75
    ]
    assert stats["today"]["breath_rate"] == {"start": 13.0, "end": 6.8, "sessions": 2}
    assert stats["today"]["sessions"] == 4
    assert stats["breath_rates"] == [
        {
            "started": "2026-06-14T09:00:00+02:00",
            "pattern": "follow",
            "outcome": "completed",
            "rate_start": 10.0,
            "rate_end": 6.1,
        },
        {
            "started": "2026-06-15T09:00:00+02:00",
            "pattern": "follow",
            "outcome": "completed",
            "rate_start": 14.0,
            "rate_end": 7.0,
        },
        {
            "started": "2026-06-15T11:00:00+02:00",
            "pattern": "follow",
            "outcome": "completed",
            "rate_start": 12.0,
            "rate_end": 6.5,
        },
        {
            "started": "2026-06-15T13:00:00+02:00",
            "pattern": "follow",
            "outcome": "completed",
            "rate_start": 16.0,
            "rate_end": None,
        },
    ]


def test_the_newest_hundred_measured_sessions_are_listed(tmp_path: Path) -> None:
    with History.open(tmp_path / "h.sqlite3") as h:
        for k in range(105):
            measured(h, MORNING + timedelta(minutes=6 * k), 10.0 + k / 10, 6.0)
        listed = h.stats(date(2026, 6, 15), 1, BERLIN)["breath_rates"]
    assert len(listed) == 100
    assert listed[0]["rate_start"] == 10.5 and listed[-1]["rate_start"] == 20.4


def test_what_is_not_a_rate_is_stored_as_none(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with History.open(db) as h:
        measured(h, MORNING, float("nan"), float("inf"))
        row = h.session_started("button", "follow", 30, MORNING, rate_start=13.456)
        h.session_interrupted(row, rate_end=0.0)
        h.pulse_answered(h.pulse_shown(MORNING), 9.123)
    assert rows(db, "SELECT rate_start, rate_end, outcome FROM sessions ORDER BY id") == [
        (None, None, "completed"),
        (13.46, None, "interrupted"),
    ]
    assert rows(db, "SELECT rate FROM pulses") == [(9.12,)]


def test_a_rate_that_rounds_to_zero_is_stored_as_none(tmp_path: Path) -> None:
    db = tmp_path / "h.sqlite3"
    with History.open(db) as h:
        measured(h, MORNING, 0.004, 0.005)
        h.pulse_answered(h.pulse_shown(MORNING), 0.0049)
    assert rows(db, "SELECT rate_start, rate_end FROM sessions") == [(None, 0.01)]
    assert rows(db, "SELECT rate FROM pulses") == [(None,)]
