"""A history whose storage fails: each failure is logged naming what failed and the table
SQLite could not use, the device goes on, and only clear() raises.

The tables are taken away under an open history (another connection drops them), or the
history is opened on a connection that has none; a fresh history for each case, since a
history logs the same failure only once.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from testkit.logs import messages

from breathring import history as history_module
from breathring.history import History, HistoryError

T0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


def drop(path: Path, *tables: str) -> None:
    with sqlite3.connect(path) as other:
        for table in tables:
            other.execute(f"DROP TABLE {table}")


RECORDING: list[tuple[str, Callable[[History], object]]] = [
    ("session_started", lambda h: h.session_started("pulse", "box", 3, T0, False, 9.5)),
    ("session_progress", lambda h: h.session_progress(1, 2, T0)),
    ("session_ended", lambda h: h.session_ended(1, 3, True, T0, 8.25)),
    ("session_interrupted", lambda h: h.session_interrupted(1, 8.25)),
]


@pytest.mark.parametrize(("name", "call"), RECORDING, ids=[n for n, _ in RECORDING])
def test_recording_a_session_without_its_table_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, name: str, call: Callable[[History], object]
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        drop(db, "sessions")
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            call(h)
            assert h.pulse_shown(T0) == 1  # the other table still works
    assert messages(caplog, logging.WARNING) == [
        "history write failed (no such table: sessions); continuing without it"
    ], name


@pytest.mark.parametrize("answer", [False, True])
def test_recording_a_pulse_without_its_table_is_logged_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, answer: bool
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        drop(db, "pulses")
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            if answer:
                h.pulse_answered(1, 9.0)
            else:
                assert h.pulse_shown(T0) == 0
            assert h.session_started("button", "box", 3, T0) == 1
    assert messages(caplog, logging.WARNING) == [
        "history write failed (no such table: pulses); continuing without it"
    ]


@pytest.mark.parametrize(
    ("now", "table"),
    [(T0, "sessions"), (None, "sessions"), (T0, "pulses"), (None, "pulses")],
)
def test_a_failed_prune_is_logged_rolled_back_and_counts_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, now: datetime | None, table: str
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        drop(db, table)
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            assert h.prune(now) == 0
        # Rolled back: the connection is out of the transaction, and writes go on.
        assert not h._conn.in_transaction  # type: ignore[union-attr]
        assert h.session_started("button", "box", 3, T0) == (0 if table == "sessions" else 1)
    assert messages(caplog, logging.WARNING)[0] == (
        f"history prune failed (no such table: {table}); continuing without it"
    )


@pytest.mark.parametrize("table", ["sessions", "pulses"])
def test_a_failed_clear_raises_names_the_table_and_is_rolled_back(
    tmp_path: Path, table: str
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        other = "pulses" if table == "sessions" else "sessions"
        h.session_started("button", "box", 3, T0)
        h.pulse_shown(T0)
        drop(db, table)
        with pytest.raises(HistoryError) as caught:
            h.clear()
        assert str(caught.value) == (f"could not clear the history in {db}: no such table: {table}")
        assert not h._conn.in_transaction  # type: ignore[union-attr]
    with sqlite3.connect(db) as conn:  # the other table keeps its row: nothing was erased
        assert conn.execute(f"SELECT count(*) FROM {other}").fetchall() == [(1,)]


def test_a_history_without_tables_logs_recovery_and_prune_once_each(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "connect", lambda _path, _now: sqlite3.connect(":memory:"))
    with (
        caplog.at_level(logging.WARNING, logger="breathring.history"),
        History.open(tmp_path / "history.sqlite3", now=T0, clock_trusted=True) as h,
    ):
        assert not h.in_memory
        assert h.stats(date(2026, 6, 15), 1, UTC)["today"]["sessions"] == 0
    assert messages(caplog, logging.WARNING) == [
        "history recovery failed (no such table: sessions); continuing without it",
        "history prune failed (no such table: sessions); continuing without it",
        "history read failed (no such table: sessions); continuing without it",
    ]


def test_a_history_that_cannot_open_a_file_says_so_and_keeps_it_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    path = blocker / "history.sqlite3"
    with caplog.at_level(logging.WARNING, logger="breathring.history"), History.open(path) as h:
        assert h.in_memory
        assert h.session_started("button", "box", 3, T0) == 1
    assert messages(caplog, logging.WARNING) == [
        f"history {path} cannot be used ([Errno 17] File exists: '{blocker}'); "
        "keeping the history in memory until restart"
    ]


class _Damaged:
    """A connection whose file turned out damaged (SQLITE_CORRUPT, code 11); its close fails
    too, and is noted."""

    def __init__(self) -> None:
        self.closed = False

    def execute(self, *_args: object) -> None:
        err = sqlite3.DatabaseError("database disk image is malformed")
        err.sqlite_errorcode = 11  # type: ignore[attr-defined]
        raise err

    def close(self) -> None:
        self.closed = True
        raise sqlite3.OperationalError("unable to close")


def test_a_failing_close_is_ignored(tmp_path: Path) -> None:
    damaged = _Damaged()
    h = History(damaged, tmp_path / "history.sqlite3", in_memory=False)  # type: ignore[arg-type]
    h.close()
    h.close()
    assert damaged.closed
    assert h.session_started("button", "box", 3, T0) == 0


def test_damage_closes_the_old_connection_even_if_that_fails(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        h.session_started("button", "box", 3, T0)
        damaged = _Damaged()
        h._conn = damaged  # type: ignore[assignment]
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            assert h.pulse_shown(T0) == 0
        assert damaged.closed and not h.in_memory
        assert h.pulse_shown(T0) == 1  # a fresh file
    assert len(messages(caplog, logging.WARNING)) == 1
    assert messages(caplog, logging.WARNING)[0].startswith(
        f"history {db} is damaged (database disk image"
    )


def test_damage_that_cannot_be_moved_aside_keeps_the_history_in_memory(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    def cannot_move(_path: Path, _now: object) -> Path:
        raise OSError("read-only file system")

    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        monkeypatch.setattr(history_module, "move_aside", cannot_move)
        h._conn = _Damaged()  # type: ignore[assignment]
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            assert h.session_started("button", "box", 3, T0) == 0
        assert h.in_memory
        assert h.session_started("button", "box", 3, T0) == 1  # in memory now
        assert h.stats(date(2026, 6, 15), 1, UTC)["today"]["sessions"] == 1
    assert messages(caplog, logging.WARNING) == [
        f"history {db}: read-only file system; keeping it in memory until restart"
    ]


def test_a_rate_under_one_breath_a_minute_is_kept(tmp_path: Path) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        row = h.session_started("button", "follow", 3, T0, rate_start=0.5)
        h.session_ended(row, 3, True, T0, rate_end=0.754)
        h.pulse_answered(h.pulse_shown(T0), 0.25)
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT rate_start, rate_end FROM sessions").fetchall() == [(0.5, 0.75)]
        assert conn.execute("SELECT rate FROM pulses").fetchall() == [(0.25,)]


# -- a table that lost a column (a file changed by hand or by another program) ----------------

#: The columns of `sessions` in the current schema.
SESSION_COLUMNS = (
    "id",
    "trigger",
    "pattern",
    "breaths_planned",
    "breaths_completed",
    "started_at",
    "utc_offset",
    "ended_at",
    "outcome",
    "clock_trusted",
    "rate_start",
    "rate_end",
)


def lose_column(path: Path, column: str) -> None:
    """Make `sessions` again, from another connection, with every column but `column`."""
    kept = ", ".join(c for c in SESSION_COLUMNS if c != column)
    with sqlite3.connect(path) as other:
        other.execute("DROP TABLE sessions")
        other.execute(f"CREATE TABLE sessions ({kept})")


LOST_COLUMN: list[tuple[str, Callable[[History], object], str]] = [
    (
        "rate_start",
        lambda h: h.session_started("pulse", "box", 3, T0, False, 9.5),
        "table sessions has no column named rate_start",
    ),
    ("id", lambda h: h.session_progress(1, 2, T0), "no such column: id"),
    ("id", lambda h: h.session_ended(1, 3, True, T0, 8.25), "no such column: id"),
    ("rate_end", lambda h: h.session_interrupted(1, 8.25), "no such column: rate_end"),
]


@pytest.mark.parametrize(
    ("column", "call", "error"),
    LOST_COLUMN,
    ids=["session_started", "session_progress", "session_ended", "session_interrupted"],
)
def test_a_write_to_a_table_that_lost_a_column_names_the_column(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    column: str,
    call: Callable[[History], object],
    error: str,
) -> None:
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        lose_column(db, column)
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            call(h)
    assert messages(caplog, logging.WARNING) == [
        f"history write failed ({error}); continuing without it"
    ]


def test_a_prune_without_a_trusted_time_reads_no_row_times(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Only the row caps apply, so a table without started_at prunes without a failure."""
    db = tmp_path / "history.sqlite3"
    with History.open(db) as h:
        lose_column(db, "started_at")
        with caplog.at_level(logging.WARNING, logger="breathring.history"):
            assert h.prune(None) == 0
            assert messages(caplog, logging.WARNING) == []
            assert h.prune(T0) == 0  # a trusted time: the age statements read started_at
    assert messages(caplog, logging.WARNING) == [
        "history prune failed (no such column: started_at); continuing without it"
    ]
