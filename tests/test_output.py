"""The output stage: gamma, brightness, power limit and dithering."""

from __future__ import annotations

from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breathring.output import (
    OutputStage,
    PowerBudget,
    lightness_to_linear,
    soft_knee,
)
from breathring.scene import ArcScene, Frame, color_multipliers


def test_gamma_curve_ends_and_toe():
    assert lightness_to_linear(0) == 0
    assert lightness_to_linear(1) == pytest.approx(1)
    assert lightness_to_linear(0.5) == pytest.approx(0.1842, abs=1e-3)  # L* 50 = Y 18.4 %
    # Linear toe: continuous where the two pieces meet, and no infinite slope at 0.
    assert lightness_to_linear(0.08) == pytest.approx(8 / 903.3)
    assert lightness_to_linear(0.0801) == pytest.approx(lightness_to_linear(0.08), rel=2e-3)


def test_soft_knee_is_smooth_and_below_budget():
    budget = 100.0
    assert soft_knee(50, budget) == 50
    assert soft_knee(80, budget) == 80
    values = [soft_knee(d, budget) for d in range(0, 2000)]
    assert all(v <= budget for v in values)
    assert all(b >= a for a, b in pairwise(values))
    h = 1e-6
    slope_after_knee = (soft_knee(80 + h, budget) - soft_knee(80, budget)) / h
    assert slope_after_knee == pytest.approx(1.0, abs=1e-3)  # no corner at the knee


def test_full_white_is_exact_without_limit():
    stage = OutputStage(4, PowerBudget(max_milliamps=10_000))
    wire = stage.render(Frame(1.0, (1.0,) * 4, (1.0, 1.0, 1.0)))
    assert wire == bytes([255] * 12)


def test_brightness_is_linear_on_the_wire():
    stage = OutputStage(1, PowerBudget(max_milliamps=10_000))
    frame = Frame(1.0, (1.0,), color_multipliers((255, 128, 0), 0.5))
    values = [stage.render(frame) for _ in range(200)]
    mean = [sum(v[c] for v in values) / len(values) for c in range(3)]
    assert mean == pytest.approx([127.5, 64.0, 0.0], abs=0.02)


def test_white_24_pixels_at_300_ma_never_exceeds_the_limit():
    budget = PowerBudget(max_milliamps=300)
    stage = OutputStage(24, budget)
    scene = ArcScene(24)
    worst = 0.0
    for step in range(0, 1001):
        frame = scene.render(step / 1000, (1.0, 1.0, 1.0))
        wire = stage.render(frame)
        worst = max(worst, budget.estimate(wire, 24))
    assert worst <= 300
    assert worst > 250  # the limiter scales down, it does not black out


@settings(max_examples=60)
@given(
    pixels=st.integers(1, 300),
    brightness=st.floats(0.01, 1.0),
    limit=st.floats(50, 20000),
    levels=st.lists(st.floats(0, 1), min_size=1, max_size=20),
    rgb=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)
def test_values_in_range_and_current_under_limit(pixels, brightness, limit, levels, rgb):
    budget = PowerBudget(max_milliamps=limit)
    stage = OutputStage(pixels, budget)
    scene = ArcScene(pixels)
    color = color_multipliers(rgb, brightness)
    for level in levels:
        wire = stage.render(scene.render(level, color))
        assert len(wire) == 3 * pixels
        assert all(0 <= v <= 255 for v in wire)
        idle_only = pixels * budget.idle_ma
        if idle_only < limit:
            assert budget.estimate(wire, pixels) <= limit + 1e-9


@given(st.floats(0.0, 255.0), st.integers(1, 40))
def test_dithering_uses_adjacent_values_and_averages_exactly(target, pixels):
    stage = OutputStage(pixels, PowerBudget(max_milliamps=1e9))
    share = target / 255.0
    frame = Frame(1.0, (share,) * pixels, (1.0, 1.0, 1.0))
    frames = [stage.render(frame) for _ in range(300)]
    lo, hi = int(target), int(target) + 1
    for wire in frames:
        assert all(v in (lo, hi) or (v == lo) for v in wire)
        # The ring's total per channel stays within one step of the exact total.
        assert abs(sum(wire[0::3]) - pixels * target) <= 1.0 + 1e-9
    mean = sum(f[0] for f in frames) / len(frames)
    assert mean == pytest.approx(target, abs=2.0 / len(frames) + 1e-9)


def test_low_brightness_keeps_the_hue_on_average():
    amber = (255, 140, 50)
    stage = OutputStage(24, PowerBudget(max_milliamps=1e6))
    frame = ArcScene(24).render(0.3, color_multipliers(amber, 0.02))
    frames = [stage.render(frame) for _ in range(100)]
    red = sum(sum(f[0::3]) for f in frames)
    green = sum(sum(f[1::3]) for f in frames)
    assert red / green == pytest.approx(255 / 140, rel=0.02)
    # A plain 8-bit rounding would lose the green entirely at some pixels.
    assert green > 0


def test_frame_size_must_match():
    with pytest.raises(ValueError, match="frame has 3 pixels, ring has 4"):
        OutputStage(4).render(Frame(1.0, (1.0,) * 3, (1.0, 1.0, 1.0)))


@pytest.mark.parametrize("limit", [60, 100, 150, 300])
@pytest.mark.parametrize("rgb", [(1.0, 1.0, 1.0), (1.0, 0.55, 0.2), (0.0, 0.0, 1.0)])
def test_the_limit_holds_for_every_dithered_frame_of_a_full_ring(limit, rgb):
    """The budget keeps room for dithering's round-ups: over many frames of the full
    ring, where the limiter cuts hardest, no frame's estimate exceeds the limit."""
    pixels = 24
    budget = PowerBudget(max_milliamps=limit)
    stage = OutputStage(pixels, budget)
    scene = ArcScene(pixels)
    worst = 0.0
    for step in range(400):
        level = 1.0 - (step % 7) * 1e-4  # full, and a hair below: different fractions
        wire = stage.render(scene.render(level, rgb))
        worst = max(worst, budget.estimate(wire, pixels))
    assert worst <= limit
    assert worst > 0.9 * limit  # and the ring is not simply dark
