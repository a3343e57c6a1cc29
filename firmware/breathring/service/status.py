"""What the service tells others: the status reply, watchers' status lines, systemd's STATUS.

Also whether the wall clock may be trusted, with one log line at start and on each change.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..clock import Clock, ClockTrust, Now, clock_trust
from ..control.feed import StatusFeed, Watcher
from ..engine import Engine
from ..systemd import Notifier
from .frames import FrameWriter

log = logging.getLogger("breathring.service")

#: Status fields whose change is sent to watchers (not elapsed/remaining ticking).
WATCHED_FIELDS = (
    "state",
    "phase",
    "breath",
    "pattern",
    "next_pattern",
    "reminders",
    "night",
    "clock_synchronized",
)


class ClockTrustLog:
    """Whether the wall clock may pace the pulses; logs once at start and on each change."""

    def __init__(self, clock: Clock, trust_setting: Callable[[], str]) -> None:
        self.clock = clock
        self._setting = trust_setting
        self.current: ClockTrust | None = None

    def __call__(self, synced: bool | None = None) -> ClockTrust:
        """The trust now; `synced` saves asking the clock again."""
        if synced is None:
            synced = self.clock.synchronized()
        trust = clock_trust(synced, self._setting(), self.clock.has_rtc())
        previous = self.current
        if previous is None or (previous.synchronized, previous.trusted) != (
            trust.synchronized,
            trust.trusted,
        ):
            level = logging.INFO if trust.trusted else logging.WARNING
            log.log(level, trust.log_line())
        self.current = trust
        return trust

    def trusted(self) -> bool:
        """The trust at the last look (asked now if none): the history marks its rows by it."""
        return (self.current if self.current is not None else self()).trusted


class StatusReporter:
    """Builds the status reply and keeps watchers and systemd up to date with it."""

    def __init__(
        self,
        engine: Engine,
        frames: FrameWriter,
        trust: ClockTrustLog,
        feed: StatusFeed,
        notifier: Notifier,
        hardware_kind: str,
    ) -> None:
        self.engine = engine
        self.frames = frames
        self.trust = trust
        self.feed = feed
        self.notifier = notifier
        self.hardware_kind = hardware_kind
        self._systemd_text = ""
        self._watched: tuple[object, ...] | None = None

    def status(self, now: Now, synced: bool | None = None) -> dict[str, object]:
        """Every status field (docs/architecture.md); `synced` saves asking the clock again."""
        engine = self.engine
        out = engine.controller.status(now)
        out["next_pulse"] = None
        if engine.controller.reminders_enabled:
            try:
                out["next_pulse"] = engine.schedule.next_deadline(
                    now.wall, engine.last_pulse
                ).isoformat(timespec="minutes")
            except Exception:  # e.g. a wall clock near year 9999: no next pulse to tell
                out["next_pulse"] = None
        trust = self.trust(synced)
        out["clock_synchronized"] = trust.synchronized
        out["clock_trusted"] = trust.trusted
        out["clock_reason"] = trust.reason or None
        out["hardware"] = self.hardware_kind
        timing = self.frames.timing
        out["frames_sent"] = timing.frames_sent
        out["frames_late"] = timing.frames_late
        out["late_frames_pct"] = timing.late_pct()
        out["light"] = self.frames.light
        return out

    def add_watcher(self, watcher: Watcher, now: Now, synced: bool) -> bool:
        """Register a new watcher with the status as its first line; False if there is no room."""
        status = self.status(now, synced)
        if not self.feed.add(watcher, {"kind": "status", "status": status}):
            return False
        self._watched = tuple(status[k] for k in WATCHED_FIELDS)
        return True

    def publish(self, now: Now, synced: bool) -> None:
        """Send a status line to the watchers if a watched field changed."""
        if not len(self.feed):
            self._watched = None
            return
        status = self.status(now, synced)
        watched = tuple(status[k] for k in WATCHED_FIELDS)
        if watched != self._watched:
            self._watched = watched
            self.feed.publish({"kind": "status", "status": status})

    def update_systemd(self, now: Now) -> None:
        """systemd's one-line STATUS, sent when it changes."""
        info = self.engine.controller.status(now)
        state = info["state"]
        if state == "session":
            text = f"session {info['pattern']}: breath {info['breath']}/{info['breaths']}"
        else:
            text = f"{state}; reminders {'on' if info['reminders'] else 'off'}"
        if text != self._systemd_text:
            self._systemd_text = text
            self.notifier.status(text)
