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
#: A changed breathing rate (rounded to 0.1) reaches watchers at most this often, so a
#: 1 Hz radar does not repaint pages or rewrite MQTT states every second; its coming and
#: going (fresh or stale) at once.
RATE_WATCH_INTERVAL_S = 5.0
#: The loop wakes this long after a reading goes stale, to tell watchers (fresh() counts
#: a reading exactly `stale_seconds` old as fresh).
RATE_STALE_MARGIN_S = 0.01


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
        #: The breathing rate (per_min, rounded) watchers last heard, and when (monotonic).
        self._rate_shown: float | None = None
        self._rate_sent = float("-inf")
        self._rate_pending = False

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
        first = not len(self.feed)
        if not self.feed.add(watcher, {"kind": "status", "status": status}):
            return False
        self._watched = tuple(status[k] for k in WATCHED_FIELDS)
        if first:  # later ones keep the others' pace: a held-back rate still goes out on time
            self._rate_sent_now(status, now.mono)
        return True

    def publish(self, now: Now, synced: bool) -> None:
        """Send a status line to the watchers if a watched field (or the rate, when due)
        changed."""
        if not len(self.feed):
            self._watched = None
            self._rate_pending = False
            return
        status = self.status(now, synced)
        watched = tuple(status[k] for k in WATCHED_FIELDS)
        rate = _per_min(status)
        self._rate_pending = rate != self._rate_shown
        rate_due = self._rate_pending and (
            rate is None
            or self._rate_shown is None
            or now.mono >= self._rate_sent + RATE_WATCH_INTERVAL_S
        )
        if watched != self._watched or rate_due:
            self._watched = watched
            self._rate_sent_now(status, now.mono)
            self.feed.publish({"kind": "status", "status": status})

    def _rate_sent_now(self, status: dict[str, object], mono: float) -> None:
        rate = _per_min(status)
        if rate != self._rate_shown:
            self._rate_shown = rate
            self._rate_sent = mono
        self._rate_pending = False

    def rate_deadline(self) -> float | None:
        """When the loop must wake for the watchers' rate: a held-back change due, or the
        rate they were shown going stale. None without watchers or anything to tell."""
        if not len(self.feed):
            return None
        deadlines = []
        if self._rate_pending:
            deadlines.append(self._rate_sent + RATE_WATCH_INTERVAL_S)
        state = self.engine.controller.breath_rate
        if self._rate_shown is not None and state.latest is not None:
            deadlines.append(state.latest.at + state.stale_after_s + RATE_STALE_MARGIN_S)
        return min(deadlines, default=None)

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


def _per_min(status: dict[str, object]) -> float | None:
    """The rate in a status (rounded to 0.1 by breath_rate.py), or None."""
    rate = status.get("breath_rate")
    return rate.get("per_min") if isinstance(rate, dict) else None  # type: ignore[return-value]
