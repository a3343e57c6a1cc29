"""A session's timeline: lead-in, N breaths, closing. Pure.

The timeline is a list of segments. Each segment moves the ring's level
(0 = empty ring, 1 = full) from one value to another with a quintic
"smootherstep" ease, whose speed and acceleration are zero at both ends:
the speed is therefore continuous at every phase boundary (no jerk).
Time `t` is seconds since the session started (monotonic clock).
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass

from .patterns import EXHALE, HOLD_IN, HOLD_OUT, INHALE, Pattern

LEAD_IN = "lead-in"
CLOSING = "closing"

#: Level of the small resting glow the ring gathers into between breaths.
GLOW_LEVEL = 0.1
#: The lead-in starts from this level, so a press lights the ring at once.
LEAD_IN_SPARK = 0.04
#: Length of the lead-in (ring gathers into the glow) and of the closing fade.
LEAD_IN_S = 2.0
CLOSING_S = 2.5

#: The cue that announces each phase when it starts.
CUE_FOR_PHASE = {
    LEAD_IN: "start",
    INHALE: "inhale",
    HOLD_IN: "hold",
    EXHALE: "exhale",
    HOLD_OUT: "hold",
    CLOSING: "end",
}
#: The guide tone (sounds.GUIDE_KINDS) that swells and fades with each breathing phase.
GUIDE_FOR_PHASE = {INHALE: "inhale", EXHALE: "exhale", HOLD_IN: "hold", HOLD_OUT: "hold"}


def ease_out_cubic(x: float) -> float:
    """Fast start, gentle arrival: zero speed and acceleration at the end."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    rest = 1.0 - x
    return 1.0 - rest * rest * rest


def smootherstep(x: float) -> float:
    """Quintic ease 0..1 with zero first and second derivative at both ends."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    return x * x * x * (x * (x * 6.0 - 15.0) + 10.0)


@dataclass(frozen=True)
class Segment:
    """One phase on the session's timeline."""

    phase: str
    breath: int  # 1-based breath number; 0 during the lead-in
    start: float
    end: float
    from_level: float
    to_level: float
    #: The lead-in starts moving at once (ease-out); every other phase starts
    #: and ends at rest (smootherstep).
    ease_out: bool = False

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def cue(self) -> str:
        return CUE_FOR_PHASE[self.phase]

    def level(self, t: float) -> float:
        if self.end <= self.start:
            return self.to_level
        x = (t - self.start) / (self.end - self.start)
        ease = ease_out_cubic(x) if self.ease_out else smootherstep(x)
        return self.from_level + (self.to_level - self.from_level) * ease


def _fill_to_level(fill: float) -> float:
    return GLOW_LEVEL + (1.0 - GLOW_LEVEL) * fill


class Timeline:
    """The whole of one session, computed once when it starts."""

    def __init__(self, pattern: Pattern, breaths: int) -> None:
        if breaths < 1:
            raise ValueError("a session needs at least one breath")
        self.pattern = pattern
        self.breaths = breaths
        segments = [Segment(LEAD_IN, 0, 0.0, LEAD_IN_S, LEAD_IN_SPARK, GLOW_LEVEL, ease_out=True)]
        t = LEAD_IN_S
        level = GLOW_LEVEL
        for k in range(breaths):
            for phase in pattern.phases(k, t - LEAD_IN_S):
                target = _fill_to_level(phase.fill)
                segments.append(Segment(phase.kind, k + 1, t, t + phase.seconds, level, target))
                t += phase.seconds
                level = target
        segments.append(Segment(CLOSING, breaths, t, t + CLOSING_S, level, 0.0))
        self.segments: tuple[Segment, ...] = tuple(segments)
        self._starts = [s.start for s in self.segments]

    @property
    def duration(self) -> float:
        return self.segments[-1].end

    def segment_at(self, t: float) -> Segment | None:
        """The segment running at `t`, or None before the start or after the end."""
        if t < 0.0 or t >= self.duration:
            return None
        return self.segments[bisect.bisect_right(self._starts, t) - 1]

    def level(self, t: float) -> float:
        """Ring level in [0, 1] at `t` seconds into the session."""
        segment = self.segment_at(t)
        return 0.0 if segment is None else segment.level(t)

    def cues_between(self, t0: float | None, t1: float) -> list[str]:
        """Cues of the phases that start in (t0, t1]; t0 None means from the very start."""
        return [s.cue for s in self.crossed(t0, t1)]

    def crossed(self, t0: float | None, t1: float) -> Iterator[Segment]:
        """Segments that start in (t0, t1], in order (t0 None includes t = 0)."""
        lo = 0 if t0 is None else bisect.bisect_right(self._starts, t0)
        hi = bisect.bisect_right(self._starts, t1)
        for segment in self.segments[lo:hi]:
            if segment.seconds > 0.0:
                yield segment
