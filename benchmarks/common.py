"""Shared set-up for the benchmarks: paths, the off-Pi libraries, configs, the wire time."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

from breathring.config import Config

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
DOCS = ROOT / "docs"

#: WS2812 timing: 24 bits of 1.25 µs per pixel, then a reset gap.
WIRE_US_PER_PIXEL = 30.0
WIRE_RESET_US = 50.0
#: The ring sizes measured (Adafruit's rings and strips).
SIZES = (12, 24, 60, 144, 300)
#: The peer's colour for the smoothness comparison (#FF8C32, our night colour).
AMBER = (255, 140, 50)


def wire_us(pixels: int) -> float:
    """How long one frame of `pixels` takes on the WS2812 wire, in µs."""
    return WIRE_US_PER_PIXEL * pixels + WIRE_RESET_US


def sized(cfg: Config, pixels: int, **ring: Any) -> Config:
    """`cfg` with `pixels` LEDs (and any other ring fields replaced)."""
    return replace(cfg, ring=replace(cfg.ring, pixels=pixels, **ring))


def no_transmit(_buffer: bytearray) -> None:
    """Stands in for the library's transmit call: the bytes are ready, nothing is sent."""


def agnostic_strip(pixels: int, order: str = "GRB", brightness: float = 1.0) -> Any:
    """A real neopixel.NeoPixel on Blinka's OS-agnostic board, its transmit captured."""
    import board
    import neopixel

    strip = neopixel.NeoPixel(
        board.NEOPIXEL, pixels, pixel_order=order, brightness=brightness, auto_write=False
    )
    strip._transmit = no_transmit
    return strip


def our_ring(pixels: int, order: str = "GRB") -> Any:
    """hw/ring.py's NeoPixelRing through its make_strip seam, on the agnostic board."""
    import board

    from breathring.hw import ring as ringmod

    def make_strip(driver: str, gpio: int, n: int, wire_order: str) -> Any:
        strip = ringmod._make_strip(driver, gpio, n, wire_order, board_pin=board.NEOPIXEL)
        strip._transmit = no_transmit
        return strip

    return ringmod.NeoPixelRing(pixels, order, "GPIO18", "pwm", make_strip=make_strip)


class VirtualMs:
    """A settable millisecond clock for the peer library (it reads monotonic_ms)."""

    def __init__(self) -> None:
        self.ms = 0

    def __call__(self) -> int:
        return self.ms


def use_virtual_ms(clock: VirtualMs) -> None:
    """Make adafruit_led_animation read `clock` instead of the system's time."""
    import adafruit_led_animation.animation as animation
    import adafruit_led_animation.pulse_generator as pulse_generator

    animation.monotonic_ms = clock
    pulse_generator.monotonic_ms = clock
