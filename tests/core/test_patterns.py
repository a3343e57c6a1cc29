"""Breath patterns: every preset's phases, the wind-down pace and the custom limits.

Each expected value is written down here (from the pattern's description in docs and the
design), so a change to a duration, a fill, a kind or a limit fails a test.
"""

from __future__ import annotations

import pytest

from breathring.patterns import (
    PATTERN_NAMES,
    PRESETS,
    Pattern,
    PatternError,
    Phase,
    _wind_down_breaths,
    custom_pattern,
    fixed_pattern,
    wind_down_bpm,
)


def phases(name: str, k: int = 0, elapsed: float = 0.0) -> list[tuple[str, float, float]]:
    return [(p.kind, round(p.seconds, 6), p.fill) for p in PRESETS[name].phases(k, elapsed)]


def test_the_names_in_the_order_users_see_them() -> None:
    assert PATTERN_NAMES == (
        "three-breath",
        "box",
        "4-7-8",
        "coherent",
        "sigh",
        "wind-down",
        "follow",
        "custom",
    )


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("three-breath", [("inhale", 4.0, 1.0), ("exhale", 6.0, 0.0)]),
        (
            "box",
            [
                ("inhale", 4.0, 1.0),
                ("hold-in", 4.0, 1.0),
                ("exhale", 4.0, 0.0),
                ("hold-out", 4.0, 0.0),
            ],
        ),
        ("4-7-8", [("inhale", 4.0, 1.0), ("hold-in", 7.0, 1.0), ("exhale", 8.0, 0.0)]),
        ("coherent", [("inhale", 5.5, 1.0), ("exhale", 5.5, 0.0)]),
        ("sigh", [("inhale", 2.0, 0.75), ("inhale", 1.0, 1.0), ("exhale", 6.0, 0.0)]),
    ],
)
def test_fixed_presets_are_the_same_every_breath(name: str, expected: list) -> None:
    assert phases(name) == expected
    assert phases(name, k=7, elapsed=300.0) == expected
    assert PRESETS[name].natural_breaths is None


def test_preset_descriptions() -> None:
    assert {name: p.description for name, p in PRESETS.items()} == {
        "three-breath": "in 4 s, out 6 s (the default)",
        "box": "in 4, hold 4, out 4, hold 4",
        "4-7-8": "in 4, hold 7, out 8",
        "coherent": "in 5.5 s, out 5.5 s (~5.5 breaths/min)",
        "sigh": "physiological sigh: in 2 s, top-up in 1 s, out 6 s",
        "wind-down": "for falling asleep: eases from 11 to 6 breaths/min over 8 minutes, "
        "long out-breaths",
        "follow": "starts at your measured breathing rate (a breath sensor) and slows to "
        "session.follow_target; without a reading, the coherent pace",
    }


def test_wind_down_pace_eases_linearly_from_11_to_6_over_8_minutes() -> None:
    assert wind_down_bpm(-30.0) == 11.0
    assert wind_down_bpm(0.0) == 11.0
    assert wind_down_bpm(120.0) == pytest.approx(9.75)
    assert wind_down_bpm(240.0) == pytest.approx(8.5)
    assert wind_down_bpm(480.0) == pytest.approx(6.0)
    assert wind_down_bpm(900.0) == 6.0


def test_wind_down_breath_is_two_fifths_in_three_fifths_out() -> None:
    # 11 breaths/min: 60/11 s a breath, 2/5 of it in, 3/5 out.
    assert phases("wind-down", 0, 0.0) == [
        ("inhale", round(0.4 * 60 / 11, 6), 1.0),
        ("exhale", round(0.6 * 60 / 11, 6), 0.0),
    ]
    # Halfway (8.5 breaths/min) and at the end (6 breaths/min: 4 s in, 6 s out).
    assert phases("wind-down", 30, 240.0) == [
        ("inhale", round(0.4 * 60 / 8.5, 6), 1.0),
        ("exhale", round(0.6 * 60 / 8.5, 6), 0.0),
    ]
    assert phases("wind-down", 68, 480.0) == [("inhale", 4.0, 1.0), ("exhale", 6.0, 0.0)]


