"""What the controller runs, one at a time: a session, the hourly pulse, the confirm blinks. Pure.

Each activity keeps its own state and knows its frame at a moment; `Tick` is what one frame
produced, `Look` how an activity looks and sounds (day or night), `SessionView` a running
session as the history sees it.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from .clock import Now
from .config import Config
from .patterns import EXHALE, INHALE
from .reminder import MINUTES_PER_HOUR
from .scene import RGB, ArcScene, Frame, color_multipliers
from .session import CLOSING, GLOW_LEVEL, LEAD_IN, Segment, Timeline, smootherstep

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


def is_night(cfg: Config, now: Now) -> bool:
    """Whether `now`'s wall time is inside night.hours."""
    wall = now.wall
    return cfg.night.hours.contains(wall.hour * MINUTES_PER_HOUR + wall.minute + wall.second / 60)


def look_for(cfg: Config, night: bool) -> Look:
    """The colour and volume of an activity by day or by night."""
    if night:
        quiet = cfg.night
        return Look(color_multipliers(quiet.color, quiet.brightness), quiet.volume, True)
    ring = cfg.ring
    return Look(color_multipliers(ring.color, ring.brightness), cfg.audio.volume, False)


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
    #: The measured breathing rate (breaths a minute) when it started; None: none fresh.
    rate_start: float | None = None


@dataclass
class SessionActivity:
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
    then: ConfirmActivity | None = None
    #: The measured breathing rate when it started (breaths a minute); None: none fresh.
    rate_start: float | None = None

    def view(self, now: Now) -> SessionView:
        """The session as the history sees it (breaths done frozen at a cancel)."""
        timeline = self.timeline
        end = now.mono if self.cancel_at is None else min(now.mono, self.cancel_at)
        segment = timeline.segment_at(end - self.start)
        if segment is None or segment.phase == CLOSING:
            done = timeline.breaths
        else:
            done = max(segment.breath - 1, 0)
        return SessionView(
            serial=self.serial,
            pattern=timeline.pattern.name,
            breaths=timeline.breaths,
            long=self.long,
            elapsed=now.mono - self.start,
            breaths_done=done,
            cancelled=self.cancel_at is not None,
            rate_start=self.rate_start,
        )

    def status(self, now: Now) -> dict[str, object]:
        """The session's part of `status`: pattern, breath, phase, elapsed, remaining."""
        t = now.mono - self.start
        segment = self.timeline.segment_at(t)
        phase = segment.phase if segment else CLOSING
        remaining = self.timeline.duration - t
        if self.cancel_at is not None:  # fading out after a cancel, as the ring shows
            phase = CLOSING
            remaining = self.cancel_at + self.cancel_s - now.mono
        return {
            "pattern": self.timeline.pattern.name,
            "breaths": self.timeline.breaths,
            "breath": segment.breath if segment else self.timeline.breaths,
            "phase": phase,
            "elapsed": round(t, 1),
            "remaining": round(max(remaining, 0.0), 1),
        }

    def tick(self, now: Now, scene: ArcScene) -> Tick | None:
        """The frame now, with the cues of the phases it crossed; None once it is over
        (its last phase done, or faded out after a cancel)."""
        t = now.mono - self.start
        timeline = self.timeline
        started = [] if self.cancel_at is not None else list(timeline.crossed(self.last_t, t))
        if self.start_cue_held:
            started = [s for s in started if s.phase != LEAD_IN]
        self.last_t = t
        segment = timeline.segment_at(t)
        gain = 1.0
        if self.cancel_at is not None:
            fade = (now.mono - self.cancel_at) / self.cancel_s
            gain = 1.0 - smootherstep(fade)
            if fade >= 1.0:
                segment = None
        if segment is None:
            return None
        frame = scene.render(timeline.level(t), self.look.color, gain)
        phase = CLOSING if self.cancel_at is not None else segment.phase
        return Tick(frame, phase, segment.breath, [s.cue for s in started], started)

    def upcoming(self, now: Now, count: int) -> list[Segment]:
        """The next `count` phases (none once cancelled)."""
        if self.cancel_at is not None:
            return []
        t = now.mono - self.start
        return [s for s in self.timeline.segments if s.start > t][:count]


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
class PulseActivity:
    glow: PulseGlow
    start: float
    look: Look

    def tick(self, now: Now, scene: ArcScene) -> Tick | None:
        """The glow's frame now; None once it is over."""
        t = now.mono - self.start
        if t >= self.glow.duration:
            return None
        intensity = PULSE_PEAK * self.glow.level(t)
        return Tick(scene.fill(intensity, self.look.color), PULSE, 0)


@dataclass
class ConfirmActivity:
    blinks: int
    start: float
    look: Look
    announced: bool = False

    @property
    def duration(self) -> float:
        return self.blinks * BLINK_S + (self.blinks - 1) * BLINK_GAP_S

    def tick(self, now: Now, scene: ArcScene) -> tuple[Tick, bool]:
        """The blink's frame now (its sound with the first), and whether it is over."""
        t = now.mono - self.start
        cues = []
        if not self.announced:
            self.announced = True
            cues.append("confirm-on" if self.blinks == 2 else "confirm-off")
        if t >= self.duration:
            return Tick(scene.dark(), IDLE, 0, cues), True
        within = t % (BLINK_S + BLINK_GAP_S)
        intensity = 0.0
        if within < BLINK_S:
            # One smooth bump per blink: up and back down.
            x = within / BLINK_S
            intensity = BLINK_INTENSITY * smootherstep(1.0 - abs(2.0 * x - 1.0))
        return Tick(scene.fill(intensity, self.look.color), CONFIRM, 0, cues), False
