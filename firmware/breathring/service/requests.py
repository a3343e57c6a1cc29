"""The service's answers to control requests: one table from command to handler.

Each handler runs in the loop's thread, replies exactly once (now, or for the history
when its worker has the answer) and returns True if the light must be redrawn at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from ..breath_rate import PLAUSIBLE_MAX_PER_MIN, PLAUSIBLE_MIN_PER_MIN, BreathReading, plausible
from ..clock import Now
from ..config import session_pattern
from ..control.protocol import ErrorCode, Reply, error_reply, ok_reply
from ..control.server import STOPPING, ControlRequest, too_many_watchers
from ..controller import PULSE
from ..gestures import HOLD, PRESS
from ..patterns import CUSTOM, PRESETS
from ..settings import RESTART_KEYS, SettingError

if TYPE_CHECKING:
    from .loop import Service

log = logging.getLogger("breathring.service")

#: Where a gesture came from, as watchers see it.
SOURCE_SOCKET = "socket"
NO_HISTORY = "the history is not kept by this service"
ALLOWED_RATE = (
    f"allowed a number {PLAUSIBLE_MIN_PER_MIN:g}-{PLAUSIBLE_MAX_PER_MIN:g} (breaths a minute)"
)

Handler = Callable[[ControlRequest, Now], bool]


class RequestHandlers:
    """Answers each control request through the service it belongs to."""

    def __init__(self, service: Service) -> None:
        self.service = service
        self.table: dict[str, Handler] = {
            "press": self._press,
            "hold": self._hold,
            "start": self._start,
            "stop": self._stop,
            "status": self._status,
            "reminders": self._reminders,
            "settings": self._settings,
            "set": self._set,
            "unset": self._unset,
            "stats": self._stats,
            "history-clear": self._history_clear,
            "watch": self._watch,
            "breath_rate": self._breath_rate,
        }

    def handle(self, request: ControlRequest, now: Now) -> bool:
        """Answer `request`; True if the light must be redrawn now. Never raises."""
        cmd = request.request.cmd
        if self.service.stopping:
            request.reply(STOPPING)
            return False
        try:
            return self.table[cmd](request, now)
        except Exception as exc:  # a bad request must never stop the device
            log.exception("control request %s failed", cmd)
            request.reply(error_reply(ErrorCode.FAILED, f"{cmd} failed: {exc}"))
            return False

    def _status_reply(self, request: ControlRequest, now: Now) -> None:
        request.reply(ok_reply(**self.service.status(now)))

    # -- the device ------------------------------------------------------------

    def _press(self, request: ControlRequest, now: Now) -> bool:
        restart = self.service.gesture(PRESS, now, SOURCE_SOCKET)
        self._status_reply(request, now)
        return restart

    def _hold(self, request: ControlRequest, now: Now) -> bool:
        restart = self.service.gesture(HOLD, now, SOURCE_SOCKET)
        self._status_reply(request, now)
        return restart

    def _start(self, request: ControlRequest, now: Now) -> bool:
        svc = self.service
        name = request.request.pattern
        if name == CUSTOM and svc.cfg.session.pattern != CUSTOM:
            request.reply(
                error_reply(
                    ErrorCode.NOT_CONFIGURED,
                    'pattern "custom" needs session.pattern = "custom" with '
                    "session.inhale and session.exhale in the configuration; "
                    f"allowed here: {', '.join(PRESETS)}",
                )
            )
            return False
        pattern = session_pattern(svc.cfg) if name == CUSTOM else PRESETS.get(name or "")
        controller = svc.engine.controller
        during_pulse = controller.state == PULSE
        svc.frames.audio_wake(now.mono, svc.cfg.audio.idle_close_seconds, at_once=True)
        controller.start_session(now, pattern=pattern)
        svc.observe(now, request.request.trigger, during_pulse)
        self._status_reply(request, now)
        return True

    def _stop(self, request: ControlRequest, now: Now) -> bool:
        restart = self.service.engine.controller.stop(now)
        self._status_reply(request, now)
        return restart

    def _status(self, request: ControlRequest, now: Now) -> bool:
        self._status_reply(request, now)
        return False

    def _reminders(self, request: ControlRequest, now: Now) -> bool:
        self.service.engine.controller.set_reminders(
            request.request.value == "on", now, keep_session=True
        )
        self._status_reply(request, now)
        return True

    # -- settings ----------------------------------------------------------------

    def _settings(self, request: ControlRequest, _now: Now) -> bool:
        listing = self.service.settings.listing()
        request.reply(ok_reply(settings=listing, restart_keys=list(RESTART_KEYS)))
        return False

    def _set(self, request: ControlRequest, now: Now) -> bool:
        """One key (reply: its `key` and `value`) or several at once (reply: their `values`)."""
        req = request.request
        several = req.values is not None
        changes = req.values if req.values is not None else {str(req.key): req.value}

        def change() -> Reply:
            values = self.service.reconfig.set(changes, now)
            if several:
                return ok_reply(values=values)
            ((key, value),) = values.items()
            return ok_reply(key=key, value=value)

        request.reply(self._setting(change))
        return True

    def _unset(self, request: ControlRequest, _now: Now) -> bool:
        reply = self._setting(lambda: self.service.reconfig.unset(request.request.key))
        request.reply(reply)
        return bool(reply.get("ok"))

    @staticmethod
    def _setting(change: Callable[[], Reply]) -> Reply:
        try:
            return change()
        except SettingError as exc:
            return error_reply(exc.code, exc.message, key=exc.key)

    def _breath_rate(self, request: ControlRequest, now: Now) -> bool:
        """A measured rate, stamped now; no frame, no sound (watchers hear of it, throttled)."""
        req = request.request
        value = req.value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        if not number or not plausible(float(value)):
            shown = value if number else repr(value)
            request.reply(
                error_reply(
                    ErrorCode.INVALID,
                    f"per_min = {shown} is not a breathing rate; {ALLOWED_RATE}",
                    key="per_min",
                )
            )
            return False
        svc = self.service
        svc.breath_reading(BreathReading(float(value), now.mono, req.source))
        request.reply(ok_reply(breath_rate=svc.engine.controller.breath_rate.to_status(now.mono)))
        return False

    # -- history and watchers ----------------------------------------------------

    def _stats(self, request: ControlRequest, now: Now) -> bool:
        history = self.service.history
        if history is None:
            request.reply(error_reply(ErrorCode.NO_HISTORY, NO_HISTORY))
            return False
        today, tz, days = now.wall.date(), now.wall.tzinfo, request.request.days
        assert tz is not None

        def answer(result: object, error: str | None) -> None:
            if error is not None:
                request.reply(error_reply(ErrorCode.FAILED, error))
            else:
                request.reply(ok_reply(stats=result))

        history.query(lambda h: h.stats(today, days, tz), answer)
        return False

    def _history_clear(self, request: ControlRequest, _now: Now) -> bool:
        history = self.service.history
        if history is None:
            request.reply(error_reply(ErrorCode.NO_HISTORY, NO_HISTORY))
            return False
        feed = self.service.feed

        def answer(_result: object, error: str | None) -> None:
            if error is not None:
                request.reply(
                    error_reply(ErrorCode.FAILED, f"the history was not cleared: {error}")
                )
                return
            request.reply(ok_reply())
            feed.publish({"kind": "history"})

        history.query(lambda h: h.clear(), answer)
        return False

    def _watch(self, request: ControlRequest, now: Now) -> bool:
        svc = self.service
        svc.observe(now)  # watchers already there hear of changes first
        if request.watcher is not None and svc.reporter.add_watcher(
            request.watcher, now, svc.synced
        ):
            request.reply(ok_reply())
        else:
            client = request.request.client
            request.reply(too_many_watchers(client, svc.feed.share(client)))
        return False
