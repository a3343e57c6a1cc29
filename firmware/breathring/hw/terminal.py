"""A ring drawn in a terminal with truecolor cells: the Ring of `demo`.

It takes the same wire bytes as the real ring and shows them as an LED would
look: wire values are linear light, a screen expects gamma-encoded values, so
each value is converted with the sRGB curve before it is drawn.
"""

from __future__ import annotations

import math
from typing import TextIO

#: Terminal cells are about twice as tall as wide.
CELL_ASPECT = 2.0
RADIUS_ROWS = 6
LED_GLYPH = "●"
OFF_GLYPH = "·"
CSI = "\x1b["
SRGB_TOE = 0.0031308


def linear_to_srgb8(value: int) -> int:
    """A linear wire value 0..255 as the sRGB screen value that looks the same."""
    x = value / 255.0
    y = 12.92 * x if x <= SRGB_TOE else 1.055 * x ** (1 / 2.4) - 0.055
    return round(255 * y)


class TerminalRing:
    """Draws a ring of `pixels` LEDs as a circle of coloured cells."""

    def __init__(self, pixels: int, out: TextIO, start_pixel: int = 0, radius: int = RADIUS_ROWS):
        self.pixels = pixels
        self.out = out
        self.rows = 2 * radius + 1
        self.cols = int(2 * radius * CELL_ASPECT) + 1
        self._cells: list[tuple[int, int]] = []
        for i in range(pixels):
            # Pixel `start_pixel` at the bottom; the others go round clockwise.
            angle = 2 * math.pi * ((i - start_pixel) % pixels) / pixels
            row = radius + round(radius * math.cos(angle))
            col = round(radius * CELL_ASPECT - radius * CELL_ASPECT * math.sin(angle))
            self._cells.append((row, col))
        self.last: bytes = bytes(3 * pixels)
        self.caption = ""

    def lines(self, wire: bytes) -> list[str]:
        """The ring as text lines with ANSI truecolor escapes."""
        grid = [[" "] * self.cols for _ in range(self.rows)]
        for i, (row, col) in enumerate(self._cells):
            r, g, b = (linear_to_srgb8(v) for v in wire[3 * i : 3 * i + 3])
            if r or g or b:
                grid[row][col] = f"{CSI}38;2;{r};{g};{b}m{LED_GLYPH}{CSI}0m"
            else:
                grid[row][col] = f"{CSI}38;2;60;60;60m{OFF_GLYPH}{CSI}0m"
        return ["".join(line) for line in grid]

    def show(self, rgb: bytes) -> None:
        self.last = bytes(rgb)
        lines = self.lines(self.last)
        lines.append(f"{CSI}2K  {self.caption}")
        # Home the cursor and redraw in place: no flicker, no scrolling.
        self.out.write(f"{CSI}H" + "\n".join(f"{CSI}2K{line}" for line in lines) + "\n")
        self.out.flush()

    def clear(self) -> None:
        self.show(bytes(3 * self.pixels))

    def close(self) -> None:
        self.clear()
