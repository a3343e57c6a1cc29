"""The arc: symmetric growth, gliding edge, intensity rising with the level."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring.scene import MAX_INTENSITY, MIN_INTENSITY, ArcScene


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
