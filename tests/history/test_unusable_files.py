"""A history file that cannot be used: moved aside under a UTC time stamp with a warning that
says why (word for word), a fresh file started, a few copies kept; and what is not moved aside.

The stamps and messages are written out here as the device writes them.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from testkit.logs import messages
from testkit.sqlite_rows import rows

from breathring import history_file
from breathring.history import History
from breathring.history_file import move_aside

BERLIN = ZoneInfo("Europe/Berlin")
#: 09:30:05 in Berlin (summer time) is 07:30:05 UTC.
NOW = datetime(2026, 6, 15, 9, 30, 5, tzinfo=BERLIN)
STAMP = "20260615T073005Z"
#: A file time: 2023-11-14 22:13:20 UTC.
MTIME = 1_700_000_000
MTIME_STAMP = "20231114T221320Z"


def garbage(path: Path, text: bytes = b"a shopping list\n") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text * 100
    path.write_bytes(data)
    return data


def names(folder: Path, pattern: str = "history.sqlite3.corrupt-*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))


@pytest.fixture
def new_york_machine(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The machine's own time zone is New York's (stamps must still be UTC)."""
    monkeypatch.setenv("TZ", "America/New_York")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


# -- why, word for word ------------------------------------------------------------------------


def test_a_file_that_is_no_database_is_moved_aside_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "history.sqlite3"
    data = garbage(db)
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(db, now=NOW):
        pass
    assert (tmp_path / f"history.sqlite3.corrupt-{STAMP}").read_bytes() == data
    assert messages(caplog, logging.WARNING) == [
        f"history {db} is unusable (file is not a database); moved it to "
        f"history.sqlite3.corrupt-{STAMP} and started a fresh one"
    ]


def test_a_directory_in_its_place_is_moved_aside_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "history.sqlite3"
    (db / "inside").mkdir(parents=True)
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(db, now=NOW):
        pass
    assert (tmp_path / f"history.sqlite3.corrupt-{STAMP}" / "inside").is_dir()
    assert db.is_file()
    assert messages(caplog, logging.WARNING) == [
        f"history {db} is unusable (not a regular file); moved it to "
        f"history.sqlite3.corrupt-{STAMP} and started a fresh one"
    ]


