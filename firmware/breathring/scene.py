"""Level -> ideal float frame. Pure.

The lit arc grows symmetrically from a start pixel in both directions until
the ring is full. Each pixel is lit by the share of it the arc covers, so the
edge pixels carry the fractional part and the edge glides. The arc also
brightens as it grows, so a breath reads as size and as brightness.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from operator import itemgetter

#: Perceptual intensity of the lit arc at the smallest and at the full ring.
MIN_INTENSITY = 0.35
MAX_INTENSITY = 1.0

RGB = tuple[float, float, float]


@dataclass(frozen=True)
class Frame:
    """An ideal frame: one perceptual intensity, a coverage per pixel, one colour.

    `intensity` (0..1) is perceptual: the output stage turns it into light with
    its gamma curve. `coverage` (0..1 per pixel) is linear in light, so a
    half-covered edge pixel gives half the light of a full one and the total
    light grows smoothly as the edge glides. `color` holds the linear
    multipliers of the three channels (0..1) with the brightness cap folded in,
    so the hue on the wire is exactly the configured colour.
    """

    intensity: float
    coverage: tuple[float, ...]
    color: RGB


def color_multipliers(rgb: tuple[int, int, int], brightness: float) -> RGB:
    """'#RRGGBB' channels and a 0..1 brightness cap as linear multipliers."""
    return (rgb[0] / 255.0 * brightness, rgb[1] / 255.0 * brightness, rgb[2] / 255.0 * brightness)


class ArcScene:
    """Draws a level as a symmetric arc on a ring of `pixels` LEDs."""

    def __init__(self, pixels: int, start_pixel: int = 0) -> None:
        if pixels < 1:
            raise ValueError("a ring needs at least one pixel")
        self.pixels = pixels
        self.start_pixel = start_pixel % pixels
        # Distance of each pixel from the start pixel, going the short way round.
        self._distance = []
        for i in range(pixels):
            d = (i - self.start_pixel) % pixels
            self._distance.append(min(d, pixels - d))
        # Every pixel at one distance has the same coverage, so a frame works out one
        # value per distance and hands them to the pixels with one C-level lookup.
        self._max_distance = pixels // 2
        # Where the arc's edge must pass for a pixel at each distance to begin lighting up.
        self._edge_at = [d - 0.5 for d in range(self._max_distance + 1)]
        # On an even ring the pixel opposite the start is reached from both sides.
        self._opposite_doubled = pixels % 2 == 0
        self._by_distance: Callable[[list[float]], tuple[float, ...]]
        if pixels == 1:
            self._by_distance = lambda values: (values[0],)
        else:
            self._by_distance = itemgetter(*self._distance)

    def coverage(self, level: float) -> list[float]:
        """Share (0..1) of each pixel that the arc of `level` covers."""
        return list(self._coverage(min(max(level, 0.0), 1.0)))

    def _coverage(self, level: float) -> tuple[float, ...]:
        """`coverage` of a level already in [0, 1], as a tuple."""
        half = level * self.pixels / 2.0  # arc half-length, in pixels
        edge_at = self._edge_at
        top = self._max_distance
        # A pixel at distance d is covered by half - (d - 0.5), clamped to 0..1: full
        # up to about half - 1.5, dark from about half + 1.5. Only the distances
        # around the edge (a window wide enough for any rounding) are worked out.
        edge = math.floor(half + 0.5)
        lo = min(max(edge - 2, 1), top + 1)
        hi = min(max(edge + 2, lo), top + 1)
        values = [1.0] * lo
        # Clamps written out as min(max(x, 0.0), 1.0) decides, without a builtin call.
        for d in range(lo, hi):
            x = half - edge_at[d]
            x = 0.0 if x < 0.0 else x
            values.append(1.0 if x > 1.0 else x)
        values += [0.0] * (top + 1 - hi)
        x = 2.0 * half
        values[0] = 1.0 if x > 1.0 else x
        if self._opposite_doubled:
            x = 2.0 * values[top]
            values[top] = 1.0 if x > 1.0 else x
        return self._by_distance(values)

    def render(self, level: float, color: RGB, gain: float = 1.0) -> Frame:
        """The frame for `level`; `gain` (0..1) dims the whole arc (fades)."""
        level = 0.0 if level < 0.0 else level  # min(max(level, 0.0), 1.0), written out
        level = 1.0 if level > 1.0 else level
        intensity = (MIN_INTENSITY + (MAX_INTENSITY - MIN_INTENSITY) * level) * gain
        return Frame(intensity, self._coverage(level), color)

    def fill(self, intensity: float, color: RGB) -> Frame:
        """The whole ring at one intensity (blinks, pulses)."""
        return Frame(intensity, (1.0,) * self.pixels, color)

    def dark(self) -> Frame:
        return Frame(0.0, (0.0,) * self.pixels, (0.0, 0.0, 0.0))
