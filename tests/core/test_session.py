"""The session timeline: phases, levels, cues."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring.patterns import PRESETS, Pattern, Phase, custom_pattern
from breathring.session import Segment, Timeline, ease_out_cubic, smootherstep

# Written down here, not imported, so a changed constant fails a test.
GLOW_LEVEL = 0.1  # the resting glow between breaths
LEAD_IN_SPARK = 0.04  # a press lights the ring at once

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


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: each expected value below is worked out by hand)


def test_one_three_breath_session_segment_by_segment():
    segments = Timeline(PRESETS["three-breath"], 1).segments
    assert [
        (s.phase, s.breath, s.start, s.end, s.from_level, s.to_level, s.ease_out) for s in segments
    ] == [
        ("lead-in", 0, 0.0, 2.0, 0.04, 0.1, True),
        ("inhale", 1, 2.0, 6.0, 0.1, pytest.approx(1.0), False),
        ("exhale", 1, 6.0, 12.0, pytest.approx(1.0), 0.1, False),
        ("closing", 1, 12.0, 14.5, 0.1, 0.0, False),
    ]
    assert [s.cue for s in segments] == ["start", "inhale", "exhale", "end"]


def test_levels_inside_each_phase():
    timeline = Timeline(PRESETS["three-breath"], 1)
    assert timeline.duration == 14.5
    assert timeline.level(0.0) == pytest.approx(LEAD_IN_SPARK)
    # Halfway through the lead-in the ease-out has done 7/8 of its way.
    assert timeline.level(1.0) == pytest.approx(0.04 + 0.06 * 0.875)
    assert timeline.level(4.0) == pytest.approx(0.1 + 0.9 * 0.5)  # half the inhale
    assert timeline.level(9.0) == pytest.approx(1.0 - 0.9 * 0.5)  # half the exhale
    assert timeline.level(13.25) == pytest.approx(0.05)  # half the closing
    assert timeline.level(14.5) == 0.0


def test_easing_values():
    assert smootherstep(0.25) == pytest.approx(0.103515625)
    assert smootherstep(0.5) == 0.5
    assert smootherstep(-1.0) == 0.0 and smootherstep(2.0) == 1.0
    assert ease_out_cubic(0.25) == pytest.approx(0.578125)
    assert ease_out_cubic(-1.0) == 0.0 and ease_out_cubic(2.0) == 1.0
    assert ease_out_cubic(1.0) == 1.0 and smootherstep(1.0) == 1.0
    # Past the end both stay at rest (unclamped, the polynomials would overshoot).
    assert ease_out_cubic(1.5) == 1.0 and smootherstep(1.5) == 1.0


def test_a_zero_length_segment_is_at_its_target_and_gives_no_cue():
    segment = Segment("hold-in", 1, 5.0, 5.0, 0.3, 1.0)
    assert segment.seconds == 0.0
    assert segment.level(5.0) == 1.0
    assert segment.cue == "hold"
    pattern = Pattern(
        "p",
        "",
        lambda _k, _e: (
            Phase("inhale", 1.0, 1.0),
            Phase("hold-in", 0.0, 1.0),
            Phase("exhale", 1.0, 0.0),
        ),
    )
    timeline = Timeline(pattern, 1)
    assert timeline.cues_between(None, timeline.duration) == ["start", "inhale", "exhale", "end"]


def test_hold_out_cue_and_levels_of_a_box_breath():
    segments = Timeline(PRESETS["box"], 1).segments
    assert [(s.phase, s.cue) for s in segments[1:-1]] == [
        ("inhale", "inhale"),
        ("hold-in", "hold"),
        ("exhale", "exhale"),
        ("hold-out", "hold"),
    ]
    hold_in, hold_out = segments[2], segments[4]
    assert (hold_in.from_level, hold_in.to_level) == (pytest.approx(1.0), pytest.approx(1.0))
    assert (hold_out.from_level, hold_out.to_level) == (0.1, 0.1)


def test_a_session_needs_a_breath():
    with pytest.raises(ValueError) as caught:
        Timeline(PRESETS["box"], 0)
    assert str(caught.value) == "a session needs at least one breath"
    assert len(Timeline(PRESETS["box"], 1).segments) == 6


def test_patterns_are_asked_with_the_time_since_the_lead_in():
    asked = []

    def breath(k: int, elapsed: float) -> tuple[Phase, ...]:
        asked.append((k, elapsed))
        return (Phase("inhale", 4.0, 1.0), Phase("exhale", 6.0, 0.0))

    timeline = Timeline(Pattern("p", "", breath), 3)
    assert asked == [(0, 0.0), (1, 10.0), (2, 20.0)]
    assert timeline.segments[-1].breath == 3


def test_segment_at_its_edges():
    timeline = Timeline(PRESETS["three-breath"], 1)
    assert timeline.segment_at(-0.001) is None
    assert timeline.segment_at(14.5) is None
    assert timeline.segment_at(0.0).phase == "lead-in"
    assert timeline.segment_at(2.0).phase == "inhale"
    assert timeline.segment_at(14.4).phase == "closing"
    assert timeline.level(-0.5) == 0.0


def test_cues_between_is_half_open():
    timeline = Timeline(PRESETS["three-breath"], 1)
    assert timeline.cues_between(None, 0.0) == ["start"]
    assert timeline.cues_between(0.0, 2.0) == ["inhale"]
    assert timeline.cues_between(2.0, 2.0) == []
    assert timeline.cues_between(2.0, 12.0) == ["exhale", "end"]
    assert [s.phase for s in timeline.crossed(5.0, 20.0)] == ["exhale", "closing"]