def test_a_symbolic_link_that_loops_is_moved_aside_saying_so(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "history.sqlite3"
    other = tmp_path / "other"
    db.symlink_to(other)
    other.symlink_to(db)
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(db, now=NOW):
        pass
    aside = tmp_path / f"history.sqlite3.corrupt-{STAMP}"
    assert aside.is_symlink() and os.readlink(aside) == str(other)  # the link itself, kept
    assert db.is_file() and not db.is_symlink()
    assert messages(caplog, logging.WARNING) == [
        f"history {db} is unusable (a symbolic link that loops); moved it to "
        f"history.sqlite3.corrupt-{STAMP} and started a fresh one"
    ]


def test_a_link_to_a_file_not_yet_made_is_followed_not_moved_aside(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    target = tmp_path / "elsewhere.sqlite3"
    db.symlink_to(target)
    History.open(db, now=NOW).close()
    assert db.is_symlink() and target.is_file()
    assert names(tmp_path) == []


def test_a_file_from_a_newer_schema_is_moved_aside_naming_both_versions(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("PRAGMA user_version = 7")
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(db, now=NOW):
        pass
    assert rows(tmp_path / f"history.sqlite3.corrupt-{STAMP}", "PRAGMA user_version") == [(7,)]
    assert messages(caplog, logging.WARNING) == [
        f"history {db} is unusable (schema version 7 is newer than 4); moved it to "
        f"history.sqlite3.corrupt-{STAMP} and started a fresh one"
    ]


def _damaged(_conn: sqlite3.Connection) -> None:
    err = sqlite3.DatabaseError("database disk image is malformed")
    err.sqlite_errorcode = 11  # type: ignore[attr-defined]  # SQLITE_CORRUPT
    raise err


def test_when_the_fresh_file_is_unusable_too_the_history_is_kept_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A card that damages every file: the first is moved aside, the fresh one fails too."""
    db = tmp_path / "history.sqlite3"
    monkeypatch.setattr(history_file, "_read_every_page", _damaged)
    with (
        caplog.at_level(logging.WARNING, logger="breathring.history"),
        History.open(db, now=NOW) as h,
    ):
        assert h.in_memory
    assert messages(caplog, logging.WARNING) == [
        f"history {db} is unusable (database disk image is malformed); moved it to "
        f"history.sqlite3.corrupt-{STAMP} and started a fresh one",
        f"history {db} cannot be used (a fresh history file is unusable too: database disk "
        "image is malformed); keeping the history in memory until restart",
    ]


# -- the stamp and the copies kept ---------------------------------------------------------------


@pytest.mark.usefixtures("new_york_machine")
def test_the_stamp_is_the_given_time_in_utc_whatever_the_machines_zone(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    garbage(db)
    History.open(db, now=NOW).close()
    assert names(tmp_path) == [f"history.sqlite3.corrupt-{STAMP}"]


@pytest.mark.usefixtures("new_york_machine")
def test_without_a_time_the_stamp_is_the_files_own_in_utc(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    garbage(db)
    os.utime(db, (MTIME, MTIME))
    History.open(db).close()
    assert names(tmp_path) == [f"history.sqlite3.corrupt-{MTIME_STAMP}"]


def test_a_file_whose_time_cannot_be_read_is_stamped_unknown(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    db.symlink_to(tmp_path / "gone")  # stat() follows it and fails
    target = move_aside(db, None)
    assert target == tmp_path / "history.sqlite3.corrupt-unknown"
    assert target.is_symlink()
    assert not db.exists() and not db.is_symlink()


def test_copies_moved_aside_in_the_same_second_are_numbered(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    for n in range(3):
        garbage(db, b"junk %d\n" % n)
        History.open(db, now=NOW).close()
    base = f"history.sqlite3.corrupt-{STAMP}"
    assert names(tmp_path) == [base, f"{base}-2", f"{base}-3"]
    assert (tmp_path / f"{base}-3").read_bytes().startswith(b"junk 2")


def test_the_copies_kept_are_the_newest_by_file_time_not_by_name(tmp_path: Path) -> None:
    """The clock went back between the moves: the names sort the other way round."""
    db = tmp_path / "history.sqlite3"
    for n in range(5):
        garbage(db, b"junk %d\n" % n)
        os.utime(db, (MTIME + n * 100, MTIME + n * 100))
        History.open(db, now=NOW - timedelta(hours=n)).close()
    kept = sorted(p.read_bytes()[:6] for p in tmp_path.glob("history.sqlite3.corrupt-*"))
    assert kept == [b"junk 2", b"junk 3", b"junk 4"]


def test_a_copy_deleted_takes_its_wal_with_it(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    wal = tmp_path / "history.sqlite3-wal"
    for n in range(5):
        garbage(db, b"junk %d\n" % n)
        wal.write_bytes(b"wal %d" % n)
        stamp = datetime(2026, 6, 15, 8, n, tzinfo=UTC)
        move_aside(db, stamp)
        os.utime(tmp_path / f"history.sqlite3.corrupt-20260615T080{n}00Z", (MTIME + n, MTIME + n))
    assert names(tmp_path) == [
        "history.sqlite3.corrupt-20260615T080200Z",
        "history.sqlite3.corrupt-20260615T080200Z-wal",
        "history.sqlite3.corrupt-20260615T080300Z",
        "history.sqlite3.corrupt-20260615T080300Z-wal",
        "history.sqlite3.corrupt-20260615T080400Z",
        "history.sqlite3.corrupt-20260615T080400Z-wal",
    ]
    assert (tmp_path / "history.sqlite3.corrupt-20260615T080400Z-wal").read_bytes() == b"wal 4"


# -- opening -------------------------------------------------------------------------------------


def test_missing_folders_are_made(tmp_path: Path) -> None:
    db = tmp_path / "var" / "lib" / "breathring" / "history.sqlite3"
    with History.open(db) as h:
        assert not h.in_memory
    assert db.is_file()


def test_each_schema_step_is_logged(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="breathring.history"):
        History.open(tmp_path / "history.sqlite3").close()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG] == [
        "history schema migrated to version 1",
        "history schema migrated to version 2",
        "history schema migrated to version 3",
        "history schema migrated to version 4",
    ]


def test_a_schema_step_that_fails_is_rolled_back_and_the_file_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Version 2 -> 3 adds clock_trusted to both tables; pulses has one already, so the step
    fails after changing sessions: that change is undone and the file is not moved aside."""
    db = tmp_path / "history.sqlite3"
    with sqlite3.connect(db) as conn:
        conn.execute("CREATE TABLE sessions (id INTEGER PRIMARY KEY)")
        conn.execute("CREATE TABLE pulses (id INTEGER PRIMARY KEY, clock_trusted INTEGER)")
        conn.execute("PRAGMA user_version = 2")
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(db) as h:
        assert h.in_memory
    assert messages(caplog, logging.WARNING) == [
        f"history {db} cannot be used (duplicate column name: clock_trusted); "
        "keeping the history in memory until restart"
    ]
    assert rows(db, "PRAGMA user_version") == [(2,)]
    assert rows(db, "SELECT name FROM pragma_table_info('sessions')") == [("id",)]
    assert names(tmp_path) == []


@pytest.mark.parametrize("in_memory", [False, True])
def test_a_history_opened_on_one_thread_is_used_on_another(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, in_memory: bool
) -> None:
    """The service opens it on its worker thread; the tests and tools on theirs."""
    folder = tmp_path
    if in_memory:  # a file where the folder should be: the history is kept in memory
        folder = tmp_path / "a-file"
        folder.write_text("x")
    h = History.open(folder / "history.sqlite3")
    assert h.in_memory is in_memory
    rows_written: list[int] = []
    start = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)

    def record() -> None:
        row = h.session_started("button", "box", 3, start)
        h.session_ended(row, 3, True, start + timedelta(minutes=2))
        rows_written.append(row)

    caplog.clear()  # the in-memory history's own warning on opening
    with caplog.at_level(logging.WARNING, logger="breathring.history"):
        worker = threading.Thread(target=record)
        worker.start()
        worker.join()
        assert h.stats(date(2026, 6, 15), 1, UTC)["today"]["completed"] == 1
    h.close()
    assert rows_written == [1]
    assert messages(caplog, logging.WARNING) == []


def test_a_stale_copy_that_is_a_dangling_link_does_not_stop_the_move(tmp_path: Path) -> None:
    """Sorting the copies by age must not stat through a link that leads nowhere."""
    db = tmp_path / "history.sqlite3"
    stale = tmp_path / "history.sqlite3.corrupt-20250101T000000Z"
    stale.symlink_to(tmp_path / "moved-elsewhere")
    garbage(db)
    with History.open(db, now=NOW) as h:
        assert not h.in_memory
    assert names(tmp_path) == [stale.name, f"history.sqlite3.corrupt-{STAMP}"]
