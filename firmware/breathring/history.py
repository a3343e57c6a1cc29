"""The breathing history: sessions and hourly pulses in a small SQLite file.

The service keeps one `History` on `$STATE_DIRECTORY/history.sqlite3`. Each
session is one row written when it starts (outcome NULL) and finished when it
ends; each pulse is one row, marked answered when a session starts during it.
Nothing else is stored: no audio, no identifiers. Timestamps are UTC epoch
seconds plus the UTC offset at the time, all given by the caller (this module
never reads a clock).

Journal: WAL with `synchronous=FULL`, chosen for an SD card. A commit in WAL
mode appends the changed pages to one file and fsyncs it once; the rollback
journal creates, fsyncs and deletes a second file and fsyncs the database for
every commit (two to three flushes plus file-system metadata writes), which
wears the card more and stalls the caller longer. FULL, not NORMAL: with NORMAL
a power cut may roll back every commit since the last checkpoint, so finished
sessions could vanish; with FULL a power cut or SIGKILL loses at most the
session in progress. Small automatic checkpoints and a WAL size limit keep the
`-wal` file under about 1 MB.

Crash recovery: a session row still open when the file is opened (SIGKILL,
power cut) becomes outcome "interrupted" with the breaths recorded by the last
`session_progress`, and its end at that moment.

Never crash the device: a corrupt or unreadable file (or one written by a newer
schema) is moved aside to `history.sqlite3.corrupt-<UTC time>` with a warning
and a fresh file started (at most `MAX_ASIDE_FILES` such copies are kept); if
no file can be used at all, the history lives in memory until the next start.
Storage errors while recording are logged once and ignored. Only `clear()`
raises (`HistoryError`), so the user learns that the history was not erased.

Bounded: rows older than `RETENTION_DAYS` (5 years) before the newest row are
pruned on open, and the row counts are capped. Measured with
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
from bisect import bisect_right
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from pathlib import Path
from typing import Any

LOG = logging.getLogger("breathring.history")

#: The history's file in $STATE_DIRECTORY.
HISTORY_FILE = "history.sqlite3"
#: What started a session: the bedside button, its double press, a press during the hourly
#: pulse, or a request over the control socket.
BUTTON, DOUBLE, PULSE, REMOTE = "button", "double", "pulse", "remote"
TRIGGERS = (BUTTON, DOUBLE, PULSE, REMOTE)
COMPLETED, STOPPED, INTERRUPTED = "completed", "stopped", "interrupted"

#: Days a stats query may cover (`breathring stats --days`, the web page's ?days=), and the
#: days shown when none are asked for.
MIN_DAYS, MAX_DAYS = 1, 366
DEFAULT_DAYS = 14
#: Rows older than this before the newest row are deleted on open.
RETENTION_DAYS = 5 * 366
#: Caps that bound the file even if something records far too often
#: (5 years at 50 sessions a day; one pulse every hour for 5 years is 43,830).
MAX_SESSION_ROWS = 100_000
MAX_PULSE_ROWS = 50_000
#: The longest a session can last (100 breaths of 30 s in, hold, out, hold is
#: 3 h 20 min); a longer span means the wall clock jumped during it.
MAX_SESSION_SECONDS = 4 * 3600
SECONDS_PER_MINUTE = 60.0
MINUTES_DECIMALS = 1
#: Corrupt copies kept beside the file; older ones are deleted.
MAX_ASIDE_FILES = 3
ASIDE_INFIX = ".corrupt-"
#: How long to wait for another connection's lock before giving up.
BUSY_TIMEOUT_S = 2.0
#: WAL pages between automatic checkpoints, and the size the WAL is cut back to.
WAL_AUTOCHECKPOINT_PAGES = 100
WAL_SIZE_LIMIT_BYTES = 1 << 20
SIDE_FILES = ("-wal", "-shm", "-journal")

#: SQLite primary result codes that mean "this file cannot be used".
_SQLITE_PERM, _SQLITE_READONLY, _SQLITE_IOERR = 3, 8, 10
_SQLITE_CORRUPT, _SQLITE_CANTOPEN, _SQLITE_NOTADB = 11, 14, 26
_UNUSABLE_CODES = frozenset(
    {
        _SQLITE_PERM,
        _SQLITE_READONLY,
        _SQLITE_IOERR,
        _SQLITE_CORRUPT,
        _SQLITE_CANTOPEN,
        _SQLITE_NOTADB,
    }
)
_PRIMARY_CODE_MASK = 0xFF

#: Schema migrations: MIGRATIONS[n] takes the file from user_version n to n + 1.
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    # 0 -> 1: the two tables. A session's ended_at is its end, or while it runs
    # (outcome NULL) the time of its last progress report.
    (
        """CREATE TABLE sessions (
            id INTEGER PRIMARY KEY,
            trigger TEXT NOT NULL CHECK (trigger IN ('button', 'double', 'pulse', 'remote')),
            pattern TEXT NOT NULL,
            breaths_planned INTEGER NOT NULL CHECK (breaths_planned >= 0),
            breaths_completed INTEGER NOT NULL DEFAULT 0 CHECK (breaths_completed >= 0),
            started_at INTEGER NOT NULL,
            utc_offset INTEGER NOT NULL,
            ended_at INTEGER,
            outcome TEXT CHECK (outcome IN ('completed', 'stopped', 'interrupted'))
        )""",
        """CREATE TABLE pulses (
            id INTEGER PRIMARY KEY,
            shown_at INTEGER NOT NULL,
            utc_offset INTEGER NOT NULL,
            answered INTEGER NOT NULL DEFAULT 0 CHECK (answered IN (0, 1))
        )""",
    ),
    # 1 -> 2: time indexes for the stats ranges, the streak walk and pruning.
    (
        "CREATE INDEX sessions_started_at ON sessions (started_at)",
        "CREATE INDEX pulses_shown_at ON pulses (shown_at)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class HistoryError(Exception):
    """The history could not be erased (only `History.clear` raises it)."""


class _UnusableFile(Exception):
    """The file is corrupt, unreadable or from a newer schema: move it aside."""


def _stamp(wall: datetime) -> tuple[int, int]:
    """UTC epoch seconds and the UTC offset in seconds of an aware `wall`."""
    offset = wall.utcoffset()
    if offset is None:
        raise ValueError(f"wall time must be timezone-aware, got {wall.isoformat()}")
    return round(wall.timestamp()), int(offset.total_seconds())


def _check_days(days: object) -> int:
    if isinstance(days, bool) or not isinstance(days, int) or not MIN_DAYS <= days <= MAX_DAYS:
        raise ValueError(f"days must be a whole number from {MIN_DAYS} to {MAX_DAYS}, got {days!r}")
    return days


def _empty_day(day: date) -> dict[str, Any]:
    return {"date": day.isoformat(), "sessions": 0, "completed": 0, "breaths": 0, "minutes": 0.0}


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


def _error_code(err: sqlite3.Error) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    return None if code is None else code & _PRIMARY_CODE_MASK


def _configure(conn: sqlite3.Connection) -> None:
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute(f"PRAGMA wal_autocheckpoint = {WAL_AUTOCHECKPOINT_PAGES}")
    conn.execute(f"PRAGMA journal_size_limit = {WAL_SIZE_LIMIT_BYTES}")


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring the schema to SCHEMA_VERSION, one transaction per step."""
    (version,) = conn.execute("PRAGMA user_version").fetchone()
    if version > SCHEMA_VERSION:
        raise _UnusableFile(f"schema version {version} is newer than {SCHEMA_VERSION}")
    for step in range(version, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            for statement in MIGRATIONS[step]:
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {step + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        LOG.debug("history schema migrated to version %d", step + 1)


#: Reads that visit every page of each table and index (PRAGMA quick_check takes
#: ten times as long on a 4 MB file; damage it would miss inside rows is found by
#: the query that meets it, and the file is then replaced at run time).
_PAGE_WALK = (
    "SELECT count(*) FROM sessions NOT INDEXED",
    "SELECT count(*) FROM pulses NOT INDEXED",
    "SELECT count(*) FROM sessions INDEXED BY sessions_started_at WHERE started_at > -1e300",
    "SELECT count(*) FROM pulses INDEXED BY pulses_shown_at WHERE shown_at > -1e300",
)


def _read_every_page(conn: sqlite3.Connection) -> None:
    for sql in _PAGE_WALK:
        conn.execute(sql).fetchone()


def _connect_file(path: Path) -> sqlite3.Connection:
    """Open, check and migrate the file; _UnusableFile if it must be moved aside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and not path.is_file():
        raise _UnusableFile("not a regular file")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(conn)
        _migrate(conn)
        _read_every_page(conn)
    except sqlite3.Error as err:
        conn.close()
        if _error_code(err) in _UNUSABLE_CODES:
            raise _UnusableFile(str(err)) from err
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def _connect_memory() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    _migrate(conn)
    return conn


def _aside_stamp(path: Path, now: datetime | None) -> str:
    if now is not None:
        moment = now.astimezone(UTC)
    else:
        try:
            moment = datetime.fromtimestamp(path.stat().st_mtime, UTC)
        except OSError:
            return "unknown"
    return moment.strftime("%Y%m%dT%H%M%SZ")


def _aside_copies(path: Path) -> list[Path]:
    prefix = path.name + ASIDE_INFIX
    return [
        p
        for p in path.parent.glob(prefix + "*")
        if not any(p.name.endswith(side) for side in SIDE_FILES)
    ]


def _move_aside(path: Path, now: datetime | None) -> Path:
    """Rename the file (and its WAL) to <name>.corrupt-<time>; keep a few such copies."""
    base = path.with_name(f"{path.name}{ASIDE_INFIX}{_aside_stamp(path, now)}")
    target, n = base, 1
    while target.exists():
        n += 1
        target = base.with_name(f"{base.name}-{n}")
    os.replace(path, target)
    for side in SIDE_FILES:
        sidecar = path.with_name(path.name + side)
        with contextlib.suppress(FileNotFoundError):
            if side == "-wal":
                os.replace(sidecar, target.with_name(target.name + side))
            else:
                sidecar.unlink()
    copies = sorted(_aside_copies(path), key=lambda p: p.stat().st_mtime)
    for old in copies[:-MAX_ASIDE_FILES]:
        for victim in (old, old.with_name(old.name + "-wal")):
            with contextlib.suppress(OSError):
                victim.unlink()
    return target


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
    def open(cls, path: str | os.PathLike[str], *, now: datetime | None = None) -> History:
        """Open (create, migrate, recover) the history at `path`; never raises on storage.

        `now`, when given, names a moved-aside copy and guards pruning against rows
        stamped in the future by a wrong clock.
        """
        path = Path(path)
        try:
            conn, in_memory = cls._connect(path, now), False
        except (sqlite3.Error, OSError) as err:
            LOG.warning(
                "history %s cannot be used (%s); keeping the history in memory until restart",
                path,
                err,
            )
            conn, in_memory = _connect_memory(), True
        history = cls(conn, path, in_memory=in_memory)
        history._mark_interrupted()
        history.prune(now)
        return history

    @staticmethod
    def _connect(path: Path, now: datetime | None) -> sqlite3.Connection:
        try:
            return _connect_file(path)
        except _UnusableFile as why:
            target = _move_aside(path, now)
            LOG.warning(
                "history %s is unusable (%s); moved it to %s and started a fresh one",
                path,
                why,
                target.name,
            )
        try:
            return _connect_file(path)
        except _UnusableFile as why:
            raise OSError(f"a fresh history file is unusable too: {why}") from why

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
        self, trigger: str, pattern: str, breaths_planned: int, wall: datetime
    ) -> int:
        """Record a session that starts now; its row id, or 0 if nothing could be written."""
        if trigger not in TRIGGERS:
            raise ValueError(f"trigger must be one of {', '.join(TRIGGERS)}, got {trigger!r}")
        if breaths_planned < 0:
            raise ValueError(f"breaths_planned must be 0 or more, got {breaths_planned}")
        started_at, offset = _stamp(wall)
        cursor = self._write(
            "INSERT INTO sessions (trigger, pattern, breaths_planned, started_at, utc_offset)"
            " VALUES (?, ?, ?, ?, ?)",
            (trigger, pattern, breaths_planned, started_at, offset),
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
        self, row_id: int, breaths_completed: int, completed: bool, wall: datetime
    ) -> None:
        """Finish a running session as completed or stopped (a finished row is left alone)."""
        ended_at, _ = _stamp(wall)
        self._write(
            "UPDATE sessions SET breaths_completed = ?, ended_at = ?, outcome = ?"
            " WHERE id = ? AND outcome IS NULL",
            (max(0, breaths_completed), ended_at, COMPLETED if completed else STOPPED, row_id),
        )

    def pulse_shown(self, wall: datetime) -> int:
        """Record an hourly pulse; its row id, or 0 if nothing could be written."""
        shown_at, offset = _stamp(wall)
        cursor = self._write(
            "INSERT INTO pulses (shown_at, utc_offset) VALUES (?, ?)", (shown_at, offset)
        )
        return 0 if cursor is None or cursor.lastrowid is None else cursor.lastrowid

    def pulse_answered(self, row_id: int) -> None:
        """Mark a pulse as answered (a session started during it)."""
        self._write("UPDATE pulses SET answered = 1 WHERE id = ?", (row_id,))

    # -- reading -------------------------------------------------------------------------

    def stats(self, today: date, days: int, tz: tzinfo) -> dict[str, Any]:
        """Totals per local day of `tz` for the `days` days ending `today`, as in DESIGN.md.

        A session counts on the local day it started; a running one counts as a
        session with the breaths and minutes reported so far.
        """
        _check_days(days)
        first = today - timedelta(days=days - 1)
        listed = [_empty_day(first + timedelta(days=i)) for i in range(days)]
        seconds = [0] * days
        bounds = [_midnight(first + timedelta(days=i), tz) for i in range(days + 1)]
        pulses = {"shown": 0, "answered": 0}
        streak = 0
        try:
            with self._lock:
                conn = self._connection()
                for started_at, ended_at, breaths, outcome in conn.execute(
                    "SELECT started_at, ended_at, breaths_completed, outcome FROM sessions"
                    " WHERE started_at >= ? AND started_at < ?",
                    (bounds[0], bounds[-1]),
                ):
                    i = bisect_right(bounds, started_at) - 1
                    entry = listed[i]
                    entry["sessions"] += 1
                    entry["completed"] += outcome == COMPLETED
                    entry["breaths"] += breaths
                    seconds[i] += _session_seconds(started_at, ended_at)
                (shown, answered) = conn.execute(
                    "SELECT count(*), coalesce(sum(answered), 0) FROM pulses"
                    " WHERE shown_at >= ? AND shown_at < ?",
                    (bounds[0], bounds[-1]),
                ).fetchone()
                pulses = {"shown": shown, "answered": answered}
                streak = _streak(conn, today, tz)
        except sqlite3.Error as err:
            self._report("read", err)
        for entry, total in zip(listed, seconds, strict=True):
            entry["minutes"] = round(total / SECONDS_PER_MINUTE, MINUTES_DECIMALS)
        return {
            "today": dict(listed[-1]),
            "streak_days": streak,
            "days": listed,
            "pulses": pulses,
        }

    # -- housekeeping --------------------------------------------------------------------

    def prune(self, now: datetime | None = None) -> int:
        """Delete rows older than RETENTION_DAYS and beyond the row caps; rows deleted.

        The age is measured from the newest row (or from `now` if that is earlier),
        so a clock that is wrong at boot never erases the history.
        """
        try:
            with self._lock:
                conn = self._connection()
                (newest,) = conn.execute(
                    "SELECT max(t) FROM (SELECT max(started_at) AS t FROM sessions"
                    " UNION ALL SELECT max(shown_at) FROM pulses)"
                ).fetchone()
                if newest is None:
                    return 0
                if now is not None:
                    newest = min(newest, _stamp(now)[0])
                cutoff = newest - RETENTION_DAYS * 86400
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
    def _prune_statements(cutoff: int) -> Sequence[tuple[str, tuple[int, ...]]]:
        return (
            ("DELETE FROM sessions WHERE started_at < ?", (cutoff,)),
            ("DELETE FROM pulses WHERE shown_at < ?", (cutoff,)),
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
        if _error_code(err) in (_SQLITE_CORRUPT, _SQLITE_NOTADB) and not self.in_memory:
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
                target = _move_aside(self.path, None)
                self._conn = _connect_file(self.path)
            except (sqlite3.Error, OSError, _UnusableFile) as why:
                LOG.warning("history %s: %s; keeping it in memory until restart", self.path, why)
                self._conn, self.in_memory = _connect_memory(), True
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
