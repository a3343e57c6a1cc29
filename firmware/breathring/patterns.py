"""Breath patterns: what each breath is made of, and the presets.

A pattern yields, for breath k (0-based) starting `elapsed` seconds into the
breathing part of a session, the list of phases of that breath. Most presets
are the same every breath; `wind-down` slows down as the session goes on, and
`follow` starts at a measured breathing rate and slows down from there
(`follow_pattern`: the rate is given, captured when the session starts).
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

FOLLOW = "follow"
#: follow: the measured rate (breaths a minute) is clamped to this range for the first breath.
FOLLOW_MIN_BPM = 4.0
FOLLOW_MAX_BPM = 20.0
#: follow: the pace it slows to (session.follow_target), and the range the config allows.
FOLLOW_TARGET_BPM = 6.0
FOLLOW_TARGET_MIN_BPM = 4.0
FOLLOW_TARGET_MAX_BPM = 10.0
#: follow: how long a session lasts (session.follow_minutes), and the range the config allows.
FOLLOW_MINUTES = 5.0
FOLLOW_MINUTES_MIN = 3.0
FOLLOW_MINUTES_MAX = 60.0
#: follow: each breath is at most this share longer than the one before ...
FOLLOW_STEP_SHARE = 0.05
#: ... unless the target would then be reached later than this share of the session; then
#: the step grows by FOLLOW_STEP_INCREMENT until it is reached by then (half-way at the latest).
FOLLOW_REACH_SHARE = 0.45
FOLLOW_STEP_INCREMENT = 0.005
#: follow: the in-breath takes this share of each breath, the (longer) out-breath the rest.
FOLLOW_INHALE_SHARE = 0.4
#: follow without a measured rate: the steady pace of `coherent` (in, out; seconds).
FOLLOW_STEADY_S = (5.5, 5.5)


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


def _breath_in_out(period: float) -> tuple[Phase, ...]:
    inhale = period * FOLLOW_INHALE_SHARE
    return (Phase(INHALE, inhale, 1.0), Phase(EXHALE, period - inhale, 0.0))


def follow_ramp(first_s: float, target_s: float, share: float) -> tuple[float, ...]:
    """The breath lengths from `first_s` up to (not including) `target_s`, each `share` longer."""
    ramp: list[float] = []
    period = first_s
    while period < target_s:
        ramp.append(period)
        period = min(target_s, period * (1.0 + share))
    return tuple(ramp)


def follow_step_share(first_s: float, target_s: float, minutes: float) -> float:
    """The step of the ramp: FOLLOW_STEP_SHARE, or the least more that reaches the target in time.

    In time: the ramp's breaths end by FOLLOW_REACH_SHARE of the session.
    """
    deadline = FOLLOW_REACH_SHARE * minutes * 60.0
    share, steps = FOLLOW_STEP_SHARE, 0
    while sum(follow_ramp(first_s, target_s, share)) > deadline:
        steps += 1  # counted, not summed: the same shares on every machine
        share = FOLLOW_STEP_SHARE + steps * FOLLOW_STEP_INCREMENT
    return share


def _breaths_filling(periods: Callable[[int], float], seconds: float) -> int:
    """How many whole breaths come nearest to `seconds` (at least one)."""
    total, k = 0.0, 0
    while True:
        length = periods(k)
        if total + length > seconds:
            return max(1, k + 1 if total + length - seconds < seconds - total else k)
        total += length
        k += 1


def follow_pattern(
    measured_bpm: float | None,
    target_bpm: float = FOLLOW_TARGET_BPM,
    minutes: float = FOLLOW_MINUTES,
) -> Pattern:
    """The `follow` pattern for a rate measured when the session starts (None: no reading).

    The first breath lasts one breath at the measured rate (clamped to FOLLOW_MIN_BPM-
    FOLLOW_MAX_BPM); each next one is longer by the step share (follow_step_share) until
    the target pace, which it then holds; never faster than the first. Without a reading,
    the steady `coherent` pace. Either way it lasts about `minutes` (whole breaths).
    """
    seconds = minutes * 60.0
    if measured_bpm is None:
        steady = fixed_pattern(FOLLOW, *FOLLOW_STEADY_S)
        breaths = _breaths_filling(lambda _k: sum(FOLLOW_STEADY_S), seconds)
        return Pattern(
            FOLLOW,
            f"no breathing rate measured: the steady coherent pace for {minutes:g} minutes",
            steady.breath,
            natural_breaths=breaths,
        )
    first_s = 60.0 / min(max(measured_bpm, FOLLOW_MIN_BPM), FOLLOW_MAX_BPM)
    target_s = max(60.0 / target_bpm, first_s)
    ramp = follow_ramp(first_s, target_s, follow_step_share(first_s, target_s, minutes))

    def period(k: int) -> float:
        return ramp[k] if k < len(ramp) else target_s

    text = (
        f"from {60.0 / first_s:.1f} to {60.0 / target_s:.1f} breaths/min over {minutes:g} "
        "minutes, long out-breaths"
        if ramp
        else f"{60.0 / first_s:.1f} breaths/min (never faster than measured) for {minutes:g} "
        "minutes, long out-breaths"
    )
    return Pattern(
        FOLLOW,
        text,
        lambda k, _elapsed: _breath_in_out(period(k)),
        natural_breaths=_breaths_filling(period, seconds),
    )


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
        # What `follow` is when chosen; a session builds its own from the rate it measures
        # (follow_pattern), and without one runs this: the steady coherent pace.
        Pattern(
            FOLLOW,
            "starts at your measured breathing rate (a breath sensor) and slows to "
            "session.follow_target; without a reading, the coherent pace",
            follow_pattern(None).breath,
            natural_breaths=follow_pattern(None).natural_breaths,
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
