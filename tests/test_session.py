"""The session timeline: phases, levels, cues."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring.patterns import PRESETS, custom_pattern
from breathring.session import (
    GLOW_LEVEL,
    Timeline,
    ease_out_cubic,
    smootherstep,
)

#: The documented timeline, written down (not imported): the ring gathers for 2 s
#: before the first breath and fades out over 2.5 s after the last.
LEAD_IN_S = 2.0
CLOSING_S = 2.5

patterns = st.sampled_from(sorted(PRESETS))


def test_three_breath_phases_and_durations():
    timeline = Timeline(PRESETS["three-breath"], 3)
    names = [(s.phase, s.breath, round(s.seconds, 9)) for s in timeline.segments]
    assert names == [
        ("lead-in", 0, LEAD_IN_S),
        ("inhale", 1, 4.0),
        ("exhale", 1, 6.0),
        ("inhale", 2, 4.0),
        ("exhale", 2, 6.0),
        ("inhale", 3, 4.0),
        ("exhale", 3, 6.0),
        ("closing", 3, CLOSING_S),
    ]
    assert timeline.duration == pytest.approx(LEAD_IN_S + 30.0 + CLOSING_S)


def test_levels_at_boundaries():
    timeline = Timeline(PRESETS["box"], 2)
    inhale = timeline.segments[1]
    assert timeline.level(inhale.start) == pytest.approx(GLOW_LEVEL)
    assert timeline.level(inhale.end) == pytest.approx(1.0)  # start of hold-in
    assert timeline.level(timeline.duration - 1e-9) == pytest.approx(0.0, abs=1e-6)
    assert timeline.level(timeline.duration + 1) == 0.0
    assert timeline.level(-1) == 0.0


def test_easing_curves_rest_at_their_ends():
    for ease in (smootherstep,):
        assert ease(0) == 0 and ease(1) == 1
        h = 1e-6
        assert ease(h) / h < 1e-4 and (1 - ease(1 - h)) / h < 1e-4
    h = 1e-6
    assert (1 - ease_out_cubic(1 - h)) / h < 1e-4  # arrives at rest
    assert ease_out_cubic(h) / h == pytest.approx(3.0, rel=1e-3)  # starts at once


@given(patterns, st.integers(1, 5))
def test_level_is_continuous_with_continuous_speed(name, breaths):
    timeline = Timeline(PRESETS[name], breaths)
    h = 1e-4
    for segment in timeline.segments[1:]:
        t = segment.start
        before, at, after = timeline.level(t - h), timeline.level(t), timeline.level(t + h)
        assert abs(at - before) < 1e-3 and abs(after - at) < 1e-3
        # Speed on both sides of the boundary is (close to) zero: no jump in speed.
        assert abs(at - before) / h < 0.05 and abs(after - at) / h < 0.05


@given(patterns, st.integers(1, 4), st.integers(1, 240))
def test_each_cue_exactly_once_at_any_fps(name, breaths, fps):
    timeline = Timeline(PRESETS[name], breaths)
    seen = []
    last = None
    n = 0
    while True:
        t = n / fps
        seen.extend(timeline.cues_between(last, t))
        last = t
        n += 1
        if t > timeline.duration:
            break
    expected = [s.cue for s in timeline.segments]
    assert seen == expected
    assert seen.count("start") == 1 and seen.count("end") == 1


def test_sigh_has_a_top_up_inhale():
    timeline = Timeline(PRESETS["sigh"], 1)
    kinds = [(s.phase, round(s.seconds, 3)) for s in timeline.segments[1:-1]]
    assert kinds == [("inhale", 2.0), ("inhale", 1.0), ("exhale", 6.0)]
    first, top_up = timeline.segments[1], timeline.segments[2]
    assert GLOW_LEVEL < first.to_level < top_up.to_level == pytest.approx(1.0)


def test_wind_down_slows_from_11_to_6_breaths_a_minute():
    pattern = PRESETS["wind-down"]
    timeline = Timeline(pattern, pattern.natural_breaths)
    breaths = [s for s in timeline.segments if s.phase == "inhale"]
    first_period = breaths[1].start - breaths[0].start
    last_period = breaths[-1].start - breaths[-2].start
    assert 60 / first_period == pytest.approx(11, abs=0.2)
    assert 60 / last_period == pytest.approx(6, abs=0.3)
    for segment in timeline.segments:
        if segment.phase == "inhale":
            exhale = timeline.segments[timeline.segments.index(segment) + 1]
            assert exhale.seconds > segment.seconds
    assert 7.5 * 60 < timeline.duration - LEAD_IN_S - CLOSING_S < 8.5 * 60


def test_custom_pattern_validation():
    pattern = custom_pattern(3, 5, hold_in=1)
    assert [p.kind for p in pattern.phases(0)] == ["inhale", "hold-in", "exhale"]
    with pytest.raises(ValueError, match=r"session\.inhale = 0\.2 s is out of range"):
        custom_pattern(0.2, 5)
    with pytest.raises(ValueError, match="hold_out"):
        custom_pattern(4, 4, hold_out=31)
