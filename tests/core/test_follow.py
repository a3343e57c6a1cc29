"""The `follow` pace as properties: over many measured rates, targets and session lengths.

hypothesis-free on purpose: every (rate, target, minutes) of a fixed grid is checked, so a
failure names its case and reruns the same. The bounds are written down here:
- the first breath lasts one breath at the measured rate, clamped to 4-20 a minute;
- breaths never get shorter; each is at most 10 % (and 1.5 s) longer than the one before
  in a 5-minute session (5 % where the time allows: rates up to 14 a minute to 6);
- the target pace (or the measured one, if slower) is reached by half-way and held;
- the out-breath is longer than the in-breath; the session lasts its minutes within one breath.
"""

from __future__ import annotations

import itertools

import pytest

from breathring.patterns import EXHALE, INHALE, PRESETS, Pattern, follow_pattern

RATES = [r / 2 for r in range(6, 61)]  # 3 to 30 breaths a minute, in halves
TARGETS = [t / 2 for t in range(8, 17)]  # 4 to 8
MINUTES = [3, 4, 5, 7.5, 10, 20, 60]
CLAMP_LOW, CLAMP_HIGH = 4.0, 20.0
STEP_BOUND = 0.10
STEP_BOUND_S = 1.5
GENTLE_STEP = 0.05


def lengths(pattern: Pattern) -> list[float]:
    assert pattern.natural_breaths is not None
    return [sum(p.seconds for p in pattern.phases(k)) for k in range(pattern.natural_breaths)]


def clamped_period(rate: float) -> float:
    return 60.0 / min(max(rate, CLAMP_LOW), CLAMP_HIGH)


def reached_at(breaths: list[float], held: float) -> float:
    """Seconds into the breathing at which the first breath of the held length starts."""
    start = 0.0
    for length in breaths:
        if length == pytest.approx(held, abs=1e-9):
            return start
        start += length
    raise AssertionError(f"never reached {held} s")


@pytest.mark.parametrize("target", TARGETS)
def test_the_pace_starts_at_the_rate_slows_gently_and_holds_the_target(target: float) -> None:
    for rate in RATES:
        breaths = lengths(follow_pattern(rate, target, 5))
        case = f"rate {rate}, target {target}"
        first = clamped_period(rate)
        assert abs(breaths[0] - first) <= 0.1 * first, case
        for before, after in itertools.pairwise(breaths):
            assert after >= before - 1e-12, f"{case}: a breath got shorter"
            assert after - before <= STEP_BOUND * before + 1e-9, f"{case}: a step over 10 %"
            assert after - before <= STEP_BOUND_S, f"{case}: a step over 1.5 s"
        held = max(60.0 / target, first)
        total = sum(breaths)
        at = reached_at(breaths, held)
        assert at <= total / 2, f"{case}: target reached at {at:.1f} s of {total:.1f}"
        assert all(b == pytest.approx(held) for b in breaths if b >= held - 1e-9), case
        assert breaths[-1] == pytest.approx(held), case
        assert abs(total - 300.0) <= held / 2 + 1e-9, f"{case}: lasts {total:.1f} s"


@pytest.mark.parametrize("minutes", MINUTES)
def test_every_session_length_reaches_the_target_by_half_way(minutes: float) -> None:
    for rate in RATES[::3]:
        for target in TARGETS[::2]:
            breaths = lengths(follow_pattern(rate, target, minutes))
            case = f"rate {rate}, target {target}, {minutes} min"
            held = max(60.0 / target, clamped_period(rate))
            assert reached_at(breaths, held) <= sum(breaths) / 2, case
            assert breaths == sorted(breaths), case
            assert abs(sum(breaths) - 60.0 * minutes) <= held / 2 + 1e-9, case


def test_the_step_is_five_percent_when_the_time_allows() -> None:
    # 14 a minute down to 6 fits well inside half of 5 minutes at 5 % a breath.
    breaths = lengths(follow_pattern(14.0, 6.0, 5))
    assert [round(b, 3) for b in breaths[:6]] == [4.286, 4.5, 4.725, 4.961, 5.209, 5.47]
    ramp = [b for b in breaths if b < 10.0 - 1e-9]
    assert len(ramp) == 18
    assert all(
        after <= before * (1 + GENTLE_STEP) + 1e-9 for before, after in itertools.pairwise(breaths)
    )
    assert breaths[18:] == [pytest.approx(10.0)] * (len(breaths) - 18)


def test_a_fast_breather_gets_larger_steps_to_arrive_by_half_way() -> None:
    # 20 a minute (3 s) to 4 a minute (15 s): 5 % steps would take 4 minutes of a 5-minute
    # session; the step grows (in half-percent steps) until the ramp ends by 45 %.
    breaths = lengths(follow_pattern(20.0, 4.0, 5))
    assert round(breaths[1] / breaths[0], 3) == 1.095
    assert reached_at(breaths, 15.0) <= 0.45 * 300


def test_the_rate_is_clamped_before_it_paces() -> None:
    assert lengths(follow_pattern(30.0, 6.0))[0] == pytest.approx(3.0)
    assert lengths(follow_pattern(2.0, 6.0))[0] == pytest.approx(15.0)


def test_never_faster_than_a_person_breathing_slower_than_the_target() -> None:
    # 5 a minute is slower than the target 6: every breath stays 12 s.
    breaths = lengths(follow_pattern(5.0, 6.0, 5))
    assert breaths == [pytest.approx(12.0)] * 25


def test_the_out_breath_is_the_longer_three_fifths() -> None:
    for rate in (3.0, 9.5, 14.0, 30.0):
        pattern = follow_pattern(rate, 6.0)
        assert pattern.natural_breaths is not None
        for k in range(pattern.natural_breaths):
            inhale, exhale = pattern.phases(k)
            assert (inhale.kind, inhale.fill, exhale.kind, exhale.fill) == (
                INHALE,
                1.0,
                EXHALE,
                0.0,
            )
            assert exhale.seconds > inhale.seconds
            assert inhale.seconds == pytest.approx(0.4 * (inhale.seconds + exhale.seconds))


def test_without_a_reading_the_steady_coherent_pace_for_its_minutes() -> None:
    steady = follow_pattern(None, 6.0, 5)
    assert [(p.kind, p.seconds) for p in steady.phases(0)] == [(INHALE, 5.5), (EXHALE, 5.5)]
    assert [(p.kind, p.seconds) for p in steady.phases(20, 200.0)] == [(INHALE, 5.5), (EXHALE, 5.5)]
    assert steady.natural_breaths == 27  # 27 x 11 s = 297 s is nearest to 5 minutes
    assert follow_pattern(None, 6.0, 10).natural_breaths == 55  # 605 s is nearer than 594
    assert steady.name == "follow"
    assert PRESETS["follow"].natural_breaths == 27
    assert [(p.kind, p.seconds) for p in PRESETS["follow"].phases(3)] == [
        (INHALE, 5.5),
        (EXHALE, 5.5),
    ]


def test_the_description_says_what_this_session_does() -> None:
    assert follow_pattern(14.0, 6.0, 5).description == (
        "from 14.0 to 6.0 breaths/min over 5 minutes, long out-breaths"
    )
    assert follow_pattern(5.0, 6.0, 5).description == (
        "5.0 breaths/min (never faster than measured) for 5 minutes, long out-breaths"
    )
