"""What the history says: totals per local day, the streak and the last session, read from SQLite.

The reading side of history.py: one pass over the rows of the days asked for, a streak
walked back day by day, and the newest session's end (or start) with its UTC offset.
The measured breathing rates: each day's mean before and after (over its sessions with
both), and the newest sessions with a rate, one by one.
"""

from __future__ import annotations

import sqlite3
from bisect import bisect_right
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone, tzinfo
from typing import Any

#: How a session ended (the `outcome` column).
COMPLETED, STOPPED, INTERRUPTED = "completed", "stopped", "interrupted"
#: The longest a session can last (100 breaths of 30 s in, hold, out, hold is
#: 3 h 20 min); a longer span means the wall clock jumped during it.
MAX_SESSION_SECONDS = 4 * 3600
SECONDS_PER_MINUTE = 60.0
SECONDS_PER_DAY = 86400
MINUTES_DECIMALS = 1
#: Breathing rates (breaths a minute) are reported to this many decimals.
RATE_DECIMALS = 1
#: At most this many sessions with a measured rate are listed (the newest of the days asked).
MAX_RATED_SESSIONS = 100


def _empty_day(day: date) -> dict[str, Any]:
    return {
        "date": day.isoformat(),
        "sessions": 0,
        "completed": 0,
        "breaths": 0,
        "minutes": 0.0,
        "breath_rate": None,
    }


def _rate(per_min: float | None) -> float | None:
    return None if per_min is None else round(per_min, RATE_DECIMALS)


@dataclass
class _RateSums:
    """One day's sessions with a rate at both ends: their sums, for the means."""

    start: float = 0.0
    end: float = 0.0
    sessions: int = 0

    def add(self, start: float | None, end: float | None) -> None:
        if start is not None and end is not None:
            self.start += start
            self.end += end
            self.sessions += 1

    def result(self) -> dict[str, Any] | None:
        """`{"start", "end", "sessions"}`: the means and how many, or None without any."""
        if not self.sessions:
            return None
        return {
            "start": round(self.start / self.sessions, RATE_DECIMALS),
            "end": round(self.end / self.sessions, RATE_DECIMALS),
            "sessions": self.sessions,
        }


def _session_seconds(started_at: int, ended_at: int | None) -> int:
    if ended_at is None:
        return 0
    return max(0, min(MAX_SESSION_SECONDS, ended_at - started_at))


def _midnight(day: date, tz: tzinfo) -> int:
    """UTC seconds at which local `day` starts in `tz` (DST-aware with zoneinfo).

    Where a DST gap swallows midnight, 00:00 read with the offset before the
    change is the moment of the change itself: the first instant of the day.
    """
    return int(datetime.combine(day, time(), tz).timestamp())


def _streak(conn: sqlite3.Connection, today: date, tz: tzinfo) -> int:
    """Consecutive local days with a completed session, ending today or yesterday.

    One indexed lookup per day of the streak (the newest completed session before
    the day's end), so a years-long streak costs milliseconds, not a table scan.
    """

    def newest_before(moment: int) -> int | None:
        row = conn.execute(
            "SELECT started_at FROM sessions WHERE outcome = ? AND started_at < ?"
            " ORDER BY started_at DESC LIMIT 1",
            (COMPLETED, moment),
        ).fetchone()
        return None if row is None else row[0]

    one_day = timedelta(days=1)
    newest = newest_before(_midnight(today + one_day, tz))
    day = today if newest is not None and newest >= _midnight(today, tz) else today - one_day
    streak = 0
    while newest is not None:
        start = _midnight(day, tz)
        if newest < start:
            break
        streak += 1
        newest = newest_before(start)
        day -= one_day
    return streak


def _last_session(conn: sqlite3.Connection, before: int) -> str | None:
    """When the newest session ended (a running one: when it started), or None.

    Newest by start, among those that started before `before` (the end of today), so
    a row stamped by a clock far ahead does not stay the newest for years; only if
    every session is dated later is the newest of those taken. ISO 8601 to the
    second, with the UTC offset the row was written with.
    """
    sql = (
        "SELECT CASE WHEN outcome IS NULL THEN started_at"
        " ELSE coalesce(ended_at, started_at) END, utc_offset FROM sessions{}"
        " ORDER BY started_at DESC, id DESC LIMIT 1"
    )
    row = conn.execute(sql.format(" WHERE started_at < ?"), (before,)).fetchone()
    if row is None:
        row = conn.execute(sql.format("")).fetchone()
    if row is None:
        return None
    moment, offset = row
    zone = timezone(timedelta(seconds=offset))
    return datetime.fromtimestamp(moment, zone).isoformat(timespec="seconds")


