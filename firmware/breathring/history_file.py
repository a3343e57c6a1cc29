"""The history's SQLite file: schema, journal settings, opening, checking, moving it aside.

Journal: WAL with `synchronous=FULL`, chosen for an SD card. A commit in WAL
mode appends the changed pages to one file and fsyncs it once; the rollback
journal creates, fsyncs and deletes a second file and fsyncs the database for
every commit (two to three flushes plus file-system metadata writes), which
wears the card more and stalls the caller longer. FULL, not NORMAL: with NORMAL
a power cut may roll back every commit since the last checkpoint, so finished
sessions could vanish; with FULL a power cut or SIGKILL loses at most the
session in progress. Small automatic checkpoints and a WAL size limit keep the
`-wal` file under about 1 MB.

A corrupt or unreadable file (or one written by a newer schema) is moved aside
to `history.sqlite3.corrupt-<UTC time>` and a fresh file started (at most
`MAX_ASIDE_FILES` such copies are kept); history.History decides when.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

LOG = logging.getLogger("breathring.history")

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
SQLITE_PERM, SQLITE_READONLY, SQLITE_IOERR = 3, 8, 10
SQLITE_CORRUPT, SQLITE_CANTOPEN, SQLITE_NOTADB = 11, 14, 26
UNUSABLE_CODES = frozenset(
    {
        SQLITE_PERM,
        SQLITE_READONLY,
        SQLITE_IOERR,
        SQLITE_CORRUPT,
        SQLITE_CANTOPEN,
        SQLITE_NOTADB,
    }
)
PRIMARY_CODE_MASK = 0xFF

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
    # 2 -> 3: whether the wall clock was trusted when the row was written (0: its time may be
    # anything, e.g. a bad RTC years ahead; such rows are never pruned for their age).
    (
        "ALTER TABLE sessions ADD COLUMN clock_trusted INTEGER NOT NULL DEFAULT 1"
        " CHECK (clock_trusted IN (0, 1))",
        "ALTER TABLE pulses ADD COLUMN clock_trusted INTEGER NOT NULL DEFAULT 1"
        " CHECK (clock_trusted IN (0, 1))",
    ),
    # 3 -> 4: the measured breathing rate (breaths a minute) at a session's start and end,
    # and during an answered pulse (when it was shown); NULL: no fresh reading.
    (
        "ALTER TABLE sessions ADD COLUMN rate_start REAL CHECK (rate_start > 0)",
        "ALTER TABLE sessions ADD COLUMN rate_end REAL CHECK (rate_end > 0)",
        "ALTER TABLE pulses ADD COLUMN rate REAL CHECK (rate > 0)",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)


class UnusableFile(Exception):
    """The file is corrupt, unreadable or from a newer schema: move it aside."""


def error_code(err: sqlite3.Error) -> int | None:
    code = getattr(err, "sqlite_errorcode", None)
    return None if code is None else code & PRIMARY_CODE_MASK


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
        raise UnusableFile(f"schema version {version} is newer than {SCHEMA_VERSION}")
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


def connect_file(path: Path) -> sqlite3.Connection:
    """Open, check and migrate the file; UnusableFile if it must be moved aside."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if _loops(path):
        raise UnusableFile("a symbolic link that loops")
    if path.exists() and not path.is_file():
        raise UnusableFile("not a regular file")
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    try:
        _configure(conn)
        _migrate(conn)
        _read_every_page(conn)
    except sqlite3.Error as err:
        conn.close()
        if error_code(err) in UNUSABLE_CODES:
            raise UnusableFile(str(err)) from err
        raise
    except BaseException:
        conn.close()
        raise
    return conn


def _loops(path: Path) -> bool:
    """The path is a symbolic link that never ends in a file (a link to nowhere is not: SQLite
    makes the file it names)."""
    try:
        path.stat()
    except OSError as err:
        return err.errno == errno.ELOOP
    return False


def connect_memory() -> sqlite3.Connection:
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


def move_aside(path: Path, now: datetime | None) -> Path:
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
    # lstat: a copy that is a link to nowhere (moved elsewhere by hand) has an age too.
    copies = sorted(_aside_copies(path), key=lambda p: p.lstat().st_mtime)
    for old in copies[:-MAX_ASIDE_FILES]:
        for victim in (old, old.with_name(old.name + "-wal")):
            with contextlib.suppress(OSError):
                victim.unlink()
    return target


def connect(path: Path, now: datetime | None) -> sqlite3.Connection:
    """The checked and migrated file at `path`; an unusable one is moved aside first.

    OSError (or sqlite3.Error) when no file can be used there at all.
    """
    try:
        return connect_file(path)
    except UnusableFile as why:
        target = move_aside(path, now)
        LOG.warning(
            "history %s is unusable (%s); moved it to %s and started a fresh one",
            path,
            why,
            target.name,
        )
    try:
        return connect_file(path)
    except UnusableFile as why:
        raise OSError(f"a fresh history file is unusable too: {why}") from why
