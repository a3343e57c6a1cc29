"""What the recorder writes, observation by observation, and how its worker runs the jobs.

The recorder's jobs run at once on a store that notes every call (no thread, no file): the
expected calls are written down. The worker runs on its own thread; `flush` waits for it.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from breathring.activities import SessionView
from breathring.history import History
from breathring.history_recorder import HistoryRecorder, HistoryWorker, open_history

T0 = datetime(2026, 6, 15, 8, 0, tzinfo=UTC)


class NotingStore:
    """Notes each call; inserts return row ids 1, 2, ... (0 when `failing`)."""

    def __init__(self, failing: bool = False) -> None:
        self.calls: list[tuple[Any, ...]] = []
        self.failing = failing
        self.next_id = 0

    def _row(self) -> int:
        if self.failing:
            return 0
        self.next_id += 1
        return self.next_id

    def session_started(self, *args: Any) -> int:
        self.calls.append(("session_started", *args))
        return self._row()

    def session_progress(self, *args: Any) -> None:
        self.calls.append(("session_progress", *args))

    def session_ended(self, *args: Any) -> None:
        self.calls.append(("session_ended", *args))

    def session_interrupted(self, *args: Any) -> None:
        self.calls.append(("session_interrupted", *args))

    def pulse_shown(self, *args: Any) -> int:
        self.calls.append(("pulse_shown", *args))
        return self._row()

    def pulse_answered(self, *args: Any) -> None:
        self.calls.append(("pulse_answered", *args))

    def prune(self, now: datetime | None = None) -> int:
        self.calls.append(("prune", now))
        return 0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def view(serial: int = 1, elapsed: float = 0.0, **kw: Any) -> SessionView:
    fields: dict[str, Any] = {
        "pattern": "box",
        "breaths": 3,
        "long": False,
        "breaths_done": 0,
        "cancelled": False,
        "rate_start": None,
    }
    fields.update(kw)
    return SessionView(serial=serial, elapsed=elapsed, **fields)


def recorder(trusted: bool = True, failing: bool = False) -> tuple[HistoryRecorder, NotingStore]:
    store = NotingStore(failing)
    return HistoryRecorder(lambda job: job(store), lambda: trusted), store  # type: ignore[arg-type]


def test_a_session_is_written_after_its_lead_in_with_progress_and_its_end() -> None:
    rec, store = recorder()
    rec.observe(None, 0, at(0))
    rec.observe(view(elapsed=0.0, rate_start=11.5), 0, at(1), trigger="remote")
    rec.observe(view(elapsed=1.9), 0, at(2.9))
    assert store.calls == [("prune", at(0))]  # nothing during the lead-in
    rec.observe(view(elapsed=2.0), 0, at(3))
    rec.observe(view(elapsed=5.0, breaths_done=1), 0, at(6))
    rec.observe(view(elapsed=6.0, breaths_done=1), 0, at(7))  # no new breath: nothing
    rec.observe(view(elapsed=9.0, breaths_done=3), 0, at(10), rate=9.0)
    rec.observe(None, 0, at(11), rate=8.5)
    assert store.calls == [
        ("prune", at(0)),
        ("session_started", "remote", "box", 3, at(1), True, 11.5),
        ("session_progress", 1, 1, at(6)),
        ("session_progress", 1, 3, at(10)),
        ("session_ended", 1, 3, True, at(11), 8.5),
    ]


@pytest.mark.parametrize(
    ("done", "cancelled", "completed"),
    [(2, False, False), (3, True, False), (3, False, True), (4, False, True)],
)
def test_a_session_is_completed_with_all_its_breaths_and_no_cancel(
    done: int, cancelled: bool, completed: bool
) -> None:
    rec, store = recorder()
    rec.observe(view(elapsed=3.0, breaths_done=done, cancelled=cancelled), 0, at(0))
    rec.observe(None, 0, at(20))
    assert store.calls[-1] == ("session_ended", 1, done, completed, at(20), None)


def test_a_session_that_ends_in_its_lead_in_is_written_whole() -> None:
    rec, store = recorder(trusted=False)
    rec.observe(view(elapsed=0.5, cancelled=True, rate_start=12.0), 0, at(0))
    rec.observe(None, 0, at(1), rate=10.0)
    assert store.calls == [
        ("session_started", "button", "box", 3, at(0), False, 12.0),
        ("session_ended", 1, 0, False, at(1), 10.0),
    ]


def test_a_double_press_in_the_lead_in_makes_it_the_long_one() -> None:
    rec, store = recorder()
    rec.observe(view(elapsed=0.5), 0, at(0), trigger="remote")
    rec.observe(view(elapsed=1.0, long=True, pattern="coherent", breaths=10), 0, at(1))
    rec.observe(view(elapsed=2.5, long=True, pattern="coherent", breaths=10), 0, at(2))
    assert store.calls[-1] == ("session_started", "double", "coherent", 10, at(0), True, None)


def test_a_session_started_long_keeps_its_trigger() -> None:
    rec, store = recorder()
    rec.observe(view(elapsed=2.5, long=True), 0, at(0), trigger="remote")
    rec.observe(view(elapsed=3.0, long=True), 0, at(1))
    assert store.calls[-1] == ("session_started", "remote", "box", 3, at(0), True, None)


def test_a_new_session_ends_the_one_before() -> None:
    rec, store = recorder()
    rec.observe(view(serial=1, elapsed=2.0), 0, at(0))
    rec.observe(view(serial=2, elapsed=2.0, pattern="sigh"), 0, at(5), rate=7.0)
    assert store.calls[2:] == [
        ("session_ended", 1, 0, False, at(5), 7.0),
        ("session_started", "button", "sigh", 3, at(5), True, None),
    ]


def test_a_pulse_is_written_when_shown_and_answered_by_a_session_in_it() -> None:
    rec, store = recorder()
    rec.observe(None, 4, at(0))  # the count it starts from is not a new pulse
    rec.observe(None, 4, at(1))
    rec.observe(None, 5, at(2), rate=13.0)
    rec.observe(view(elapsed=0.0), 5, at(3), during_pulse=True, rate=9.0)
    rec.observe(view(serial=2, elapsed=0.0), 5, at(4), during_pulse=True)  # answered once
    assert store.calls == [
        ("prune", at(0)),
        ("pulse_shown", at(2), True),
        ("pulse_answered", 1, 13.0),
        ("session_started", "button", "box", 3, at(3), True, None),
        ("session_ended", 2, 0, False, at(4), None),
    ]


def test_a_session_outside_a_pulse_does_not_answer_it() -> None:
    rec, store = recorder(trusted=False)
    rec.observe(None, 0, at(0))
    rec.observe(None, 1, at(1), rate=13.0)
    rec.observe(view(elapsed=0.0), 1, at(2))
    rec.observe(view(serial=2, elapsed=0.0), 1, at(3), during_pulse=True)
    assert store.calls == [
        ("pulse_shown", at(1), False),
        ("session_started", "button", "box", 3, at(2), False, None),
        ("session_ended", 2, 0, False, at(3), None),
        ("pulse_answered", 1, 13.0),
    ]


def test_rows_that_could_not_be_written_get_no_updates() -> None:
    rec, store = recorder(failing=True)
    rec.observe(None, 0, at(0))
    rec.observe(None, 1, at(1))
    rec.observe(view(elapsed=2.0, breaths_done=1), 1, at(2), during_pulse=True)
    rec.observe(None, 1, at(3))
    rec.observe(view(serial=2, elapsed=2.0), 1, at(4))
    rec.interrupt()
    rec.close(at(5))
    assert [c[0] for c in store.calls] == [
        "prune",
        "pulse_shown",
        "session_started",
        "session_started",
    ]


def test_pruned_once_a_day_and_only_under_a_trusted_clock() -> None:
    trusted = [True]
    store = NotingStore()
    rec = HistoryRecorder(lambda job: job(store), lambda: trusted[0])  # type: ignore[arg-type]
    rec.observe(None, 0, at(0))
    rec.observe(None, 0, at(3600))
    rec.observe(None, 0, at(86400))  # the next day
    trusted[0] = False
    rec.observe(None, 0, at(2 * 86400))
    trusted[0] = True
    rec.observe(None, 0, at(2 * 86400 + 1))
    assert store.calls == [("prune", at(0)), ("prune", at(86400)), ("prune", at(2 * 86400 + 1))]


def test_a_session_running_when_the_service_stops_is_interrupted() -> None:
    rec, store = recorder()
    rec.observe(view(elapsed=2.0, breaths_done=1), 0, at(0), rate=9.5)
    rec.close(at(4))
    rec.close(at(5))  # nothing left running
    assert store.calls[2:] == [("session_progress", 1, 1, at(0)), ("session_interrupted", 1, 9.5)]


def test_a_session_cut_by_a_stop_is_interrupted_however_it_ends() -> None:
    rec, store = recorder()
    rec.interrupt()  # nothing running: nothing to mark
    rec.observe(view(elapsed=2.0, breaths_done=3), 0, at(0))
    rec.interrupt()
    rec.observe(None, 0, at(1), rate=6.0)
    assert store.calls[-1] == ("session_interrupted", 1, 6.0)


# -- the worker ------------------------------------------------------------------------------


class ClosingStore(NotingStore):
    def __init__(self, close_error: Exception | None = None) -> None:
        super().__init__()
        self.closed = threading.Event()
        self.close_error = close_error

    def close(self) -> None:
        self.closed.set()
        if self.close_error is not None:
            raise self.close_error


def test_the_worker_runs_jobs_in_order_and_reports_changes() -> None:
    store = ClosingStore()
    changes: list[int] = []
    worker = HistoryWorker(lambda: store, lambda: changes.append(len(store.calls)))
    worker.start()
    worker.submit(lambda h: h.prune(T0))
    worker.submit(lambda h: h.pulse_shown(T0, True), changes=False)
    worker.submit(lambda h: h.pulse_answered(1, None))
    assert worker.flush() is True
    assert store.calls == [("prune", T0), ("pulse_shown", T0, True), ("pulse_answered", 1, None)]
    assert changes == [1, 3]
    worker.close()
    assert store.closed.is_set()
    worker.close()  # twice: nothing more


def test_queries_get_the_result_or_the_error() -> None:
    worker = HistoryWorker(ClosingStore)
    worker.start()
    replies: list[tuple[Any, str | None]] = []

    def fail_empty(_h: Any) -> None:
        raise KeyError

    worker.query(lambda h: h.prune(None), lambda r, e: replies.append((r, e)))
    worker.query(lambda _h: 1 / 0, lambda r, e: replies.append((r, e)))
    worker.query(fail_empty, lambda r, e: replies.append((r, e)))
    assert worker.flush()
    worker.close()
    assert replies == [(0, None), (None, "division by zero"), (None, "KeyError")]


def test_a_failing_job_is_logged_and_the_next_one_runs(caplog: pytest.LogCaptureFixture) -> None:
    store = ClosingStore()
    changes: list[str] = []
    worker = HistoryWorker(lambda: store, lambda: changes.append("changed"))
    worker.start()
    with caplog.at_level(logging.INFO, logger="breathring.history"):
        worker.submit(lambda _h: 1 / 0)
        worker.submit(lambda h: h.prune(None))
        assert worker.flush()
    worker.close()
    assert store.calls == [("prune", None)]
    assert changes == ["changed"]
    assert [r.getMessage() for r in caplog.records] == ["a history job failed; going on"]


def test_a_history_that_cannot_be_opened_answers_queries_with_the_reason(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def opener() -> Any:
        raise OSError("disk gone")

    changes: list[str] = []
    worker = HistoryWorker(opener, lambda: changes.append("changed"))
    replies: list[tuple[Any, str | None]] = []
    with caplog.at_level(logging.INFO, logger="breathring.history"):
        worker.start()
        worker.submit(lambda h: h.prune(None))
        worker.query(lambda h: h.stats(date(2026, 6, 15), 1, UTC), lambda *r: replies.append(r))
        assert worker.flush()
    worker.close()
    assert worker.unavailable == "the history cannot be opened: disk gone"
    assert replies == [(None, "the history cannot be opened: disk gone")]
    assert changes == []
    assert [r.getMessage() for r in caplog.records] == [
        "the history cannot be opened: disk gone; running without a history"
    ]


def test_a_failing_close_is_logged(caplog: pytest.LogCaptureFixture) -> None:
    store = ClosingStore(OSError("read-only"))
    worker = HistoryWorker(lambda: store)
    with caplog.at_level(logging.INFO, logger="breathring.history"):
        worker.start()
        worker.close()
    assert store.closed.is_set()
    assert [r.getMessage() for r in caplog.records] == ["closing the history failed"]


def test_flush_before_start_is_false() -> None:
    assert HistoryWorker(ClosingStore).flush(timeout=0.0) is False


def test_open_history_opens_the_file(tmp_path: Path) -> None:
    path = tmp_path / "history.sqlite3"
    store = open_history(path)()
    assert isinstance(store, History)
    store.close()
    assert path.exists()


# -- written-down values: what the first mutation run showed unpinned --------------------------


def test_a_session_started_in_a_pulse_seen_before_the_recorder_answers_nothing() -> None:
    """The pulse was shown before the recorder's first look: it has no row to answer."""
    rec, store = recorder()
    rec.observe(view(elapsed=2.0), 1, at(0), during_pulse=True)
    assert store.calls == [
        ("prune", at(0)),
        ("session_started", "button", "box", 3, at(0), True, None),
    ]


