"""What the service writes down: a log line per event, the saved state, the history rows.

The saved state (reminders on/off, the last pulse) survives a reboot (state.py); the
history's rows are written off the loop by its worker (history_recorder.py).
"""

from __future__ import annotations

import logging
from datetime import datetime

from ..clock import Now
from ..engine import Engine
from ..gestures import DOUBLE as GESTURE_DOUBLE
from ..gestures import PRESS
from ..history import BUTTON, DOUBLE, PULSE, REMOTE
from ..history_recorder import HistoryRecorder, HistoryWorker
from ..state import DeviceState, StateStore
from .frames import RateLimitedLog

log = logging.getLogger("breathring.service")

#: The log line of each engine event ("name:detail"); {detail} is filled in.
EVENT_MESSAGES = {
    "session-started": "session started ({detail})",
    "session-long": "double press: the long session",
    "session-finished": "session finished",
    "session-cancelled": "session cancelled",
    "pulse-shown": "hourly pulse shown",
    "reminders-on": "reminders turned on",
    "reminders-off": "reminders turned off",
}
#: Events that change what is saved.
SAVED_EVENTS = ("reminders-on", "reminders-off")


def trigger_for(gesture: str, from_button: bool, during_pulse: bool) -> str:
    """What the history says started a session: the button, a double press, the pulse, remote."""
    if gesture == GESTURE_DOUBLE:
        return DOUBLE
    if during_pulse and gesture == PRESS:
        return PULSE
    return BUTTON if from_button else REMOTE


class Records:
    """Logs events, saves the device state and feeds the history recorder."""

    def __init__(
        self,
        engine: Engine,
        store: StateStore | None,
        recorder: HistoryRecorder | None,
        report: RateLimitedLog,
    ) -> None:
        self.engine = engine
        self.store = store
        self.recorder = recorder
        self.report = report

    def event(self, event: str) -> None:
        """One log line for an engine event; the state is saved when it changed."""
        name, _, detail = event.partition(":")
        message = EVENT_MESSAGES.get(name)
        log.info(message.format(detail=detail) if message else event)
        if name in SAVED_EVENTS:
            self.save()

    def save(self) -> None:
        """Save the reminders switch and the last pulse (atomically, state.py)."""
        if self.store is None:
            return
        controller = self.engine.controller
        self.store.save(DeviceState(controller.reminders_enabled, self.engine.last_pulse))

    def observe(self, now: Now, trigger: str | None, during_pulse: bool) -> None:
        """History rows for what happened since the last step (never raises)."""
        if self.recorder is None:
            return
        controller = self.engine.controller
        try:
            self.recorder.observe(
                controller.session_view(now),
                controller.pulses_shown,
                now.wall,
                trigger,
                during_pulse,
                controller.measured_rate(now),
            )
        except Exception:
            self.report("history", now.mono, "recording the history failed")

    def stopping(self) -> None:
        """The service stops: a session running now is recorded as interrupted."""
        if self.recorder is not None:
            self.recorder.interrupt()

    def close(self, history: HistoryWorker | None, wall: datetime) -> None:
        """Mark a session still open as interrupted and close the history; never raises."""
        if history is None:
            return
        try:
            if self.recorder is not None:
                self.recorder.close(wall)
            history.close()
        except Exception:
            log.exception("closing the history failed")
