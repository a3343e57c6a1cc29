"""The output stage: gamma, brightness, power limit and dithering."""

from __future__ import annotations

import math
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


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: each expected value below is worked out by hand)


def test_lightness_curve_values_and_clamp():
    assert lightness_to_linear(-0.2) == 0.0
    assert lightness_to_linear(1.5) == 1.0
    assert lightness_to_linear(0.5) == pytest.approx((66 / 116) ** 3)
    assert lightness_to_linear(0.09) == pytest.approx((25 / 116) ** 3)
    assert lightness_to_linear(0.05) == pytest.approx(5 / 903.3)


def test_power_budget_defaults_and_arithmetic():
    budget = PowerBudget()
    assert (budget.max_milliamps, budget.ma_per_channel, budget.idle_ma) == (400.0, 20.0, 1.0)
    assert OutputStage(24).budget == PowerBudget(400.0, 20.0, 1.0)
    # 306 steps at 20/255 mA each, plus 1 mA idle for each of the 2 pixels.
    assert budget.estimate(bytes([255, 0, 0, 51, 0, 0]), 2) == pytest.approx(26.0)
    assert budget.dither_allowance(24) == pytest.approx(24 * 3 * 20 / 255)
    assert budget.dither_allowance(10, lit_channels=1) == pytest.approx(200 / 255)
    assert budget.usable_milliamps(24) == pytest.approx(400 - 24 - 1440 / 255)
    assert budget.usable_milliamps(24, lit_channels=1) == pytest.approx(400 - 24 - 480 / 255)


def test_soft_knee_values():
    assert soft_knee(150, 100) == pytest.approx(80 + 20 * (1 - math.exp(-70 / 20)))
    assert soft_knee(60, 100, knee=0.5) == pytest.approx(50 + 50 * (1 - math.exp(-10 / 50)))
    assert soft_knee(50, 0.0) == 0.0
    assert soft_knee(50, -5.0) == 0.0


def test_power_scale_counts_only_the_lit_channels():
    # 10 pixels, 0.1 mA a step, no idle draw: red alone asks 255 mA; the dithering may add
    # 1 mA (one step on one channel of 10 pixels), so 220 of the 221 mA are usable and the
    # knee starts at 176 mA.
    stage = OutputStage(10, PowerBudget(221.0, 25.5, 0.0))
    expected_red = (176 + 44 * (1 - math.exp(-79 / 44))) / 255
    assert stage.power_scale((1.0, 0.0, 0.0)) == pytest.approx(expected_red)
    # White asks 765 mA with 3 mA of dithering: 218 usable, the knee at 174.4.
    expected_white = (174.4 + 43.6 * (1 - math.exp(-(765 - 174.4) / 43.6))) / 765
    assert stage.power_scale((1.0, 1.0, 1.0)) == pytest.approx(expected_white)


def test_power_scale_follows_a_new_budget_and_handles_dark_and_hopeless_cases():
    stage = OutputStage(10, PowerBudget(221.0, 25.5, 0.0))
    assert stage.power_scale((1.0, 0.0, 0.0)) < 0.9
    stage.budget = PowerBudget(max_milliamps=1e6)
    assert stage.power_scale((1.0, 0.0, 0.0)) == 1.0
    assert stage.power_scale((0.0, 0.0, 0.0)) == 1.0
    # 300 pixels idle at 1 mA and dithering leave nothing of 320 mA: the ring stays dark.
    dark = OutputStage(300, PowerBudget(max_milliamps=320))
    assert dark.power_scale((1.0, 1.0, 1.0)) == 0.0
    assert dark.render(Frame(1.0, (1.0,) * 300, (1.0, 1.0, 1.0))) == bytes(900)


def test_wire_values_are_capped_at_255():
    stage = OutputStage(1, PowerBudget(max_milliamps=1e6))
    assert stage.render(Frame(1.0, (1.0,), (2.0, 0.0, 0.0))) == bytes([255, 0, 0])


def test_first_dithered_frames_follow_the_golden_ratio_start():
    # Every channel of 3 pixels wants 127.5. The residuals start at (3i + c) * 0.618... mod 1
    # less 0.5, and the pixels that owe most round up: worked out by hand for two frames.
    stage = OutputStage(3, PowerBudget(max_milliamps=1e6))
    frame = Frame(1.0, (1.0, 1.0, 1.0), (0.5, 0.5, 0.5))
    assert list(stage.render(frame)) == [127, 128, 128, 128, 128, 127, 128, 127, 128]
    assert list(stage.render(frame)) == [128, 127, 127, 127, 127, 128, 127, 128, 127]


def test_idle_draw_counts_per_pixel():
    budget = PowerBudget(idle_ma=2.0)
    assert budget.estimate(bytes(12), 4) == pytest.approx(8.0)


def test_a_pixel_without_coverage_stays_dark():
    # Pixel 0 wants 127.5 and rounds up (the ring owes half a step); pixel 1 wants 0 and,
    # although its starting residual is the larger, it never takes the step.
    stage = OutputStage(2, PowerBudget(max_milliamps=1e6))
    frame = Frame(1.0, (1.0, 0.0), (0.5, 0.0, 0.0))
    assert list(stage.render(frame)) == [128, 0, 0, 0, 0, 0]
    for _ in range(20):
        assert stage.render(frame)[3:] == bytes(3)


def test_the_pixel_that_owes_most_rounds_up():
    # Red targets 10.95, 20.02 and 30.03: one step to give (0.95 + 0.02 + 0.03 = 1.0). The
    # starting residuals are -0.5, 0.354 and 0.208, so pixel 0 owes 0.45, pixel 1 0.374 and
    # pixel 2 0.238: pixel 0 takes it.
    stage = OutputStage(3, PowerBudget(max_milliamps=1e6))
    frame = Frame(1.0, (10.95 / 255, 20.02 / 255, 30.03 / 255), (1.0, 0.0, 0.0))
    assert list(stage.render(frame)[0::3]) == [11, 20, 30]


def test_each_pixel_averages_its_own_target():
    stage = OutputStage(3, PowerBudget(max_milliamps=1e6))
    targets = (10.95, 20.25, 30.6)
    frame = Frame(1.0, tuple(t / 255 for t in targets), (1.0, 0.0, 0.0))
    frames = [stage.render(frame) for _ in range(400)]
    means = [sum(f[3 * i] for f in frames) / len(frames) for i in range(3)]
    assert means == pytest.approx(list(targets), abs=0.01)


def test_a_budget_under_one_milliamp_still_lights_faintly():
    # Red on one pixel asks 25.5 mA; 0.9 mA is usable (1 mA less 0.1 for the dithering).
    stage = OutputStage(1, PowerBudget(max_milliamps=1.0, ma_per_channel=25.5, idle_ma=0.0))
    assert stage.power_scale((1.0, 0.0, 0.0)) == pytest.approx(0.9 / 25.5, rel=1e-6)


def test_a_demand_under_one_milliamp_is_still_limited():
    # Red on one pixel at 0.001 mA a step asks 0.255 mA; 0.199 mA is usable (0.2 less 0.001
    # for the dithering), so the knee starts at 0.1592 mA.
    budget = PowerBudget(max_milliamps=0.2, ma_per_channel=0.255, idle_ma=0.0)
    expected = (0.1592 + 0.0398 * (1 - math.exp(-(0.255 - 0.1592) / 0.0398))) / 0.255
    assert OutputStage(1, budget).power_scale((1.0, 0.0, 0.0)) == pytest.approx(expected)