@dataclass
class DayTally:
    """The stats of `days` local days ending `today`, filled in by `read`."""

    today: date
    tz: tzinfo
    listed: list[dict[str, Any]]
    bounds: list[int]
    seconds: list[int]
    pulses: dict[str, int] = field(default_factory=lambda: {"shown": 0, "answered": 0})
    streak: int = 0
    last_session: str | None = None
    rates: list[_RateSums] = field(default_factory=list)
    #: Sessions with a measured rate, oldest first (the newest MAX_RATED_SESSIONS).
    rated: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def start(cls, today: date, days: int, tz: tzinfo) -> DayTally:
        first = today - timedelta(days=days - 1)
        return cls(
            today,
            tz,
            listed=[_empty_day(first + timedelta(days=i)) for i in range(days)],
            bounds=[_midnight(first + timedelta(days=i), tz) for i in range(days + 1)],
            seconds=[0] * days,
            rates=[_RateSums() for _ in range(days)],
        )

    def read(self, conn: sqlite3.Connection) -> None:
        """Count the sessions and pulses of the days, and the streak (sqlite3.Error may stop it)."""
        bounds, listed = self.bounds, self.listed
        for started_at, ended_at, breaths, outcome, rate_start, rate_end in conn.execute(
            "SELECT started_at, ended_at, breaths_completed, outcome, rate_start, rate_end"
            " FROM sessions WHERE started_at >= ? AND started_at < ?",
            (bounds[0], bounds[-1]),
        ):
            i = bisect_right(bounds, started_at) - 1
            entry = listed[i]
            entry["sessions"] += 1
            entry["completed"] += outcome == COMPLETED
            entry["breaths"] += breaths
            self.seconds[i] += _session_seconds(started_at, ended_at)
            self.rates[i].add(rate_start, rate_end)
        self.rated = _rated_sessions(conn, bounds[0], bounds[-1])
        (shown, answered) = conn.execute(
            "SELECT count(*), coalesce(sum(answered), 0) FROM pulses"
            " WHERE shown_at >= ? AND shown_at < ?",
            (bounds[0], bounds[-1]),
        ).fetchone()
        self.pulses = {"shown": shown, "answered": answered}
        self.streak = _streak(conn, self.today, self.tz)
        self.last_session = _last_session(conn, self.bounds[-1])

    def result(self) -> dict[str, Any]:
        for entry, total, rates in zip(self.listed, self.seconds, self.rates, strict=True):
            entry["minutes"] = round(total / SECONDS_PER_MINUTE, MINUTES_DECIMALS)
            entry["breath_rate"] = rates.result()
        return {
            "today": dict(self.listed[-1]),
            "streak_days": self.streak,
            "days": self.listed,
            "pulses": self.pulses,
            "last_session": self.last_session,
            "breath_rates": self.rated,
        }


def _rated_sessions(conn: sqlite3.Connection, start: int, end: int) -> list[dict[str, Any]]:
    """The newest sessions started in [start, end) with a rate at either end, oldest first."""
    found = conn.execute(
        "SELECT started_at, utc_offset, pattern, outcome, rate_start, rate_end FROM sessions"
        " WHERE started_at >= ? AND started_at < ?"
        " AND (rate_start IS NOT NULL OR rate_end IS NOT NULL)"
        " ORDER BY started_at DESC, id DESC LIMIT ?",
        (start, end, MAX_RATED_SESSIONS),
    ).fetchall()
    return [
        {
            "started": datetime.fromtimestamp(
                started_at, timezone(timedelta(seconds=offset))
            ).isoformat(timespec="seconds"),
            "pattern": pattern,
            "outcome": outcome,
            "rate_start": _rate(rate_start),
            "rate_end": _rate(rate_end),
        }
        for started_at, offset, pattern, outcome, rate_start, rate_end in reversed(found)
    ]
