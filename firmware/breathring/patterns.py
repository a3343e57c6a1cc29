"""Breath patterns: what each breath is made of, and the presets.

A pattern yields, for breath k (0-based) starting `elapsed` seconds into the
breathing part of a session, the list of phases of that breath. Most presets
are the same every breath; `wind-down` slows down as the session goes on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

INHALE = "inhale"
HOLD_IN = "hold-in"
EXHALE = "exhale"
HOLD_OUT = "hold-out"

#: Allowed durations, in seconds, for custom patterns.
BREATH_MIN_S = 0.5
BREATH_MAX_S = 30.0
HOLD_MIN_S = 0.0
HOLD_MAX_S = 30.0

#: How full the ring is after the first part of a double inhale (`sigh`).
SIGH_FIRST_FILL = 0.75

#: wind-down: pace eases from START to END breaths per minute over RAMP seconds.
WIND_DOWN_START_BPM = 11.0
WIND_DOWN_END_BPM = 6.0
WIND_DOWN_RAMP_S = 8 * 60.0
#: wind-down: the in-breath takes this share of each breath, the out-breath the rest.
WIND_DOWN_INHALE_SHARE = 0.4


@dataclass(frozen=True)
class Phase:
    """One phase of a breath: its kind, its length and the fill it moves to.

    `fill` is the share of the way from the resting glow (0) to the full
    ring (1) reached at the end of the phase.
    """

    kind: str
    seconds: float
    fill: float


@dataclass(frozen=True)
class Pattern:
    """A named breath pattern."""

    name: str
    description: str
    breath: Callable[[int, float], tuple[Phase, ...]]
    #: Number of breaths this pattern is meant for; None = use session.breaths.
    natural_breaths: int | None = None

    def phases(self, k: int, elapsed: float = 0.0) -> tuple[Phase, ...]:
        """The phases of breath `k` (0-based), `elapsed` s into the breathing."""
        return self.breath(k, elapsed)


def _fixed(
    inhale: float, hold_in: float, exhale: float, hold_out: float
) -> Callable[[int, float], tuple[Phase, ...]]:
    phases = [Phase(INHALE, inhale, 1.0)]
    if hold_in > 0:
        phases.append(Phase(HOLD_IN, hold_in, 1.0))
    phases.append(Phase(EXHALE, exhale, 0.0))
    if hold_out > 0:
        phases.append(Phase(HOLD_OUT, hold_out, 0.0))
    frozen = tuple(phases)
    return lambda _k, _elapsed: frozen


def fixed_pattern(
    name: str,
    inhale: float,
    exhale: float,
    hold_in: float = 0.0,
    hold_out: float = 0.0,
    description: str = "",
) -> Pattern:
    """A pattern whose every breath is the same."""
    text = (
        description or f"in {inhale:g} s, hold {hold_in:g} s, out {exhale:g} s, hold {hold_out:g} s"
    )
    return Pattern(name, text, _fixed(inhale, hold_in, exhale, hold_out))


def _sigh(_k: int, _elapsed: float) -> tuple[Phase, ...]:
    return (
        Phase(INHALE, 2.0, SIGH_FIRST_FILL),
        Phase(INHALE, 1.0, 1.0),
        Phase(EXHALE, 6.0, 0.0),
    )


def wind_down_bpm(elapsed: float) -> float:
    """Breaths per minute of `wind-down`, `elapsed` seconds into the breathing."""
    share = min(max(elapsed / WIND_DOWN_RAMP_S, 0.0), 1.0)
    return WIND_DOWN_START_BPM + (WIND_DOWN_END_BPM - WIND_DOWN_START_BPM) * share


def _wind_down(_k: int, elapsed: float) -> tuple[Phase, ...]:
    period = 60.0 / wind_down_bpm(elapsed)
    inhale = period * WIND_DOWN_INHALE_SHARE
    return (Phase(INHALE, inhale, 1.0), Phase(EXHALE, period - inhale, 0.0))


def _wind_down_breaths() -> int:
    """How many breaths fit into the wind-down ramp."""
    elapsed, k = 0.0, 0
    while elapsed < WIND_DOWN_RAMP_S:
        elapsed += sum(p.seconds for p in _wind_down(k, elapsed))
        k += 1
    return k


PRESETS: dict[str, Pattern] = {
    p.name: p
    for p in (
        fixed_pattern("three-breath", 4.0, 6.0, description="in 4 s, out 6 s (the default)"),
        fixed_pattern("box", 4.0, 4.0, 4.0, 4.0, description="in 4, hold 4, out 4, hold 4"),
        fixed_pattern("4-7-8", 4.0, 8.0, 7.0, 0.0, description="in 4, hold 7, out 8"),
        fixed_pattern("coherent", 5.5, 5.5, description="in 5.5 s, out 5.5 s (~5.5 breaths/min)"),
        Pattern("sigh", "physiological sigh: in 2 s, top-up in 1 s, out 6 s", _sigh),
        Pattern(
            "wind-down",
            "for falling asleep: eases from 11 to 6 breaths/min over 8 minutes, long out-breaths",
            _wind_down,
            natural_breaths=_wind_down_breaths(),
        ),
    )
}

CUSTOM = "custom"
PATTERN_NAMES = (*PRESETS, CUSTOM)


class PatternError(ValueError):
    """A custom pattern's durations are outside what is allowed."""


def custom_pattern(
    inhale: float, exhale: float, hold_in: float = 0.0, hold_out: float = 0.0
) -> Pattern:
    """A validated custom pattern; raises PatternError naming the bad duration."""
    for key, value, low, high in (
        ("inhale", inhale, BREATH_MIN_S, BREATH_MAX_S),
        ("exhale", exhale, BREATH_MIN_S, BREATH_MAX_S),
        ("hold_in", hold_in, HOLD_MIN_S, HOLD_MAX_S),
        ("hold_out", hold_out, HOLD_MIN_S, HOLD_MAX_S),
    ):
        if not low <= value <= high:
            raise PatternError(
                f"session.{key} = {value:g} s is out of range; allowed {low:g}-{high:g} s"
            )
    return fixed_pattern(CUSTOM, inhale, exhale, hold_in, hold_out)
