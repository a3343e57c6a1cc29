"""The breathing history: sessions and hourly pulses in a small SQLite file.

The service keeps one `History` on `$STATE_DIRECTORY/history.sqlite3`. Each
session is one row written when it starts (outcome NULL) and finished when it
ends; each pulse is one row, marked answered when a session starts during it.
A session also keeps the breathing rate measured at its start and end, and an
answered pulse the rate when it was shown (NULL without a fresh reading from a
breath sensor, `[breath_sensor]`). Nothing else is stored: no audio, no
identifiers. Timestamps are UTC epoch seconds plus the UTC offset at the time,
all given by the caller (this module never reads a clock).

The file itself (schema, WAL journal for an SD card, moving a damaged file aside)
is history_file.py's.

Crash recovery: a session row still open when the file is opened (SIGKILL,
power cut) becomes outcome "interrupted" with the breaths recorded by the last
`session_progress`, and its end at that moment.

Never crash the device: a corrupt or unreadable file (or one written by a newer
schema) is moved aside to `history.sqlite3.corrupt-<UTC time>` with a warning
and a fresh file started (at most `MAX_ASIDE_FILES` such copies are kept); if
no file can be used at all, the history lives in memory until the next start.
Storage errors while recording are logged once and ignored. Only `clear()`
raises (`HistoryError`), so the user learns that the history was not erased.

Rows written while the wall clock was not trusted (no network time yet, a
restored or RTC time; the service knows, clock.py `clock_trust`) are marked
`clock_trusted = 0`. Stats still count them, on the local day their time says
(they are real sessions, and the device has no better time for them); a row from
the future simply falls outside every range until its day comes.

Bounded: rows older than `RETENTION_DAYS` (5 years) before the current time are
pruned, but only when the caller vouches for that time (`prune(now)` with a
trusted clock; the service does it once a day); rows written under an untrusted
clock are never pruned for their age, so no row is ever deleted because of a row
from the future or a clock far ahead. The row counts are capped (on open too). Measured with
`python benchmarks/history_size.py` (x86 desktop core, file in RAM): 5 years of
heavy use (30 sessions and 14 pulses a day: 54,780 sessions, 25,564 pulses)
make a 4.2 MB file; opening it (page walk, recovery, pruning) takes 15 ms;
`stats()` takes 22-35 ms for 14 days (most of it the walk of a 5-year streak,
one indexed lookup per day) and 47-78 ms for 366 days. Expect several times
that on a Pi Zero 2 W.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Sequence
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any

from .history_file import (
    SQLITE_CORRUPT,
    SQLITE_NOTADB,
    UnusableFile,
    connect,
    connect_file,
    connect_memory,
    error_code,
    move_aside,
)
from .history_stats import COMPLETED, INTERRUPTED, SECONDS_PER_DAY, STOPPED, DayTally

LOG = logging.getLogger("breathring.history")

#: The history's file in $STATE_DIRECTORY.
HISTORY_FILE = "history.sqlite3"
#: What started a session: the bedside button, its double press, a press during the hourly
#: pulse, or a request over the control socket.
BUTTON, DOUBLE, PULSE, REMOTE = "button", "double", "pulse", "remote"
TRIGGERS = (BUTTON, DOUBLE, PULSE, REMOTE)

#: Decimals of a stored breathing rate (breaths a minute).
RATE_DECIMALS = 2
#: Days a stats query may cover (`breathring stats --days`, the web page's ?days=), and the
#: days shown when none are asked for.
MIN_DAYS, MAX_DAYS = 1, 366
DEFAULT_DAYS = 14
#: Rows older than this before the (trusted) current time are deleted.
RETENTION_DAYS = 5 * 366
#: Caps that bound the file even if something records far too often
#: (5 years at 50 sessions a day; one pulse every hour for 5 years is 43,830).
MAX_SESSION_ROWS = 100_000
MAX_PULSE_ROWS = 50_000


class HistoryError(Exception):
    """The history could not be erased (only `History.clear` raises it)."""


def _stamp(wall: datetime) -> tuple[int, int]:
    """UTC epoch seconds and the UTC offset in seconds of an aware `wall`."""
    offset = wall.utcoffset()
    if offset is None:
        raise ValueError(f"wall time must be timezone-aware, got {wall.isoformat()}")
    return round(wall.timestamp()), int(offset.total_seconds())


def _rate(per_min: float | None) -> float | None:
    """A rate as stored: breaths a minute to 0.01, or None (none measured, or not a rate).

    A rate that rounds to 0.00 is none: stored as 0.0 it would read back as a measured stop.
    """
    if per_min is None or not 0.0 < per_min < float("inf"):
        return None
    stored = round(per_min, RATE_DECIMALS)
    return stored if stored > 0.0 else None


def _check_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}, got {days!r}")
    return days


class History:
    """Sessions and pulses in one SQLite file; safe to share between threads."""

    def __init__(self, conn: sqlite3.Connection, path: Path, *, in_memory: bool) -> None:
        self._conn: sqlite3.Connection | None = conn
        self._lock = threading.RLock()
        self._reported: set[str] = set()
        self.path = path
        #: True when no file could be used and the history lasts until the next start.
        self.in_memory = in_memory

    # -- opening and closing -------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: str | os.PathLike[str],
        *,
        now: datetime | None = None,
        clock_trusted: bool = False,
    ) -> History:
        """Open (create, migrate, recover) the history at `path`; never raises on storage.

        `now`, when given, names a moved-aside copy; old rows are pruned relative to it
        only if `clock_trusted` (otherwise only the row caps apply).
        """
        path = Path(path)
        try:
            conn, in_memory = connect(path, now), False
        except (sqlite3.Error, OSError) as err:
            LOG.warning(
                "history %s cannot be used (%s); keeping the history in memory until restart",
                path,
                err,
            )
            conn, in_memory = connect_memory(), True
        history = cls(conn, path, in_memory=in_memory)
        history._mark_interrupted()
        history.prune(now if clock_trusted else None)
        return history

    def close(self) -> None:
        """Close the file (idempotent); later calls record nothing."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
                self._conn = None

    def __enter__(self) -> History:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # -- recording -----------------------------------------------------------------------

    def session_started(
        self,
        trigger: str,
        pattern: str,
        breaths_planned: int,
        wall: datetime,
        clock_trusted: bool = True,
        rate_start: float | None = None,
    ) -> int:
        """Record a session that starts now; its row id, or 0 if nothing could be written.

        `clock_trusted`: whether `wall` comes from a clock the device trusts; `rate_start`:
        the breathing rate measured as it started (breaths a minute), if any.
        """
        if trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}, got {trigger!r}")
        if breaths_planned < 0:
            raise ValueError(f"breaths_planned must be 0 or more, got {breaths_planned}")
        started_at, offset = _stamp(wall)
        cursor = self._write(
            "INSERT INTO sessions (trigger, pattern, breaths_planned, started_at, utc_offset,"
            " clock_trusted, rate_start) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                trigger,
                pattern,
                breaths_planned,
                started_at,
                offset,
                int(clock_trusted),
                _rate(rate_start),
            ),
        )
        return 0 if cursor is None or cursor.lastrowid is None else cursor.lastrowid

    def session_progress(self, row_id: int, breaths_completed: int, wall: datetime) -> None:
        """Note the breaths done so far, so that a kill keeps them (optional)."""
        ended_at, _ = _stamp(wall)
        self._write(
            "UPDATE sessions SET breaths_completed = ?, ended_at = ?"
            " WHERE id = ? AND outcome IS NULL",
            (max(0, breaths_completed), ended_at, row_id),
        )

    def session_ended(
        self,
        row_id: int,
        breaths_completed: int,
        completed: bool,
        wall: datetime,
        rate_end: float | None = None,
    ) -> None:
        """Finish a running session as completed or stopped (a finished row is left alone).

        `rate_end`: the breathing rate measured as it ended, if any.
        """
        ended_at, _ = _stamp(wall)
        self._write(
            "UPDATE sessions SET breaths_completed = ?, ended_at = ?, outcome = ?, rate_end = ?"
            " WHERE id = ? AND outcome IS NULL",
            (
                max(0, breaths_completed),
                ended_at,
                COMPLETED if completed else STOPPED,
                _rate(rate_end),
                row_id,
            ),
        )

    def session_interrupted(self, row_id: int, rate_end: float | None = None) -> None:
        """The device stops during a session: as after a crash, it keeps its last progress
        (and the breathing rate measured as it stopped, if any)."""
        self._write(
            "UPDATE sessions SET outcome = ?, ended_at = coalesce(ended_at, started_at),"
            " rate_end = ? WHERE id = ? AND outcome IS NULL",
            (INTERRUPTED, _rate(rate_end), row_id),
        )

    def pulse_shown(self, wall: datetime, clock_trusted: bool = True) -> int:
        """Record an hourly pulse; its row id, or 0 if nothing could be written."""
        shown_at, offset = _stamp(wall)
        cursor = self._write(
            "INSERT INTO pulses (shown_at, utc_offset, clock_trusted) VALUES (?, ?, ?)",
            (shown_at, offset, int(clock_trusted)),
        )
        return 0 if cursor is None or cursor.lastrowid is None else cursor.lastrowid

    def pulse_answered(self, row_id: int, rate: float | None = None) -> None:
        """Mark a pulse as answered (a session started during it); `rate`: the breathing
        rate measured when it was shown, if any (kept only for answered pulses)."""
        self._write("UPDATE pulses SET answered = 1, rate = ? WHERE id = ?", (_rate(rate), row_id))

    # -- reading -------------------------------------------------------------------------

    def stats(self, today: date, days: int, tz: tzinfo) -> dict[str, Any]:
        """Totals per local day of `tz` for the `days` days ending `today`, as in DESIGN.md.

        A session counts on the local day it started; a running one counts as a
        session with the breaths and minutes reported so far. Rows written under an
        untrusted clock count too, on the day their time says. `last_session`: when
        the newest session ended (running: started; dated after today only if all
        are), ISO 8601 with its UTC offset, or None.
        """
        _check_days(days)
        tally = DayTally.start(today, days, tz)
        try:
            with self._lock:
                tally.read(self._connection())
        except sqlite3.Error as err:
            self._report("read", err)
        return tally.result()

    # -- housekeeping --------------------------------------------------------------------

    def prune(self, now: datetime | None = None) -> int:
        """Delete rows beyond the row caps and, given a trusted `now`, old rows; rows deleted.

        `now` must come from a trusted clock (None: the time is not known, only the caps
        apply). The age is measured from `now`, never from the rows, and only rows written
        under a trusted clock are aged out: a row from the future erases nothing.
        """
        cutoff = None if now is None else _stamp(now)[0] - RETENTION_DAYS * SECONDS_PER_DAY
        try:
            with self._lock:
                conn = self._connection()
                deleted = 0
                conn.execute("BEGIN IMMEDIATE")
                try:
                    for sql, args in self._prune_statements(cutoff):
                        deleted += conn.execute(sql, args).rowcount
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
        except sqlite3.Error as err:
            self._report("prune", err)
            return 0
        if deleted:
            LOG.info("history: pruned %d old rows", deleted)
        return deleted

    @staticmethod
    def _prune_statements(cutoff: int | None) -> Sequence[tuple[str, tuple[int, ...]]]:
        aged = (
            ()
            if cutoff is None
            else (
                ("DELETE FROM sessions WHERE started_at < ? AND clock_trusted = 1", (cutoff,)),
                ("DELETE FROM pulses WHERE shown_at < ? AND clock_trusted = 1", (cutoff,)),
            )
        )
        return (
            *aged,
            (
                "DELETE FROM sessions WHERE id <= (SELECT id FROM sessions"
                " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (MAX_SESSION_ROWS,),
            ),
            (
                "DELETE FROM pulses WHERE id <= (SELECT id FROM pulses"
                " ORDER BY id DESC LIMIT 1 OFFSET ?)",
                (MAX_PULSE_ROWS,),
            ),
        )

    def clear(self) -> None:
        """Erase every session and pulse, and the freed pages; HistoryError if it fails."""
        try:
            with self._lock:
                conn = self._connection()
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("DELETE FROM sessions")
                    conn.execute("DELETE FROM pulses")
                    conn.execute("COMMIT")
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("VACUUM")
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        except sqlite3.Error as err:
            raise HistoryError(f"could not clear the history in {self.path}: {err}") from err

    # -- internals -----------------------------------------------------------------------

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            raise sqlite3.ProgrammingError("the history is closed")
        return self._conn

    def _write(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor | None:
        try:
            with self._lock:
                return self._connection().execute(sql, args)
        except sqlite3.Error as err:
            self._report("write", err)
            return None

    def _report(self, what: str, err: sqlite3.Error) -> None:
        if error_code(err) in (SQLITE_CORRUPT, SQLITE_NOTADB) and not self.in_memory:
            self._replace_corrupt_file(err)
            return
        key = f"{what}: {err}"
        if key not in self._reported:
            self._reported.add(key)
            LOG.warning("history %s failed (%s); continuing without it", what, err)

    def _replace_corrupt_file(self, err: sqlite3.Error) -> None:
        """Damage found while running: move the file aside and carry on with a fresh one."""
        with self._lock:
            if self._conn is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.close()
            try:
                target = move_aside(self.path, None)
                self._conn = connect_file(self.path)
            except (sqlite3.Error, OSError, UnusableFile) as why:
                LOG.warning("history %s: %s; keeping it in memory until restart", self.path, why)
                self._conn, self.in_memory = connect_memory(), True
                return
        LOG.warning(
            "history %s is damaged (%s); moved it to %s and started a fresh one",
            self.path,
            err,
            target.name,
        )

    def _mark_interrupted(self) -> None:
        try:
            with self._lock:
                count = (
                    self._connection()
                    .execute(
                        "UPDATE sessions SET outcome = ?, ended_at = coalesce(ended_at, started_at)"
                        " WHERE outcome IS NULL",
                        (INTERRUPTED,),
                    )
                    .rowcount
                )
        except sqlite3.Error as err:
            self._report("recovery", err)
            return
        if count:
            LOG.info("history: %d session(s) left running by a crash marked interrupted", count)