def test_pulses_in_consecutive_looks_are_each_written() -> None:
    rec, store = recorder(trusted=False)
    rec.observe(None, 0, at(0))
    rec.observe(None, 1, at(1))
    rec.observe(None, 2, at(2))
    rec.observe(None, 2, at(3))
    assert store.calls == [("pulse_shown", at(1), False), ("pulse_shown", at(2), False)]


def test_a_session_started_long_keeps_its_trigger_through_its_lead_in() -> None:
    rec, store = recorder()
    rec.observe(view(elapsed=0.5, long=True), 0, at(0), trigger="remote")
    rec.observe(view(elapsed=1.0, long=True), 0, at(1))
    rec.observe(view(elapsed=2.0, long=True), 0, at(2))
    assert store.calls[-1] == ("session_started", "remote", "box", 3, at(0), True, None)


def test_a_row_whose_insert_failed_gets_no_updates() -> None:
    """The insert job raised (the worker logs it and goes on): the row has no id."""

    class RaisingStore(NotingStore):
        def session_started(self, *args: Any) -> int:
            super().session_started(*args)
            raise OSError("disk gone")

    store = RaisingStore()

    def submit(job: Any) -> None:
        with contextlib.suppress(OSError):
            job(store)

    rec = HistoryRecorder(submit, lambda: False)
    rec.observe(view(elapsed=2.0), 0, at(0))
    rec.observe(view(elapsed=5.0, breaths_done=1), 0, at(3))
    rec.observe(None, 0, at(4))
    assert store.calls == [("session_started", "button", "box", 3, at(0), False, None)]


