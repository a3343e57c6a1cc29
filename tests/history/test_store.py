"""The history store: recording, stats per local day (DST), streaks, recovery, corruption."""

from __future__ import annotations

import logging
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from testkit.sqlite_rows import rows

from breathring import history as history_module
from breathring.history import History, HistoryError

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
FIRMWARE = Path(__file__).resolve().parents[2] / "firmware"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "history.sqlite3"


@pytest.fixture
def hist(db: Path):
    with History.open(db) as h:
        yield h


def session(h: History, start: datetime, minutes: float, breaths: int = 3, **kw) -> int:
    """A finished session of `minutes` from `start`."""
    row = h.session_started(kw.get("trigger", "button"), kw.get("pattern", "box"), 3, start)
    h.session_ended(row, breaths, kw.get("completed", True), start + timedelta(minutes=minutes))
    return row


def day(stats: dict, iso: str) -> dict:
    return next(d for d in stats["days"] if d["date"] == iso)


# -- the stats object ----------------------------------------------------------------------


def test_stats_shape_and_totals(hist: History) -> None:
    d = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    session(hist, d, 1.5, breaths=3)
    session(hist, d + timedelta(hours=2), 2.25, breaths=2, completed=False, trigger="double")
    session(hist, d - timedelta(days=2), 0.5, breaths=3, trigger="remote")
    hist.pulse_answered(hist.pulse_shown(d))
    hist.pulse_shown(d + timedelta(hours=1))
    hist.pulse_shown(d - timedelta(days=5))  # outside the 3 days

    stats = hist.stats(date(2026, 6, 15), 3, BERLIN)

    assert stats == {
        "today": {
            "date": "2026-06-15",
            "sessions": 2,
            "completed": 1,
            "breaths": 5,
            "minutes": 3.8,
            "breath_rate": None,
        },
        "streak_days": 1,
        "days": [
            {
                "date": "2026-06-13",
                "sessions": 1,
                "completed": 1,
                "breaths": 3,
                "minutes": 0.5,
                "breath_rate": None,
            },
            {
                "date": "2026-06-14",
                "sessions": 0,
                "completed": 0,
                "breaths": 0,
                "minutes": 0.0,
                "breath_rate": None,
            },
            {
                "date": "2026-06-15",
                "sessions": 2,
                "completed": 1,
                "breaths": 5,
                "minutes": 3.8,
                "breath_rate": None,
            },
        ],
        "pulses": {"shown": 2, "answered": 1},
        "last_session": "2026-06-15T11:02:15+02:00",
        "breath_rates": [],
    }


def test_default_fourteen_days_oldest_first(hist: History) -> None:
    stats = hist.stats(date(2026, 1, 3), 14, BERLIN)
    assert [d["date"] for d in stats["days"]][:4] == [
        "2025-12-21",
        "2025-12-22",
        "2025-12-23",
        "2025-12-24",
    ]
    assert len(stats["days"]) == 14
    assert stats["days"][-1]["date"] == "2026-01-03" == stats["today"]["date"]


@pytest.mark.parametrize("bad", [0, 367, -1, True, 1.5, "7", None])
def test_days_validated(hist: History, bad: object) -> None:
    with pytest.raises(ValueError, match=r"days must be .* from 1 to 366"):
        hist.stats(date(2026, 1, 1), bad, BERLIN)  # type: ignore[arg-type]


@pytest.mark.parametrize("ok", [1, 366])
def test_days_limits_accepted(hist: History, ok: int) -> None:
    assert len(hist.stats(date(2026, 1, 1), ok, BERLIN)["days"]) == ok


def test_running_session_counts_with_progress(hist: History) -> None:
    start = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    row = hist.session_started("pulse", "4-7-8", 10, start)
    hist.session_progress(row, 4, start + timedelta(minutes=1))
    today = hist.stats(date(2026, 6, 15), 1, BERLIN)["today"]
    assert today == {
        "date": "2026-06-15",
        "sessions": 1,
        "completed": 0,
        "breaths": 4,
        "minutes": 1.0,
        "breath_rate": None,
    }


def test_minutes_ignore_clock_jumps(hist: History) -> None:
    start = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    session(hist, start, -5)  # the clock went back: 0
    session(hist, start, 3 * 24 * 60)  # NTP jumped days ahead: capped at 4 h
    assert hist.stats(date(2026, 6, 15), 1, BERLIN)["today"]["minutes"] == 240.0


