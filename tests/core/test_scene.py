"""The arc: symmetric growth, gliding edge, intensity rising with the level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring.scene import MAX_INTENSITY, MIN_INTENSITY, ArcScene, Frame, color_multipliers


def test_empty_and_full():
    scene = ArcScene(24)
    assert scene.coverage(0.0) == [0.0] * 24
    assert scene.coverage(1.0) == [1.0] * 24


def test_edge_glides():
    scene = ArcScene(12)
    # Half-length 1.25 pixels: the start pixel full, its neighbours 0.75.
    cov = scene.coverage(2.5 / 12)
    assert cov[0] == 1.0
    assert cov[1] == pytest.approx(0.75) and cov[11] == pytest.approx(0.75)
    assert sum(cov) == pytest.approx(2.5)


@given(st.integers(1, 300), st.integers(0, 299), st.floats(0, 1))
def test_symmetric_about_start_pixel_and_area_matches_level(pixels, start, level):
    start %= pixels
    cov = ArcScene(pixels, start).coverage(level)
    for k in range(pixels):
        assert cov[(start + k) % pixels] == pytest.approx(cov[(start - k) % pixels])
    assert sum(cov) == pytest.approx(level * pixels, abs=1e-9)
    assert all(0.0 <= c <= 1.0 for c in cov)


@given(st.integers(1, 300), st.floats(0, 1), st.floats(0, 1))
def test_coverage_grows_with_level(pixels, a, b):
    scene = ArcScene(pixels)
    lo, hi = sorted((a, b))
    assert all(x <= y + 1e-12 for x, y in zip(scene.coverage(lo), scene.coverage(hi), strict=True))


def test_intensity_rises_with_level():
    scene = ArcScene(24)
    color = (1.0, 0.5, 0.2)
    assert scene.render(0.0, color).intensity == pytest.approx(MIN_INTENSITY)
    assert scene.render(1.0, color).intensity == pytest.approx(MAX_INTENSITY)
    assert scene.render(0.5, color, gain=0.5).intensity == pytest.approx(
        (MIN_INTENSITY + MAX_INTENSITY) / 4
    )


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: each expected value below is worked out by hand)


def test_color_multipliers_scale_each_channel_by_the_cap():
    assert color_multipliers((255, 51, 102), 0.5) == pytest.approx((0.5, 0.1, 0.2))
    assert color_multipliers((0, 255, 0), 1.0) == (0.0, 1.0, 0.0)


def test_a_ring_needs_a_pixel_and_wraps_its_start():
    with pytest.raises(ValueError, match=r"^a ring needs at least one pixel$"):
        ArcScene(0)
    assert ArcScene(1).coverage(0.5) == [0.5]
    assert ArcScene(24, 25).start_pixel == 1
    assert ArcScene(24, -1).start_pixel == 23


def test_coverage_of_an_even_ring_doubles_the_opposite_pixel():
    scene = ArcScene(4)
    # Half-length 1 pixel: the start full, its neighbours half, the opposite dark.
    assert scene.coverage(0.5) == [1.0, 0.5, 0.0, 0.5]
    # Half-length 1.75: the opposite pixel is reached from both sides (0.25 each).
    assert scene.coverage(0.875) == [1.0, 1.0, 0.5, 1.0]


def test_coverage_of_an_odd_ring_from_a_moved_start():
    # Half-length 0.75 around pixel 2: the start full, its neighbours a quarter.
    assert ArcScene(5, 2).coverage(0.3) == pytest.approx([0.0, 0.25, 1.0, 0.25, 0.0])
    # Half-length 0.25: only the start pixel, half lit.
    assert ArcScene(5).coverage(0.1) == pytest.approx([0.5, 0.0, 0.0, 0.0, 0.0])


def test_levels_outside_0_1_are_clamped():
    scene = ArcScene(6)
    assert scene.coverage(-0.5) == [0.0] * 6
    assert scene.coverage(1.5) == [1.0] * 6
    assert scene.render(2.0, (1.0, 1.0, 1.0)).intensity == 1.0
    assert scene.render(-1.0, (1.0, 1.0, 1.0)).intensity == pytest.approx(0.35)
    assert scene.render(2.0, (1.0, 1.0, 1.0)).coverage == (1.0,) * 6


def test_render_carries_the_colour_and_the_coverage():
    color = (0.2, 0.4, 0.6)
    frame = ArcScene(4).render(0.5, color)
    assert frame.intensity == pytest.approx(0.35 + 0.65 * 0.5)
    assert frame.coverage == (1.0, 0.5, 0.0, 0.5)
    assert frame.color == color
    assert ArcScene(4).render(1.0, color, gain=0.25).intensity == pytest.approx(0.25)


def test_fill_and_dark():
    scene = ArcScene(3)
    assert scene.fill(0.4, (1.0, 0.5, 0.0)) == Frame(0.4, (1.0, 1.0, 1.0), (1.0, 0.5, 0.0))
    assert scene.dark() == Frame(0.0, (0.0, 0.0, 0.0), (0.0, 0.0, 0.0))