def test_the_worker_thread_is_named_and_does_not_hold_up_exit() -> None:
    seen: list[tuple[str, bool]] = []
    worker = HistoryWorker(ClosingStore)
    worker.start()
    worker.submit(
        lambda _h: seen.append((threading.current_thread().name, threading.current_thread().daemon))
    )
    assert worker.flush()
    worker.close()
    assert seen == [("breathring-history", True)]


def test_queries_report_no_change_and_a_working_history_no_reason() -> None:
    changes: list[str] = []
    worker = HistoryWorker(ClosingStore, lambda: changes.append("changed"))
    worker.start()
    replies: list[tuple[Any, str | None]] = []
    worker.query(lambda h: h.prune(None), lambda r, e: replies.append((r, e)))
    assert worker.flush()
    worker.close()
    assert replies == [(0, None)]
    assert changes == []
    assert worker.unavailable is None


def test_a_job_failing_without_a_history_is_noted_for_debugging(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def opener() -> Any:
        raise OSError("disk gone")

    worker = HistoryWorker(opener)
    with caplog.at_level(logging.DEBUG, logger="breathring.history"):
        worker.start()
        worker.submit(lambda _h: 1 / 0)  # fails before it asks the history anything
        assert worker.flush()
    worker.close()
    [record] = [r for r in caplog.records if r.levelno == logging.DEBUG]
    assert record.getMessage() == "history job without a history"
    assert record.exc_info is not None and record.exc_info[0] is ZeroDivisionError


def test_close_before_start_does_nothing() -> None:
    worker = HistoryWorker(ClosingStore)
    worker.close()
    assert worker.flush(timeout=0.0) is False


def test_flush_before_start_does_not_wait_its_timeout() -> None:
    assert HistoryWorker(ClosingStore).flush(timeout=3600.0) is False


def test_flush_after_close_is_false_after_its_timeout() -> None:
    worker = HistoryWorker(ClosingStore)
    worker.start()
    worker.close()
    assert worker.flush(timeout=0.0) is False


def test_close_gives_up_waiting_after_its_timeout() -> None:
    release = threading.Event()
    worker = HistoryWorker(ClosingStore)
    worker.start()
    worker.submit(lambda _h: release.wait())
    worker.close(timeout=0.01)  # returns although the job still runs
    release.set()
