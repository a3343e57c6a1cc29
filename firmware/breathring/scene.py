"""Level -> ideal float frame. Pure.

The lit arc grows symmetrically from a start pixel in both directions until
the ring is full. Each pixel is lit by the share of it the arc covers, so the
edge pixels carry the fractional part and the edge glides. The arc also
brightens as it grows, so a breath reads as size and as brightness.
"""

from __future__ import annotations

from dataclasses import dataclass

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
        # On an even ring the pixel opposite the start is reached from both sides.
        self._both_sides = [pixels % 2 == 0 and d * 2 == pixels for d in self._distance]
        # Where the arc's edge must pass for each pixel to begin lighting up.
        self._edge_at = [d - 0.5 for d in self._distance]
        self._opposite = [i for i, both in enumerate(self._both_sides) if both]

    def coverage(self, level: float) -> list[float]:
        """Share (0..1) of each pixel that the arc of `level` covers."""
        level = min(max(level, 0.0), 1.0)
        half = level * self.pixels / 2.0  # arc half-length, in pixels
        out = [min(max(half - edge, 0.0), 1.0) for edge in self._edge_at]
        out[self.start_pixel] = min(2.0 * half, 1.0)
        for i in self._opposite:
            out[i] = min(2.0 * out[i], 1.0)
        return out

    def render(self, level: float, color: RGB, gain: float = 1.0) -> Frame:
        """The frame for `level`; `gain` (0..1) dims the whole arc (fades)."""
        level = min(max(level, 0.0), 1.0)
        intensity = (MIN_INTENSITY + (MAX_INTENSITY - MIN_INTENSITY) * level) * gain
        return Frame(intensity, tuple(self.coverage(level)), color)

    def fill(self, intensity: float, color: RGB) -> Frame:
        """The whole ring at one intensity (blinks, pulses)."""
        return Frame(intensity, (1.0,) * self.pixels, color)

    def dark(self) -> Frame:
        return Frame(0.0, (0.0,) * self.pixels, (0.0, 0.0, 0.0))
