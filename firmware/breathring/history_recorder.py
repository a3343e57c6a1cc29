"""Sessions and pulses of the running device -> rows in the history, off the service loop.

`HistoryRecorder` (pure, main loop) watches the controller's running session
and pulse count and turns them into jobs: a session's row is written once its
lead-in is over (a double press in the lead-in still makes it the long one,
trigger "double"), its progress after each breath, its end when it finishes
or is stopped ("interrupted" with its last progress when the service stops during
it); a pulse's row when it is shown, "answered" when a session starts during it.
The measured breathing rate goes with them: a session's at its start (taken by the
controller) and at its end (the fresh one when the recorder sees it end, or at its last
look when the service stops), an answered pulse's as it was shown.
Each row carries whether the wall clock was trusted when it was written, and old
rows are pruned once a day, only while the clock is trusted (history.py).
`HistoryWorker` runs the jobs in order on its own thread, so SQLite
and its fsyncs never hold up a frame; after each write it calls `on_change`.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from pathlib import Path
from typing import Any, Protocol

from .activities import SessionView
from .history import BUTTON, DOUBLE
from .session import LEAD_IN_S

log = logging.getLogger("breathring.history")

#: How long close() waits for the writes still queued.
CLOSE_TIMEOUT_S = 5.0


class HistoryStore(Protocol):
    """What the recorder needs from history.History."""

    def session_started(
        self,
        trigger: str,
        pattern: str,
        breaths_planned: int,
        wall: datetime,
        clock_trusted: bool = True,
        rate_start: float | None = None,
    ) -> int: ...

    def session_progress(self, row_id: int, breaths_completed: int, wall: datetime) -> None: ...

    def session_ended(
        self,
        row_id: int,
        breaths_completed: int,
        completed: bool,
        wall: datetime,
        rate_end: float | None = None,
    ) -> None: ...

    def session_interrupted(self, row_id: int, rate_end: float | None = None) -> None: ...

    def pulse_shown(self, wall: datetime, clock_trusted: bool = True) -> int: ...

    def pulse_answered(self, row_id: int, rate: float | None = None) -> None: ...

    def stats(self, today: date, days: int, tz: tzinfo) -> dict[str, Any]: ...

    def prune(self, now: datetime | None = None) -> int: ...

    def clear(self) -> None: ...

    def close(self) -> None: ...


Job = Callable[[HistoryStore], object]


class _Row:
    """A row id, filled in by the worker when the insert has run."""

    def __init__(self) -> None:
        self.id = 0


@dataclass
class _Record:
    serial: int
    trigger: str
    pattern: str
    breaths: int
    started: datetime
    long: bool
    clock_trusted: bool
    cancelled: bool = False
    interrupted: bool = False
    breaths_done: int = 0
    reported: int = 0
    row: _Row | None = None
    #: The measured rate at the start (the controller's), and at the last look.
    rate_start: float | None = None
    rate_now: float | None = None


@dataclass
class _Pulse:
    row: _Row
    #: The measured rate as it was shown (written only if it is answered).
    rate: float | None


class HistoryRecorder:
    """Main-loop side: controller observations in, history jobs out (via `submit`)."""

    def __init__(
        self, submit: Callable[[Job], None], clock_trusted: Callable[[], bool] = lambda: True
    ) -> None:
        """`clock_trusted`: whether the wall clock may be believed now (the service's trust)."""
        self._submit = submit
        self._clock_trusted = clock_trusted
        #: The local day of the last prune (once a day, only under a trusted clock).
        self._pruned_on: date | None = None
        self._current: _Record | None = None
        self._pulses_seen: int | None = None
        self._pulse: _Pulse | None = None

    def observe(
        self,
        view: SessionView | None,
        pulses_shown: int,
        wall: datetime,
        trigger: str | None = None,
        during_pulse: bool = False,
        rate: float | None = None,
    ) -> None:
        """Look at the device now. `trigger`/`during_pulse`: a gesture or command just acted;
        `rate`: the fresh measured breathing rate now (None: none)."""
        trusted = self._clock_trusted()
        if trusted and wall.date() != self._pruned_on:
            self._pruned_on = wall.date()
            self._submit(lambda h: h.prune(wall))
        current = self._current
        if current is not None and (view is None or view.serial != current.serial):
            current.rate_now = rate
            self._finish(current, wall)
            current = self._current = None
        if self._pulses_seen is None:
            self._pulses_seen = pulses_shown
        elif pulses_shown != self._pulses_seen:
            self._pulses_seen = pulses_shown
            self._pulse = _Pulse(self._insert(lambda h: h.pulse_shown(wall, trusted)), rate)
        if view is None:
            return
        if current is None:
            current = self._current = _Record(
                view.serial,
                trigger or BUTTON,
                view.pattern,
                view.breaths,
                wall,
                view.long,
                trusted,
                rate_start=view.rate_start,
            )
            pulse = self._pulse
            if during_pulse and pulse is not None:
                row, shown_rate = pulse.row, pulse.rate
                self._submit(lambda h: h.pulse_answered(row.id, shown_rate) if row.id else None)
                self._pulse = None
        if view.long and not current.long:
            current.trigger = DOUBLE
        current.long = view.long
        current.pattern = view.pattern
        current.breaths = view.breaths
        current.cancelled = view.cancelled
        current.breaths_done = view.breaths_done
        current.rate_now = rate
        if current.row is None and view.elapsed >= LEAD_IN_S:
            self._write_start(current)
        if current.row is not None and current.breaths_done > current.reported:
            current.reported = done = current.breaths_done
            row = current.row
            self._submit(lambda h: h.session_progress(row.id, done, wall) if row.id else None)

    def interrupt(self) -> None:
        """The service is stopping: the running session, however it ends, is interrupted.

        Like after a crash, its row keeps the breaths and time of its last progress report.
        """
        if self._current is not None:
            self._current.interrupted = True

    def close(self, wall: datetime) -> None:
        """The service stops: a session still running is recorded as interrupted."""
        if self._current is not None:
            self._current.interrupted = True
            self._finish(self._current, wall)
            self._current = None

    def _write_start(self, record: _Record) -> None:
        trigger, pattern, breaths, started, trusted, rate = (
            record.trigger,
            record.pattern,
            record.breaths,
            record.started,
            record.clock_trusted,
            record.rate_start,
        )
        record.row = self._insert(
            lambda h: h.session_started(trigger, pattern, breaths, started, trusted, rate)
        )

    def _finish(self, record: _Record, wall: datetime) -> None:
        if record.row is None:
            self._write_start(record)
        row = record.row
        assert row is not None
        rate = record.rate_now
        if record.interrupted:
            self._submit(lambda h: h.session_interrupted(row.id, rate) if row.id else None)
            return
        done = record.breaths_done
        completed = not record.cancelled and done >= record.breaths
        self._submit(
            lambda h: h.session_ended(row.id, done, completed, wall, rate) if row.id else None
        )

    def _insert(self, insert: Callable[[HistoryStore], int]) -> _Row:
        row = _Row()

        def job(h: HistoryStore) -> None:
            row.id = insert(h)

        self._submit(job)
        return row


class HistoryWorker:
    """Opens the history and runs its jobs in order on one thread; never raises to the loop."""

    def __init__(
        self,
        opener: Callable[[], HistoryStore],
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._opener = opener
        self.on_change = on_change
        self._jobs: queue.SimpleQueue[tuple[Job, bool] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._store: HistoryStore | None = None
        #: Why there is no history (None while it works or before it opened).
        self.unavailable: str | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="breathring-history", daemon=True)
        self._thread.start()

    def submit(self, job: Job, changes: bool = True) -> None:
        """Queue a job; `changes`: tell watchers afterwards that the history changed."""
        self._jobs.put((job, changes))

    def query(self, job: Job, reply: Callable[[Any, str | None], None]) -> None:
        """Run `job` and call reply(result, None), or reply(None, error) when it cannot."""

        def run(h: HistoryStore) -> None:
            try:
                result = job(h)
            except Exception as exc:
                reply(None, str(exc) or type(exc).__name__)
                return
            reply(result, None)

        self._jobs.put((run, False))

    def flush(self, timeout: float = CLOSE_TIMEOUT_S) -> bool:
        """Wait until every job queued so far has run; False if that takes over `timeout`."""
        done = threading.Event()
        self._jobs.put((lambda _h: done.set(), False))
        if self._store is None and self._thread is None:
            return False
        return done.wait(timeout)

    def close(self, timeout: float = CLOSE_TIMEOUT_S) -> None:
        if self._thread is None:
            return
        self._jobs.put(None)
        self._thread.join(timeout)
        self._thread = None

    def _run(self) -> None:
        try:
            self._store = self._opener()
        except Exception as exc:  # the device runs on without a history
            self.unavailable = f"the history cannot be opened: {exc}"
            log.warning("%s; running without a history", self.unavailable)
        while True:
            item = self._jobs.get()
            if item is None:
                break
            job, changes = item
            if self._store is None:
                self._refuse(job)
                continue
            try:
                job(self._store)
            except Exception:
                log.exception("a history job failed; going on")
                continue
            if changes:
                self.on_change()
        if self._store is not None:
            try:
                self._store.close()
            except Exception:
                log.exception("closing the history failed")

    def _refuse(self, job: Job) -> None:
        """No history: queries get the reason (via a stand-in that raises), writes vanish."""
        reason = self.unavailable or "the history is not available"
        try:
            job(_Unavailable(reason))  # type: ignore[arg-type]
        except _NoHistory:
            pass
        except Exception:
            log.debug("history job without a history", exc_info=True)


class _NoHistory(Exception):
    pass


class _Unavailable:
    """Stands in for the store when there is none: every call raises with the reason."""

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_args: object, **_kwargs: object) -> Any:
            raise _NoHistory(self.reason)

        return fail


def open_history(path: Path) -> Callable[[], HistoryStore]:
    """An opener for `HistoryWorker`: history.History.open(path)."""

    def opener() -> HistoryStore:
        from .history import History

        return History.open(path)

    return opener
