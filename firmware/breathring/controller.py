"""The device's state machine: gestures in, frames and cues out. Pure.

States: idle (dark), session (a breathing session, possibly fading out after
a cancel), pulse (the hourly invitation), confirm (blinks after a hold).
Everything is a function of the gestures and the `Now` passed in; sessions are
paced by the monotonic clock, the look (day or night) by the wall clock.
"""

from __future__ import annotations

from .activities import (
    CANCEL_FADE_S,
    CONFIRM,
    IDLE,
    PULSE,
    ConfirmActivity,
    Look,
    PulseActivity,
    PulseGlow,
    SessionActivity,
    SessionView,
    Tick,
    is_night,
    look_for,
)
from .breath_rate import BreathRateState, BreathReading
from .clock import Now
from .config import Config, long_pattern, session_pattern
from .gestures import DOUBLE, GESTURES, HOLD, PRESS
from .patterns import FOLLOW, Pattern, follow_pattern
from .scene import ArcScene
from .session import LEAD_IN_S, Segment, Timeline


class Controller:
    """The whole behaviour of the device, minus the hardware and the clock."""

    def __init__(self, cfg: Config, reminders_enabled: bool | None = None) -> None:
        self.cfg = cfg
        self.scene = ArcScene(cfg.ring.pixels, cfg.ring.start_pixel)
        self.reminders_enabled = (
            cfg.reminder.enabled if reminders_enabled is None else reminders_enabled
        )
        self._activity: SessionActivity | PulseActivity | ConfirmActivity | None = None
        #: The latest measured breathing rate; a session takes the fresh one when it starts.
        self.breath_rate = BreathRateState(cfg.breath_sensor.stale_seconds)
        self._lit = False  # was the last frame handed out lit?
        self._pending_events: list[str] = []
        self._pending_cues: list[str] = []
        #: Sessions started and pulses shown since start (the history tells them apart by these).
        self.sessions_started = 0
        self.pulses_shown = 0

    # ----------------------------------------------------------------- input

    def reconfigure(self, cfg: Config) -> None:
        """Take a new configuration; a running activity finishes as it began."""
        if (
            cfg.ring.pixels != self.cfg.ring.pixels
            or cfg.ring.start_pixel != self.cfg.ring.start_pixel
        ):
            self.scene = ArcScene(cfg.ring.pixels, cfg.ring.start_pixel)
            if cfg.ring.pixels != self.cfg.ring.pixels:
                self._activity = None
        self.cfg = cfg
        self.breath_rate.stale_after_s = cfg.breath_sensor.stale_seconds
        activity = self._activity
        if activity is not None:  # new brightness or colour: from the next frame on
            activity.look = look_for(self.cfg, activity.look.night)

    def handle(self, gesture: str, now: Now, held: bool = False) -> None:
        """A gesture: "press", "double" or "hold".

        `held`: the press comes from a button that is still down, so it may yet
        become a hold; its session lights at once but plays `start` only on
        `release`.
        """
        if gesture == PRESS:
            self.press(now, held)
        elif gesture == DOUBLE:
            self.double(now)
        elif gesture == HOLD:
            self.set_reminders(not self.reminders_enabled, now)
        else:
            raise ValueError(f"unknown gesture {gesture!r}; allowed: {', '.join(GESTURES)}")

    def breath_reading(self, reading: BreathReading) -> bool:
        """A measured breathing rate; True if kept (plausible, not older than the last).

        Nothing running changes: a session keeps the rate it started with.
        """
        return self.breath_rate.update(reading)

    def measured_rate(self, now: Now) -> float | None:
        """The fresh measured rate (breaths a minute) at `now`, or None."""
        reading = self.breath_rate.fresh(now.mono)
        return None if reading is None else reading.per_min

    def press(self, now: Now, held: bool = False) -> None:
        """Short press: start a session, or fade out the running one."""
        activity = self._activity
        if isinstance(activity, SessionActivity) and activity.cancel_at is None:
            self.stop(now)
        else:
            self.start_session(now)
            if held:
                session = self._activity
                assert isinstance(session, SessionActivity)
                session.start_cue_held = True

    def release(self, now: Now) -> None:
        """The button came up before a hold: the press is a press; `start` plays now."""
        activity = self._activity
        if not isinstance(activity, SessionActivity) or not activity.start_cue_held:
            return
        activity.start_cue_held = False
        if activity.last_t is None:  # no frame yet: the first one plays `start` itself
            return
        if activity.cancel_at is None and now.mono - activity.start < LEAD_IN_S:
            self._pending_cues.append(activity.timeline.segments[0].cue)

    def double(self, now: Now) -> None:
        """Double press: the session just started becomes the long one."""
        activity = self._activity
        if (
            isinstance(activity, SessionActivity)
            and activity.cancel_at is None
            and not activity.long
            and now.mono - activity.start < LEAD_IN_S
        ):
            activity.timeline = Timeline(*self._plan(True, None, activity.rate_start))
            activity.long = True
            self._pending_events.append("session-long")
        else:
            self.start_session(now, long=True)

    def start_session(
        self,
        now: Now,
        pattern: Pattern | None = None,
        long: bool = False,
        breaths: int | None = None,
    ) -> None:
        """Start a session at once (the lead-in begins on this very frame).

        The measured breathing rate, if fresh, is taken now: the session keeps it (a
        `follow` session paces from it) and the history records it as its start.
        """
        rate = self.measured_rate(now)
        planned, planned_breaths = self._plan(long, pattern, rate)
        pattern = planned
        if breaths is None:
            breaths = planned_breaths
        previous = self._activity
        self.sessions_started += 1
        session = SessionActivity(
            Timeline(pattern, breaths),
            now.mono,
            self._look(now),
            long,
            self.sessions_started,
            rate_start=rate,
        )
        if isinstance(previous, SessionActivity):  # a confirm still waiting shows after this one
            session.then = previous.then
        self._activity = session
        self._pending_events.append(f"session-started:{pattern.name}")

    def _plan(
        self, long: bool, pattern: Pattern | None = None, rate: float | None = None
    ) -> tuple[Pattern, int]:
        """The pattern and breaths of a session: the same for the same gesture and rate.

        `follow` is built from the measured `rate` (None: none fresh) and the config's
        target and length. A pattern with a natural length (wind-down, follow) runs that
        length; any other runs session.breaths (a press) or session.long_breaths (a double
        press).
        """
        session_cfg = self.cfg.session
        if pattern is None:
            pattern = long_pattern(self.cfg) if long else session_pattern(self.cfg)
        if pattern.name == FOLLOW:
            pattern = follow_pattern(rate, session_cfg.follow_target, session_cfg.follow_minutes)
        breaths = session_cfg.long_breaths if long else session_cfg.breaths
        if pattern.natural_breaths is not None:
            breaths = pattern.natural_breaths
        return pattern, breaths

    def stop(self, now: Now, fade_s: float = CANCEL_FADE_S) -> bool:
        """Fade out whatever is showing; True if there was something to stop."""
        activity = self._activity
        if isinstance(activity, SessionActivity):
            if activity.cancel_at is None:
                activity.cancel_at = now.mono
                activity.cancel_s = fade_s
                if not activity.start_cue_held:  # never `end` without its `start`
                    self._pending_cues.append(activity.timeline.segments[-1].cue)
                # A release after this plays no `start`: release() checks cancel_at.
                self._pending_events.append("session-cancelled")
            return True
        if activity is not None:
            self._activity = None
            return True
        return False

    def set_reminders(self, enabled: bool, now: Now, keep_session: bool = False) -> None:
        """Turn the hourly reminders on or off, confirmed by blinks and a sound.

        A running session is never cut. The button's hold fades it out (with its
        `end` cue, if it played `start`) and the blinks follow the fade;
        `keep_session` (a remote switch: socket, web, MQTT) lets it run to its
        natural end and the blinks follow then.
        """
        self.reminders_enabled = enabled
        blinks = 2 if enabled else 1
        confirm = ConfirmActivity(blinks, now.mono, self._look(now))
        activity = self._activity
        if isinstance(activity, SessionActivity):
            if not keep_session:
                self.stop(now)
            activity.then = confirm  # the latest toggle wins; its blinks wait for the end
        else:
            self._activity = confirm
        self._pending_events.append("reminders-on" if enabled else "reminders-off")

    def start_pulse(self, now: Now) -> bool:
        """Show the hourly invitation, unless something else is showing."""
        if self._activity is not None:
            return False
        glow = PulseGlow(self.cfg.reminder.seconds)
        self._activity = PulseActivity(glow, now.mono, self._look(now))
        self.pulses_shown += 1
        self._pending_events.append("pulse-shown")
        if self.cfg.reminder.sound:
            self._pending_cues.append("reminder")
        return True

    # ---------------------------------------------------------------- output

    @property
    def active(self) -> bool:
        """True while frames must keep coming (something lit or moving)."""
        return self._activity is not None or self._lit

    @property
    def state(self) -> str:
        activity = self._activity
        if isinstance(activity, SessionActivity):
            return "session"
        if isinstance(activity, PulseActivity):
            return PULSE
        if isinstance(activity, ConfirmActivity):
            return CONFIRM
        return IDLE

    def status(self, now: Now) -> dict[str, object]:
        """A summary for `breathring status`: always the same keys (PROTOCOL.md)."""
        activity = self._activity
        night = activity.look.night if activity is not None else self.is_night(now)
        out: dict[str, object] = {
            "state": self.state,
            "phase": self.state if self.state in (PULSE, CONFIRM) else IDLE,
            "breath": 0,
            "breaths": 0,
            "pattern": None,
            "next_pattern": self.next_pattern,
            "reminders": self.reminders_enabled,
            "elapsed": None,
            "remaining": None,
            "night": night,
            "breath_rate": self.breath_rate.to_status(now.mono),
        }
        if isinstance(activity, SessionActivity):
            out.update(activity.status(now))
        return out

    @property
    def next_pattern(self) -> str:
        """The pattern a short press would start."""
        return session_pattern(self.cfg).name

    def session_view(self, now: Now) -> SessionView | None:
        """The running session (None when there is none), for the history."""
        activity = self._activity
        return activity.view(now) if isinstance(activity, SessionActivity) else None

    def upcoming(self, now: Now, count: int) -> list[Segment]:
        """The next `count` phases of the running session (for preparing guide tones)."""
        activity = self._activity
        return activity.upcoming(now, count) if isinstance(activity, SessionActivity) else []

    def tick(self, now: Now) -> Tick:
        """The frame, phase and cues for this moment."""
        activity = self._activity
        if isinstance(activity, SessionActivity):
            tick = self._tick_session(activity, now)
        elif isinstance(activity, PulseActivity):
            tick = self._tick_pulse(activity, now)
        elif isinstance(activity, ConfirmActivity):
            tick = self._tick_confirm(activity, now)
        else:
            tick = Tick(self.scene.dark(), IDLE, 0)
        tick.cues[:0] = self._pending_cues
        tick.events[:0] = self._pending_events
        self._pending_cues = []
        self._pending_events = []
        self._lit = any(tick.frame.coverage) and tick.frame.intensity > 0.0
        return tick

    def _tick_session(self, session: SessionActivity, now: Now) -> Tick:
        tick = session.tick(now, self.scene)
        if tick is None:
            self._activity = None
            if session.cancel_at is None:
                self._pending_events.append("session-finished")
            if session.then is not None:  # the blinks waited for the fade
                session.then.start = now.mono
                self._activity = session.then
                return self._tick_confirm(session.then, now)
            return Tick(self.scene.dark(), IDLE, 0)
        return tick

    def _tick_pulse(self, pulse: PulseActivity, now: Now) -> Tick:
        tick = pulse.tick(now, self.scene)
        if tick is None:
            self._activity = None
            return Tick(self.scene.dark(), IDLE, 0)
        return tick

    def _tick_confirm(self, confirm: ConfirmActivity, now: Now) -> Tick:
        tick, over = confirm.tick(now, self.scene)
        if over:
            self._activity = None
        return tick

    # ------------------------------------------------------------------ look

    def is_night(self, now: Now) -> bool:
        return is_night(self.cfg, now)

    def _look(self, now: Now) -> Look:
        return look_for(self.cfg, self.is_night(now))

    @property
    def volume(self) -> float:
        activity = self._activity
        return activity.look.volume if activity is not None else self.cfg.audio.volume