def test_wind_down_natural_length_is_the_breaths_of_the_8_minute_ramp() -> None:
    # The pace falls linearly from 11 to 6 a minute: 8 * (11 + 6) / 2 = 68 breaths fill the
    # ramp, and the breath that crosses its end is counted too.
    assert PRESETS["wind-down"].natural_breaths == 69
    # The preset counts them once, at import; count again here so a change is seen at run time.
    assert _wind_down_breaths() == 69


def test_fixed_pattern_describes_itself_when_not_told() -> None:
    pattern = fixed_pattern("mine", 3.0, 5.0, hold_in=1.5)
    assert pattern.name == "mine"
    assert pattern.description == "in 3 s, hold 1.5 s, out 5 s, hold 0 s"
    assert pattern.natural_breaths is None
    assert fixed_pattern("told", 3.0, 5.0, description="my words").description == "my words"


def test_zero_holds_are_left_out_and_positive_ones_kept() -> None:
    assert [p.kind for p in fixed_pattern("a", 1.0, 1.0).phases(0)] == ["inhale", "exhale"]
    tiny = fixed_pattern("b", 1.0, 1.0, hold_in=0.01, hold_out=0.01).phases(0)
    assert [(p.kind, p.seconds, p.fill) for p in tiny] == [
        ("inhale", 1.0, 1.0),
        ("hold-in", 0.01, 1.0),
        ("exhale", 1.0, 0.0),
        ("hold-out", 0.01, 0.0),
    ]


def test_pattern_phases_default_to_the_start_of_the_breathing() -> None:
    seen = []

    def breath(k: int, elapsed: float) -> tuple[Phase, ...]:
        seen.append((k, elapsed))
        return (Phase("inhale", 1.0, 1.0),)

    assert Pattern("p", "", breath).phases(3) == (Phase("inhale", 1.0, 1.0),)
    assert seen == [(3, 0.0)]


def test_custom_pattern_holds_default_to_none() -> None:
    plain = custom_pattern(4.0, 6.0)
    assert [(p.kind, p.seconds, p.fill) for p in plain.phases(0)] == [
        ("inhale", 4.0, 1.0),
        ("exhale", 6.0, 0.0),
    ]


def test_custom_pattern_accepts_its_limits() -> None:
    low = custom_pattern(0.5, 0.5, hold_in=0.0, hold_out=0.0)
    assert low.name == "custom"
    assert [(p.kind, p.seconds) for p in low.phases(0)] == [("inhale", 0.5), ("exhale", 0.5)]
    high = custom_pattern(30.0, 30.0, hold_in=30.0, hold_out=30.0)
    assert [p.seconds for p in high.phases(0)] == [30.0, 30.0, 30.0, 30.0]
    assert high.description == "in 30 s, hold 30 s, out 30 s, hold 30 s"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"inhale": 0.49, "exhale": 4},
            "session.inhale = 0.49 s is out of range; allowed 0.5-30 s",
        ),
        (
            {"inhale": 30.5, "exhale": 4},
            "session.inhale = 30.5 s is out of range; allowed 0.5-30 s",
        ),
        ({"inhale": 4, "exhale": 0.4}, "session.exhale = 0.4 s is out of range; allowed 0.5-30 s"),
        ({"inhale": 4, "exhale": 31}, "session.exhale = 31 s is out of range; allowed 0.5-30 s"),
        (
            {"inhale": 4, "exhale": 4, "hold_in": -0.5},
            "session.hold_in = -0.5 s is out of range; allowed 0-30 s",
        ),
        (
            {"inhale": 4, "exhale": 4, "hold_in": 30.1},
            "session.hold_in = 30.1 s is out of range; allowed 0-30 s",
        ),
        (
            {"inhale": 4, "exhale": 4, "hold_out": -1},
            "session.hold_out = -1 s is out of range; allowed 0-30 s",
        ),
        (
            {"inhale": 4, "exhale": 4, "hold_out": 30.1},
            "session.hold_out = 30.1 s is out of range; allowed 0-30 s",
        ),
    ],
)
def test_custom_pattern_refuses_durations_outside_the_limits(kwargs: dict, message: str) -> None:
    with pytest.raises(PatternError) as caught:
        custom_pattern(**kwargs)
    assert str(caught.value) == message
    assert isinstance(caught.value, ValueError)