def test_finished_session_is_not_changed_again(hist: History) -> None:
    start = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    row = session(hist, start, 1, breaths=3)
    hist.session_ended(row, 9, False, start + timedelta(minutes=30))
    hist.session_progress(row, 7, start + timedelta(minutes=40))
    assert hist.stats(date(2026, 6, 15), 1, BERLIN)["today"] == {
        "date": "2026-06-15",
        "sessions": 1,
        "completed": 1,
        "breaths": 3,
        "minutes": 1.0,
        "breath_rate": None,
    }


def test_bad_arguments_raise(hist: History) -> None:
    aware = datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)
    with pytest.raises(ValueError, match="trigger must be one of button, double, pulse, remote"):
        hist.session_started("hourly", "box", 3, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        hist.session_started("button", "box", 3, datetime(2026, 6, 15, 9, 0))
    with pytest.raises(ValueError, match="breaths_planned"):
        hist.session_started("button", "box", -1, aware)


def test_rows_keep_utc_seconds_and_offset(hist: History, db: Path) -> None:
    hist.session_started("button", "box", 3, datetime(2026, 6, 15, 9, 0, tzinfo=NEW_YORK))
    hist.pulse_shown(datetime(2026, 1, 15, 9, 0, tzinfo=BERLIN))
    # 09:00 EDT = 13:00 UTC; 09:00 CET = 08:00 UTC
    assert rows(db, "SELECT started_at, utc_offset, outcome FROM sessions") == [
        (1781528400, -4 * 3600, None)
    ]
    assert rows(db, "SELECT shown_at, utc_offset, answered FROM pulses") == [(1768464000, 3600, 0)]


# -- local days and DST --------------------------------------------------------------------


def test_berlin_spring_forward_day_has_23_hours(hist: History) -> None:
    # 2026-03-29: 02:00 CET -> 03:00 CEST. Local midnight is 23:00 UTC the day before.
    session(hist, datetime(2026, 3, 28, 23, 30, tzinfo=UTC), 1)  # 00:30 CET on the 29th
    session(hist, datetime(2026, 3, 29, 21, 50, tzinfo=UTC), 1)  # 23:50 CEST on the 29th
    session(hist, datetime(2026, 3, 29, 22, 10, tzinfo=UTC), 1)  # 00:10 on the 30th
    # 01:59 CET to 03:01 CEST is two real minutes
    session(hist, datetime(2026, 3, 29, 1, 59, tzinfo=BERLIN), 2)
    stats = hist.stats(date(2026, 3, 30), 3, BERLIN)
    assert day(stats, "2026-03-28")["sessions"] == 0
    assert day(stats, "2026-03-29")["sessions"] == 3
    assert day(stats, "2026-03-29")["minutes"] == 4.0
    assert day(stats, "2026-03-30")["sessions"] == 1


def test_berlin_fall_back_day_has_25_hours(hist: History) -> None:
    # 2026-10-25: 03:00 CEST -> 02:00 CET. The day runs 22:00 UTC (24th) to 23:00 UTC (25th).
    session(hist, datetime(2026, 10, 24, 22, 5, tzinfo=UTC), 1)  # 00:05 CEST on the 25th
    session(hist, datetime(2026, 10, 25, 22, 55, tzinfo=UTC), 1)  # 23:55 CET on the 25th
    session(hist, datetime(2026, 10, 24, 21, 55, tzinfo=UTC), 1)  # 23:55 CEST on the 24th
    # 02:30 CEST (first) until 02:10 CET (second time round) lasts 40 minutes
    start = datetime(2026, 10, 25, 2, 30, tzinfo=BERLIN, fold=0)
    row = hist.session_started("button", "box", 3, start)
    hist.session_ended(row, 3, True, datetime(2026, 10, 25, 2, 10, tzinfo=BERLIN, fold=1))
    stats = hist.stats(date(2026, 10, 25), 2, BERLIN)
    assert day(stats, "2026-10-24")["sessions"] == 1
    assert day(stats, "2026-10-25")["sessions"] == 3
    assert day(stats, "2026-10-25")["minutes"] == 42.0


def test_new_york_dst_days(hist: History) -> None:
    # 2026-03-08 spring forward (23 h), 2026-11-01 fall back (25 h).
    session(hist, datetime(2026, 3, 8, 5, 0, tzinfo=UTC), 1)  # 00:00 EST on the 8th
    session(hist, datetime(2026, 3, 9, 3, 59, tzinfo=UTC), 1)  # 23:59 EDT on the 8th
    session(hist, datetime(2026, 3, 9, 4, 0, tzinfo=UTC), 1)  # 00:00 EDT on the 9th
    session(hist, datetime(2026, 11, 1, 4, 0, tzinfo=UTC), 1)  # 00:00 EDT on Nov 1
    session(hist, datetime(2026, 11, 2, 4, 59, tzinfo=UTC), 1)  # 23:59 EST on Nov 1
    session(hist, datetime(2026, 11, 2, 5, 0, tzinfo=UTC), 1)  # 00:00 EST on Nov 2
    march = hist.stats(date(2026, 3, 9), 2, NEW_YORK)
    assert [d["sessions"] for d in march["days"]] == [2, 1]
    november = hist.stats(date(2026, 11, 2), 3, NEW_YORK)
    assert [d["sessions"] for d in november["days"]] == [0, 2, 1]


def test_same_rows_fall_on_other_days_in_another_zone(hist: History) -> None:
    session(hist, datetime(2026, 6, 15, 2, 30, tzinfo=UTC), 1)  # 04:30 Berlin, 22:30 NY (14th)
    assert hist.stats(date(2026, 6, 15), 1, BERLIN)["today"]["sessions"] == 1
    assert hist.stats(date(2026, 6, 15), 1, NEW_YORK)["today"]["sessions"] == 0
    assert hist.stats(date(2026, 6, 14), 1, NEW_YORK)["today"]["sessions"] == 1


def test_pulses_use_local_days(hist: History) -> None:
    hist.pulse_shown(datetime(2026, 6, 14, 23, 30, tzinfo=BERLIN))
    hist.pulse_answered(hist.pulse_shown(datetime(2026, 6, 15, 0, 30, tzinfo=BERLIN)))
    hist.pulse_shown(datetime(2026, 6, 16, 0, 0, tzinfo=BERLIN))
    assert hist.stats(date(2026, 6, 15), 1, BERLIN)["pulses"] == {"shown": 1, "answered": 1}
    assert hist.stats(date(2026, 6, 15), 2, BERLIN)["pulses"] == {"shown": 2, "answered": 1}


# -- streaks -------------------------------------------------------------------------------


def _completed_on(h: History, days: list[date], hour: int = 8, tz=BERLIN) -> None:
    for d in days:
        session(h, datetime(d.year, d.month, d.day, hour, 0, tzinfo=tz), 1)


def test_streak_counts_back_from_today(hist: History) -> None:
    _completed_on(
        hist, [date(2026, 6, 11), date(2026, 6, 13), date(2026, 6, 14), date(2026, 6, 15)]
    )
    assert hist.stats(date(2026, 6, 15), 14, BERLIN)["streak_days"] == 3


def test_streak_from_yesterday_when_today_is_empty(hist: History) -> None:
    _completed_on(hist, [date(2026, 6, 12), date(2026, 6, 13), date(2026, 6, 14)])
    assert hist.stats(date(2026, 6, 15), 14, BERLIN)["streak_days"] == 3


def test_streak_broken_by_a_missed_day(hist: History) -> None:
    _completed_on(hist, [date(2026, 6, 10), date(2026, 6, 11), date(2026, 6, 13)])
    assert hist.stats(date(2026, 6, 15), 14, BERLIN)["streak_days"] == 0


def test_streak_needs_completed_sessions(hist: History) -> None:
    _completed_on(hist, [date(2026, 6, 13), date(2026, 6, 14)])
    session(hist, datetime(2026, 6, 15, 8, 0, tzinfo=BERLIN), 1, completed=False)
    hist.session_started("button", "box", 3, datetime(2026, 6, 12, 8, 0, tzinfo=BERLIN))
    stats = hist.stats(date(2026, 6, 15), 14, BERLIN)
    assert stats["streak_days"] == 2
    assert stats["today"]["sessions"] == 1


def test_streak_across_local_midnight(hist: History) -> None:
    # 23:59 on the 14th and 00:01 on the 15th (Berlin) are two days; in UTC both are the 14th.
    session(hist, datetime(2026, 6, 14, 23, 59, tzinfo=BERLIN), 3)
    session(hist, datetime(2026, 6, 15, 0, 1, tzinfo=BERLIN), 1)
    assert hist.stats(date(2026, 6, 15), 14, BERLIN)["streak_days"] == 2
    assert hist.stats(date(2026, 6, 15), 14, UTC)["streak_days"] == 1


def test_streak_longer_than_the_window_and_ignores_future_rows(hist: History) -> None:
    start = date(2026, 5, 1)
    _completed_on(hist, [start + timedelta(days=i) for i in range(46)])  # to June 15
    _completed_on(hist, [date(2026, 7, 1)])  # a wrong clock stamped the future
    stats = hist.stats(date(2026, 6, 15), 1, BERLIN)
    assert stats["streak_days"] == 46
    assert len(stats["days"]) == 1


def test_streak_zero_on_empty_history(hist: History) -> None:
    assert hist.stats(date(2026, 6, 15), 14, BERLIN)["streak_days"] == 0


# -- crashes -------------------------------------------------------------------------------

_CHILD_PROLOGUE = f"""
import sys
sys.path.insert(0, {str(FIRMWARE)!r})
from datetime import datetime, timedelta, timezone
from breathring.history import History
h = History.open(sys.argv[1])
t0 = datetime(2026, 6, 15, 7, 0, tzinfo=timezone.utc)
"""


def _child(script: str, db: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _CHILD_PROLOGUE + script, str(db)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def _kill(child: subprocess.Popen[str]) -> None:
    os.kill(child.pid, signal.SIGKILL)
    assert child.wait(timeout=10) == -signal.SIGKILL
    assert child.stdin is not None
    child.stdin.close()
    assert child.stdout is not None
    child.stdout.close()


def test_sigkill_mid_session_leaves_an_interrupted_row(db: Path) -> None:
    child = _child(
        """
row = h.session_started("pulse", "box", 10, t0)
h.session_progress(row, 4, t0 + timedelta(minutes=2))
h.session_ended(h.session_started("button", "box", 3, t0 - timedelta(hours=1)), 3, True,
                t0 - timedelta(minutes=59))
print("ready", flush=True)
sys.stdin.read()
""",
        db,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    _kill(child)

    with History.open(db) as h:
        today = h.stats(date(2026, 6, 15), 1, UTC)["today"]
    assert today == {
        "date": "2026-06-15",
        "sessions": 2,
        "completed": 1,
        "breaths": 7,
        "minutes": 3.0,
        "breath_rate": None,
    }
    assert rows(db, "SELECT outcome FROM sessions ORDER BY started_at") == [
        ("completed",),
        ("interrupted",),
    ]


def test_interrupted_without_progress_keeps_zero_minutes(db: Path) -> None:
    child = _child(
        'h.session_started("remote", "box", 5, t0)\nprint("ready", flush=True)\nsys.stdin.read()\n',
        db,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    _kill(child)
    with History.open(db) as h:
        today = h.stats(date(2026, 6, 15), 1, UTC)["today"]
    assert today == {
        "date": "2026-06-15",
        "sessions": 1,
        "completed": 0,
        "breaths": 0,
        "minutes": 0.0,
        "breath_rate": None,
    }


def test_sigkill_during_a_stream_of_writes_leaves_a_readable_file(db: Path) -> None:
    child = _child(
        """
k = 0
while True:
    t = t0 + timedelta(seconds=k)
    h.session_ended(h.session_started("button", "box", 3, t), 3, True, t + timedelta(seconds=1))
    h.pulse_shown(t)
    k += 1
    if k == 200:
        print("200", flush=True)
""",
        db,
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "200"
    _kill(child)  # somewhere in the middle of a commit of the 200th-or-later row

    assert rows(db, "PRAGMA integrity_check") == [("ok",)]
    with History.open(db) as h:
        stats = h.stats(date(2026, 6, 15), 2, UTC)
    [(completed,)] = rows(db, "SELECT count(*) FROM sessions WHERE outcome = 'completed'")
    [(interrupted,)] = rows(db, "SELECT count(*) FROM sessions WHERE outcome = 'interrupted'")
    [(running,)] = rows(db, "SELECT count(*) FROM sessions WHERE outcome IS NULL")
    assert completed >= 200
    assert interrupted <= 1
    assert running == 0
    assert stats["today"]["completed"] + stats["days"][0]["completed"] == completed


# -- corrupt, unreadable, old and new files --------------------------------------------------


def test_garbage_file_is_moved_aside(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    db.parent.mkdir(parents=True)
    garbage = b"this is not a database, it is a shopping list\n" * 200
    db.write_bytes(garbage)
    now = datetime(2026, 6, 15, 9, 30, 5, tzinfo=BERLIN)
    with (
        caplog.at_level(logging.WARNING, logger="breathring.history"),
        History.open(db, now=now) as h,
    ):
        assert not h.in_memory
        session(h, datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN), 1)
        assert h.stats(date(2026, 6, 15), 1, BERLIN)["today"]["sessions"] == 1
    aside = db.with_name("history.sqlite3.corrupt-20260615T073005Z")
    assert aside.read_bytes() == garbage
    assert "moved it to history.sqlite3.corrupt-20260615T073005Z" in caplog.text


def test_damaged_pages_are_moved_aside(db: Path) -> None:
    with History.open(db) as h:
        for k in range(300):
            session(h, datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN) + timedelta(minutes=k), 1)
    data = bytearray(db.read_bytes())
    assert len(data) > 3 * 4096
    data[4096 + 100 : 3 * 4096] = b"\xff" * (2 * 4096 - 100)  # scribble over pages 2 and 3
    db.write_bytes(bytes(data))
    with History.open(db) as h:
        assert not h.in_memory
        assert h.stats(date(2026, 6, 15), 1, BERLIN)["today"]["sessions"] == 0
    assert len(list(db.parent.glob("history.sqlite3.corrupt-*"))) == 1


def test_directory_in_the_way_is_moved_aside(db: Path) -> None:
    db.mkdir(parents=True)
    with History.open(db) as h:
        assert not h.in_memory
        assert h.pulse_shown(datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN)) == 1
    assert db.is_file()


def test_at_most_three_corrupt_copies_are_kept(db: Path) -> None:
    db.parent.mkdir(parents=True)
    for n in range(5):
        db.write_bytes(b"junk %d" % n * 100)
        os.utime(db, (1_700_000_000 + n * 100, 1_700_000_000 + n * 100))
        History.open(db).close()
    kept = sorted(p.read_bytes()[:6] for p in db.parent.glob("history.sqlite3.corrupt-*"))
    assert kept == [b"junk 2", b"junk 3", b"junk 4"]


def test_newer_schema_is_moved_aside_not_destroyed(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.execute("CREATE TABLE future (x)")
    conn.execute("PRAGMA user_version = 99")
    conn.commit()
    conn.close()
    with History.open(db) as h:
        assert not h.in_memory
    [aside] = db.parent.glob("history.sqlite3.corrupt-*")
    assert rows(aside, "PRAGMA user_version") == [(99,)]
    assert rows(db, "PRAGMA user_version") == [(4,)]


def test_unusable_directory_falls_back_to_memory(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with History.open(blocker / "history.sqlite3") as h:
        assert h.in_memory
        session(h, datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN), 1)
        assert h.stats(date(2026, 6, 15), 1, BERLIN)["today"]["completed"] == 1


def test_recording_after_close_is_ignored(hist: History) -> None:
    hist.close()
    assert hist.session_started("button", "box", 3, datetime(2026, 6, 15, tzinfo=BERLIN)) == 0
    assert hist.pulse_shown(datetime(2026, 6, 15, tzinfo=BERLIN)) == 0
    assert hist.stats(date(2026, 6, 15), 1, BERLIN)["today"]["sessions"] == 0


def test_migration_from_empty_file(db: Path) -> None:
    db.parent.mkdir(parents=True)
    db.touch()  # version 0: an empty file, as sqlite3 leaves it before any table
    with History.open(db):
        pass
    assert rows(db, "PRAGMA user_version") == [(4,)]
    names = {n for (n,) in rows(db, "SELECT name FROM sqlite_master")}
    assert {"sessions", "pulses", "sessions_started_at", "pulses_shown_at"} <= names
    assert rows(db, "PRAGMA journal_mode") == [("wal",)]


def test_the_connection_is_durable_as_documented(hist: History) -> None:
    """WAL with synchronous = FULL (2): a power cut loses at most the running session."""
    conn = hist._connection()
    assert conn.execute("PRAGMA synchronous").fetchone() == (2,)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert conn.execute("PRAGMA wal_autocheckpoint").fetchone() == (100,)
    assert conn.execute("PRAGMA journal_size_limit").fetchone() == (1 << 20,)
    assert conn.execute("PRAGMA busy_timeout").fetchone() == (2000,)


V1_SCHEMA = """
CREATE TABLE sessions (id INTEGER PRIMARY KEY, trigger TEXT NOT NULL, pattern TEXT NOT NULL,
  breaths_planned INTEGER NOT NULL, breaths_completed INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL, utc_offset INTEGER NOT NULL, ended_at INTEGER, outcome TEXT);
CREATE TABLE pulses (id INTEGER PRIMARY KEY, shown_at INTEGER NOT NULL,
  utc_offset INTEGER NOT NULL, answered INTEGER NOT NULL DEFAULT 0);
INSERT INTO sessions VALUES (1, 'button', 'box', 3, 3, 1781506800, 7200, 1781506890,
  'completed');
INSERT INTO pulses VALUES (1, 1781506800, 7200, 1);
PRAGMA user_version = 1;
"""


def test_migration_from_version_1_keeps_rows(db: Path) -> None:
    db.parent.mkdir(parents=True)
    conn = sqlite3.connect(db)
    conn.executescript(V1_SCHEMA)
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
    assert stats["pulses"] == {"shown": 1, "answered": 1}
    assert stats["last_session"] == "2026-06-15T09:01:30+02:00"
    assert rows(db, "PRAGMA user_version") == [(4,)]
    indexes = rows(db, "SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name")
    assert indexes == [("pulses_shown_at",), ("sessions_started_at",)]
    # Rows from before the clock's trust was written down count as trusted.
    trust = "SELECT clock_trusted FROM sessions UNION ALL SELECT clock_trusted FROM pulses"
    assert rows(db, trust) == [(1,), (1,)]


# -- clearing and bounds -------------------------------------------------------------------


def test_clear_erases_rows_and_their_bytes(db: Path) -> None:
    with History.open(db) as h:
        for k in range(50):
            session(
                h,
                datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN) + timedelta(minutes=k),
                1,
                pattern="zebra-marker-pattern",
            )
        h.pulse_shown(datetime(2026, 6, 15, 9, 0, tzinfo=BERLIN))
        h.clear()
        assert h.stats(date(2026, 6, 15), 1, BERLIN) == {
            "today": {
                "date": "2026-06-15",
                "sessions": 0,
                "completed": 0,
                "breaths": 0,
                "minutes": 0.0,
                "breath_rate": None,
            },
            "streak_days": 0,
            "days": [
                {
                    "date": "2026-06-15",
                    "sessions": 0,
                    "completed": 0,
                    "breaths": 0,
                    "minutes": 0.0,
                    "breath_rate": None,
                }
            ],
            "pulses": {"shown": 0, "answered": 0},
            "last_session": None,
            "breath_rates": [],
        }
        on_disk = b"".join(p.read_bytes() for p in db.parent.iterdir() if p.is_file())
        assert b"zebra-marker-pattern" not in on_disk
        session(h, datetime(2026, 6, 15, 11, 0, tzinfo=BERLIN), 1)
        assert h.stats(date(2026, 6, 15), 1, BERLIN)["today"]["sessions"] == 1


def test_clear_on_a_closed_history_raises(hist: History) -> None:
    hist.close()
    with pytest.raises(HistoryError, match="could not clear the history"):
        hist.clear()


def test_old_rows_pruned_relative_to_a_trusted_now(db: Path) -> None:
    now = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
    with History.open(db) as h:
        session(h, now - timedelta(days=5 * 366 + 1), 1)  # older than 5 years: goes
        session(h, now - timedelta(days=5 * 366 - 1), 1)  # just inside: stays
        h.pulse_shown(now - timedelta(days=5 * 366 + 1))  # goes
        h.pulse_shown(now - timedelta(days=5 * 366 - 1))  # stays
        session(h, now, 1)
    with History.open(db):  # no time known: nothing is aged out
        pass
    with History.open(db, now=now):  # a time, but not a trusted one: nothing either
        pass
    assert rows(db, "SELECT count(*) FROM sessions") == [(3,)]
    assert rows(db, "SELECT count(*) FROM pulses") == [(2,)]
    with History.open(db, now=now, clock_trusted=True):
        pass
    assert rows(db, "SELECT count(*) FROM sessions") == [(2,)]
    assert rows(db, "SELECT count(*) FROM pulses") == [(1,)]


def test_prune_without_a_time_keeps_every_row(hist: History) -> None:
    session(hist, datetime(2000, 1, 1, tzinfo=UTC), 1)
    session(hist, datetime(2040, 1, 1, tzinfo=UTC), 1)
    assert hist.prune() == 0
    assert hist.prune(None) == 0
    assert hist.stats(date(2000, 1, 1), 1, UTC)["today"]["sessions"] == 1


def test_a_row_from_the_future_erases_nothing(db: Path) -> None:
    """Years of sessions, one under a clock 10 years ahead, then a restart at the right time."""
    right = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    with History.open(db) as h:
        for k in range(5):
            session(h, right - timedelta(days=365 * k + 1), 1)  # one a year, back 4 years
            h.pulse_shown(right - timedelta(days=365 * k + 1))
        ahead = right + timedelta(days=3653)
        row = h.session_started("button", "box", 3, ahead, clock_trusted=False)
        h.session_ended(row, 3, True, ahead + timedelta(minutes=1))
        h.pulse_shown(ahead, clock_trusted=False)
    with History.open(db, now=right, clock_trusted=True) as h:
        assert h.prune(right) == 0
        stats = h.stats(date(2026, 6, 15), 2, UTC)
    assert rows(db, "SELECT count(*) FROM sessions") == [(6,)]
    assert rows(db, "SELECT count(*) FROM pulses") == [(6,)]
    assert rows(db, "SELECT clock_trusted, count(*) FROM sessions GROUP BY 1") == [(0, 1), (1, 5)]
    assert stats["days"][0] == {
        "date": "2026-06-14",
        "sessions": 1,
        "completed": 1,
        "breaths": 3,
        "minutes": 1.0,
        "breath_rate": None,
    }
    assert stats["pulses"] == {"shown": 1, "answered": 0}
    # The newest session by the right clock, not the one dated ten years ahead.
    assert stats["last_session"] == "2026-06-14T09:01:00+00:00"


def test_rows_under_an_untrusted_clock_are_never_aged_out(db: Path) -> None:
    now = datetime(2031, 6, 1, 12, 0, tzinfo=UTC)
    with History.open(db) as h:
        old = now - timedelta(days=5 * 366 + 10)  # a clock far behind, e.g. a lost RTC
        h.session_started("button", "box", 3, old, clock_trusted=False)
        h.pulse_shown(old, clock_trusted=False)
        assert h.prune(now) == 0
        stats = h.stats(old.date(), 1, UTC)
    assert stats["today"]["sessions"] == 1  # still counted, on the day its time says
    assert stats["pulses"]["shown"] == 1


def test_row_caps_keep_the_newest(db: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(history_module, "MAX_SESSION_ROWS", 5)
    monkeypatch.setattr(history_module, "MAX_PULSE_ROWS", 3)
    start = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
    with History.open(db) as h:
        for k in range(8):
            session(h, start + timedelta(minutes=k), 1)
            h.pulse_shown(start + timedelta(minutes=k))
        assert h.prune() == 3 + 5
    assert rows(db, "SELECT min(started_at) - 1781514000, count(*) FROM sessions") == [(180, 5)]
    assert rows(db, "SELECT count(*) FROM pulses") == [(3,)]


def test_size_benchmark_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    root = str(Path(__file__).resolve().parents[2])
    if root not in sys.path:
        sys.path.insert(0, root)
    from benchmarks import history_size

    assert history_size.main(["--years", "0.02", "--dir", str(tmp_path), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["days"] == 7
    assert result["sessions"] == 7 * 30
    assert result["sessions_last_14_days"] == 7 * 30
    assert 0 < result["file_mb"] < 1


# -- written-down values: sessions a crash left running (in-process, no child) ----------------


def test_sessions_left_running_are_interrupted_at_their_last_progress_on_reopen(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A history closed with two sessions still running is what a crash leaves behind.
    t0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    h = History.open(db)
    with_progress = h.session_started("pulse", "box", 10, t0)
    h.session_progress(with_progress, 4, t0 + timedelta(minutes=2))
    h.session_started("remote", "calm", 5, t0 + timedelta(hours=1))
    session(h, t0 - timedelta(hours=1), 1.0)
    h.close()
    assert rows(db, "SELECT outcome FROM sessions WHERE outcome IS NULL") == [(None,), (None,)]

    with caplog.at_level(logging.INFO, logger="breathring.history"):
        History.open(db).close()
    assert rows(
        db, "SELECT outcome, breaths_completed, ended_at - started_at FROM sessions ORDER BY id"
    ) == [("interrupted", 4, 120), ("interrupted", 0, 0), ("completed", 3, 60)]
    assert [r.getMessage() for r in caplog.records] == [
        "history: 2 session(s) left running by a crash marked interrupted"
    ]

    # Nothing is left to mark the next time: no message.
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="breathring.history"):
        History.open(db).close()
    assert "marked interrupted" not in caplog.text


# -- written-down values: what is stored, and failures logged once -----------------------------


def test_session_interrupted_keeps_its_progress_and_its_rounded_rate(db: Path) -> None:
    t0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    with History.open(db) as h:
        row = h.session_started("button", "box", 0, t0, rate_start=5.5)  # 0 planned is allowed
        h.session_progress(row, 3, t0 + timedelta(seconds=45))
        h.session_interrupted(row, rate_end=6.126)
        h.session_interrupted(row, rate_end=9.0)  # already ended: unchanged
        bare = h.session_started("remote", "box", 4, t0 + timedelta(hours=1))
        h.session_interrupted(bare, rate_end=float("nan"))  # not a rate: none stored
        with pytest.raises(ValueError, match="breaths_planned must be 0 or more, got -1"):
            h.session_started("button", "box", -1, t0)
    assert rows(
        db,
        "SELECT outcome, breaths_planned, breaths_completed, ended_at - started_at,"
        " rate_start, rate_end FROM sessions ORDER BY id",
    ) == [("interrupted", 0, 3, 45, 5.5, 6.13), ("interrupted", 4, 0, 0, None, None)]


def test_negative_breath_counts_are_stored_as_zero(db: Path) -> None:
    t0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    with History.open(db) as h:
        running = h.session_started("button", "box", 5, t0)
        h.session_progress(running, -2, t0 + timedelta(seconds=10))
        ended = h.session_started("button", "box", 5, t0 + timedelta(minutes=5))
        h.session_ended(ended, -1, False, t0 + timedelta(minutes=6), rate_end=7.004)
        pulse = h.pulse_shown(t0 + timedelta(hours=1))
        h.pulse_answered(pulse, 12.345)
    assert rows(db, "SELECT breaths_completed, rate_end FROM sessions ORDER BY id") == [
        (0, None),
        (0, 7.0),
    ]
    assert rows(db, "SELECT answered, rate FROM pulses") == [(1, 12.35)]


def test_a_failing_history_logs_each_failure_once_and_goes_on(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    with History.open(db) as h:
        with sqlite3.connect(db) as other:  # the tables go away under the history
            other.execute("DROP TABLE sessions")
            other.execute("DROP TABLE pulses")
        with caplog.at_level(logging.INFO, logger="breathring.history"):
            assert h.session_started("button", "box", 5, t0) == 0
            assert h.session_started("button", "box", 5, t0) == 0  # the same failure again
            assert h.prune(t0) == 0
            h.stats(date(2026, 6, 15), 1, UTC)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        "history write failed (no such table: sessions); continuing without it",
        "history prune failed (no such table: sessions); continuing without it",
        "history read failed (no such table: sessions); continuing without it",
    ]


def test_prune_logs_how_many_old_rows_it_erased(db: Path, caplog: pytest.LogCaptureFixture) -> None:
    now = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    with History.open(db) as h:
        session(h, now - timedelta(days=6 * 366), 1.0)
        h.pulse_shown(now - timedelta(days=6 * 366))
        session(h, now - timedelta(days=1), 1.0)
        with caplog.at_level(logging.INFO, logger="breathring.history"):
            assert h.prune(now) == 2
            assert h.prune(now) == 0
    assert [r.getMessage() for r in caplog.records] == ["history: pruned 2 old rows"]
    assert rows(db, "SELECT count(*) FROM sessions") == [(1,)]


def test_a_closed_history_says_so(hist: History) -> None:
    hist.close()
    with pytest.raises(
        HistoryError,
        match=r"^could not clear the history in .*history\.sqlite3: the history is closed$",
    ):
        hist.clear()


class _DamagedConnection:
    """A connection whose file turned out damaged while running (SQLITE_CORRUPT, code 11)."""

    def execute(self, *_args: object) -> None:
        err = sqlite3.DatabaseError("database disk image is malformed")
        err.sqlite_errorcode = 11  # type: ignore[attr-defined]
        raise err

    def close(self) -> None:
        pass


def test_damage_found_while_running_moves_the_file_aside_and_starts_a_fresh_one(
    db: Path, caplog: pytest.LogCaptureFixture
) -> None:
    t0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)
    with History.open(db) as h:
        session(h, t0, 1.0)
        h._conn = _DamagedConnection()  # type: ignore[assignment]
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            assert h.session_started("button", "box", 3, t0 + timedelta(hours=1)) == 0
        assert not h.in_memory
        session(h, t0 + timedelta(hours=2), 2.0)
        assert h.stats(date(2026, 6, 15), 1, UTC)["today"]["minutes"] == 2.0
    (aside,) = (p for p in db.parent.glob("history.sqlite3.corrupt-*") if "-wal" not in p.name)
    assert rows(aside, "SELECT ended_at - started_at FROM sessions") == [(60,)]
    assert [r.getMessage() for r in caplog.records] == [
        f"history {db} is damaged (database disk image is malformed); moved it to {aside.name}"
        " and started a fresh one"
    ]
