"""The smoothness measures themselves: what they count and what they must not."""

from __future__ import annotations

import math

from breathring.analysis import roughness_flat_pct, roughness_pct

FPS = 100


def test_any_parabola_has_no_roughness():
    # A bend of the curve is not roughness: 3t^2 - 2t + 40, sampled at 100 fps for 4 s.
    totals = [3 * (i / FPS) ** 2 - 2 * (i / FPS) + 40 for i in range(400)]
    assert roughness_pct(totals, FPS) < 1e-9


def test_flat_measure_counts_the_bend_the_new_one_ignores():
    totals = [1000 * (i / 400) ** 2 for i in range(400)]
    assert roughness_flat_pct(totals, FPS) > 0.01
    assert roughness_pct(totals, FPS) < 1e-9


def test_a_stair_step_is_rough():
    # A ramp that moves in steps of 50 every 25 frames (4 visible steps a second), peak 800.
    totals = [50 * (i // 25) for i in range(400)]
    rough = roughness_pct(totals, FPS)
    # The 50-ms mean sits on a step while the quadratic trend runs through it: about a
    # quarter of a step (12.5 of 800 = 1.6 %) or more stands out.
    assert rough > 1.5


def test_one_frame_flicker_is_caught():
    totals = [500.0] * 200
    totals[100] = 600.0  # one frame 100 brighter: the 50-ms mean moves by 20 around it
    rough = roughness_pct(totals, FPS)
    # The quadratic trend takes up about 44 % of the bump (its five centre weights), so
    # about 11 of a 600 peak stands out: 1.9 %.
    assert 1.7 < rough < 2.1


def test_smooth_sine_is_nearly_zero():
    totals = [1000 + 500 * math.sin(2 * math.pi * i / 1000) for i in range(1000)]
    assert roughness_pct(totals, FPS) < 0.01


def test_dark_is_not_rough():
    assert roughness_pct([0] * 50, FPS) == 0.0
    assert roughness_flat_pct([], FPS) == 0.0
