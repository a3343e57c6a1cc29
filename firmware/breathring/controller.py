"""The device's state machine: gestures in, frames and cues out. Pure.

States: idle (dark), session (a breathing session, possibly fading out after
a cancel), pulse (the hourly invitation), confirm (blinks after a hold).
Everything is a function of the gestures and the `Now` passed in; sessions are
paced by the monotonic clock, the look (day or night) by the wall clock.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .clock import Now
from .config import Config, long_pattern, session_pattern
from .gestures import DOUBLE, GESTURES, HOLD, PRESS
from .patterns import EXHALE, INHALE, Pattern
from .reminder import MINUTES_PER_HOUR
from .scene import RGB, ArcScene, Frame, color_multipliers
from .session import CLOSING, GLOW_LEVEL, LEAD_IN, LEAD_IN_S, Segment, Timeline, smootherstep

IDLE = "idle"
PULSE = "pulse"
CONFIRM = "confirm"

#: A cancelled session fades out over this long.
CANCEL_FADE_S = 0.8
#: Confirm blinks: each blink's length, the gap between blinks, their intensity.
BLINK_S = 0.35
BLINK_GAP_S = 0.2
BLINK_INTENSITY = 0.6
#: The hourly pulse: peak intensity (dim), and the pace of its glow (in, out).
PULSE_PEAK = 0.45
PULSE_IN_S = 4.0
PULSE_OUT_S = 6.0


@dataclass(frozen=True)
class Look:
    """How an activity looks and sounds: day or night."""

    color: RGB
    volume: float
    night: bool


@dataclass
class Tick:
    """What one frame produced."""

    frame: Frame
    phase: str
    breath: int
    cues: list[str] = field(default_factory=list)
    #: Phases that started in this frame, with their length (for guide tones).
    phase_starts: list[Segment] = field(default_factory=list)
    #: Things worth logging or saving: "session-started", "reminders-on", ...
    events: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class SessionView:
    """A running session as the history sees it (see `Controller.session_view`)."""

    serial: int
    pattern: str
    breaths: int
    long: bool
    elapsed: float
    #: Breaths finished so far (frozen at the moment of a cancel).
    breaths_done: int
    cancelled: bool


@dataclass
class _Session:
    timeline: Timeline
    start: float
    look: Look
    long: bool
    serial: int = 0
    last_t: float | None = None
    cancel_at: float | None = None
    cancel_s: float = CANCEL_FADE_S
    #: Started by a button that is still down: `start` waits until it is released
    #: (a press), and never plays if the press becomes a hold.
    start_cue_held: bool = False
    #: Shown once this session has faded out (the blink of a reminders toggle).
    then: _Confirm | None = None


class PulseGlow:
    """The hourly invitation's glow: breath-paced, lasting exactly `seconds`.

    Whole breaths of PULSE_IN_S in and PULSE_OUT_S out, stretched evenly so that
    they fill `seconds`; it rises from dark and settles back to dark at the end.
    """

    def __init__(self, seconds: float) -> None:
        if seconds <= 0.0:
            raise ValueError(f"a pulse must last more than 0 s, not {seconds!r}")
        breath_s = PULSE_IN_S + PULSE_OUT_S
        breaths = max(1, round(seconds / breath_s))
        stretch = seconds / (breaths * breath_s)
        segments = []
        t, level = 0.0, 0.0
        for k in range(breaths):
            rest = 0.0 if k == breaths - 1 else GLOW_LEVEL
            for phase, length, target in (
                (INHALE, PULSE_IN_S, 1.0),
                (EXHALE, PULSE_OUT_S, rest),
            ):
                segments.append(Segment(phase, k + 1, t, t + length * stretch, level, target))
                t += length * stretch
                level = target
        self.segments = tuple(segments)
        self.duration = seconds
        self._starts = [segment.start for segment in segments]

    def level(self, t: float) -> float:
        """Glow level in [0, 1] at `t` seconds into the pulse (0 outside it)."""
        if t < 0.0 or t >= self.duration:
            return 0.0
        return self.segments[bisect.bisect_right(self._starts, t) - 1].level(t)


@dataclass
class _Pulse:
    glow: PulseGlow
    start: float
    look: Look


@dataclass
class _Confirm:
    blinks: int
    start: float
    look: Look
    announced: bool = False

    @property
    def duration(self) -> float:
        return self.blinks * BLINK_S + (self.blinks - 1) * BLINK_GAP_S


class Controller:
    """The whole behaviour of the device, minus the hardware and the clock."""

    def __init__(self, cfg: Config, reminders_enabled: bool | None = None) -> None:
        self.cfg = cfg
        self.scene = ArcScene(cfg.ring.pixels, cfg.ring.start_pixel)
        self.reminders_enabled = (
            cfg.reminder.enabled if reminders_enabled is None else reminders_enabled
        )
        self._activity: _Session | _Pulse | _Confirm | None = None
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
        activity = self._activity
        if activity is not None:  # new brightness or colour: from the next frame on
            activity.look = self._look_for(activity.look.night)

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

    def press(self, now: Now, held: bool = False) -> None:
        """Short press: start a session, or fade out the running one."""
        activity = self._activity
        if isinstance(activity, _Session) and activity.cancel_at is None:
            self.stop(now)
        else:
            self.start_session(now)
            if held:
                session = self._activity
                assert isinstance(session, _Session)
                session.start_cue_held = True

    def release(self, now: Now) -> None:
        """The button came up before a hold: the press is a press; `start` plays now."""
        activity = self._activity
        if not isinstance(activity, _Session) or not activity.start_cue_held:
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
            isinstance(activity, _Session)
            and activity.cancel_at is None
            and not activity.long
            and now.mono - activity.start < LEAD_IN_S
        ):
            activity.timeline = Timeline(*self._plan(long=True))
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
        """Start a session at once (the lead-in begins on this very frame)."""
        planned, planned_breaths = self._plan(long, pattern)
        pattern = planned
        if breaths is None:
            breaths = planned_breaths
        previous = self._activity
        self.sessions_started += 1
        session = _Session(
            Timeline(pattern, breaths), now.mono, self._look(now), long, self.sessions_started
        )
        if isinstance(previous, _Session):  # a confirm still waiting shows after this one
            session.then = previous.then
        self._activity = session
        self._pending_events.append(f"session-started:{pattern.name}")

    def _plan(self, long: bool, pattern: Pattern | None = None) -> tuple[Pattern, int]:
        """The pattern and breaths of a session: the same for the same gesture.

        A pattern with a natural length (wind-down) runs that length; any other
        runs session.breaths (a press) or session.long_breaths (a double press).
        """
        session_cfg = self.cfg.session
        if pattern is None:
            pattern = long_pattern(self.cfg) if long else session_pattern(self.cfg)
        breaths = session_cfg.long_breaths if long else session_cfg.breaths
        if pattern.natural_breaths is not None:
            breaths = pattern.natural_breaths
        return pattern, breaths

    def stop(self, now: Now, fade_s: float = CANCEL_FADE_S) -> bool:
        """Fade out whatever is showing; True if there was something to stop."""
        activity = self._activity
        if isinstance(activity, _Session):
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
        confirm = _Confirm(blinks, now.mono, self._look(now))
        activity = self._activity
        if isinstance(activity, _Session):
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
        self._activity = _Pulse(glow, now.mono, self._look(now))
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
        if isinstance(activity, _Session):
            return "session"
        if isinstance(activity, _Pulse):
            return PULSE
        if isinstance(activity, _Confirm):
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
        }
        if isinstance(activity, _Session):
            t = now.mono - activity.start
            segment = activity.timeline.segment_at(t)
            phase = segment.phase if segment else CLOSING
            remaining = activity.timeline.duration - t
            if activity.cancel_at is not None:  # fading out after a cancel, as the ring shows
                phase = CLOSING
                remaining = activity.cancel_at + activity.cancel_s - now.mono
            out.update(
                pattern=activity.timeline.pattern.name,
                breaths=activity.timeline.breaths,
                breath=segment.breath if segment else activity.timeline.breaths,
                phase=phase,
                elapsed=round(t, 1),
                remaining=round(max(remaining, 0.0), 1),
            )
        return out

    @property
    def next_pattern(self) -> str:
        """The pattern a short press would start."""
        return session_pattern(self.cfg).name

    def session_view(self, now: Now) -> SessionView | None:
        """The running session (None when there is none), for the history."""
        activity = self._activity
        if not isinstance(activity, _Session):
            return None
        timeline = activity.timeline
        end = now.mono if activity.cancel_at is None else min(now.mono, activity.cancel_at)
        segment = timeline.segment_at(end - activity.start)
        if segment is None or segment.phase == CLOSING:
            done = timeline.breaths
        else:
            done = max(segment.breath - 1, 0)
        return SessionView(
            serial=activity.serial,
            pattern=timeline.pattern.name,
            breaths=timeline.breaths,
            long=activity.long,
            elapsed=now.mono - activity.start,
            breaths_done=done,
            cancelled=activity.cancel_at is not None,
        )

    def upcoming(self, now: Now, count: int) -> list[Segment]:
        """The next `count` phases of the running session (for preparing guide tones)."""
        activity = self._activity
        if not isinstance(activity, _Session) or activity.cancel_at is not None:
            return []
        t = now.mono - activity.start
        later = [s for s in activity.timeline.segments if s.start > t]
        return later[:count]

    def tick(self, now: Now) -> Tick:
        """The frame, phase and cues for this moment."""
        activity = self._activity
        if isinstance(activity, _Session):
            tick = self._tick_session(activity, now)
        elif isinstance(activity, _Pulse):
            tick = self._tick_pulse(activity, now)
        elif isinstance(activity, _Confirm):
            tick = self._tick_confirm(activity, now)
        else:
            tick = Tick(self.scene.dark(), IDLE, 0)
        tick.cues[:0] = self._pending_cues
        tick.events[:0] = self._pending_events
        self._pending_cues = []
        self._pending_events = []
        self._lit = any(tick.frame.coverage) and tick.frame.intensity > 0.0
        return tick

    def _tick_session(self, session: _Session, now: Now) -> Tick:
        t = now.mono - session.start
        timeline = session.timeline
        started = [] if session.cancel_at is not None else list(timeline.crossed(session.last_t, t))
        if session.start_cue_held:
            started = [s for s in started if s.phase != LEAD_IN]
        session.last_t = t
        segment = timeline.segment_at(t)
        gain = 1.0
        if session.cancel_at is not None:
            fade = (now.mono - session.cancel_at) / session.cancel_s
            gain = 1.0 - smootherstep(fade)
            if fade >= 1.0:
                segment = None
        if segment is None:
            self._activity = None
            if session.cancel_at is None:
                self._pending_events.append("session-finished")
            if session.then is not None:  # the blinks waited for the fade
                session.then.start = now.mono
                self._activity = session.then
                return self._tick_confirm(session.then, now)
            return Tick(self.scene.dark(), IDLE, 0)
        frame = self.scene.render(timeline.level(t), session.look.color, gain)
        phase = CLOSING if session.cancel_at is not None else segment.phase
        return Tick(frame, phase, segment.breath, [s.cue for s in started], started)

    def _tick_pulse(self, pulse: _Pulse, now: Now) -> Tick:
        t = now.mono - pulse.start
        if t >= pulse.glow.duration:
            self._activity = None
            return Tick(self.scene.dark(), IDLE, 0)
        intensity = PULSE_PEAK * pulse.glow.level(t)
        return Tick(self.scene.fill(intensity, pulse.look.color), PULSE, 0)

    def _tick_confirm(self, confirm: _Confirm, now: Now) -> Tick:
        t = now.mono - confirm.start
        cues = []
        if not confirm.announced:
            confirm.announced = True
            cues.append("confirm-on" if confirm.blinks == 2 else "confirm-off")
        if t >= confirm.duration:
            self._activity = None
            return Tick(self.scene.dark(), IDLE, 0, cues)
        within = t % (BLINK_S + BLINK_GAP_S)
        intensity = 0.0
        if within < BLINK_S:
            # One smooth bump per blink: up and back down.
            x = within / BLINK_S
            intensity = BLINK_INTENSITY * smootherstep(1.0 - abs(2.0 * x - 1.0))
        return Tick(self.scene.fill(intensity, confirm.look.color), CONFIRM, 0, cues)

    # ------------------------------------------------------------------ look

    def is_night(self, now: Now) -> bool:
        wall = now.wall
        return self.cfg.night.hours.contains(
            wall.hour * MINUTES_PER_HOUR + wall.minute + wall.second / 60
        )

    def _look(self, now: Now) -> Look:
        return self._look_for(self.is_night(now))

    def _look_for(self, night: bool) -> Look:
        if night:
            quiet = self.cfg.night
            return Look(color_multipliers(quiet.color, quiet.brightness), quiet.volume, True)
        ring = self.cfg.ring
        return Look(color_multipliers(ring.color, ring.brightness), self.cfg.audio.volume, False)

    @property
    def volume(self) -> float:
        activity = self._activity
        return activity.look.volume if activity is not None else self.cfg.audio.volume
