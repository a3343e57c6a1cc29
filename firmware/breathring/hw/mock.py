"""`--hardware mock`: the real device classes over a mock bus and a mock pin.

The mock is the bus, not the device (as gpiozero's MockFactory does for pins):

- ring: the real `NeoPixelRing` over the real neopixel library on Blinka's
  OS-agnostic board (BLINKA_OS_AGNOSTIC=1); the library's one transmit call
  hands its wire buffer to a `WireCapture` instead of a GPIO;
- button: the real `GpioButton` over gpiozero's `MockFactory`; whoever plays
  the hand drives the pin (`MockPins.press`/`release`: drive_low/drive_high,
  the pin is pulled up);
- audio: the real pygame mixer on SDL's "dummy" driver (see selection.py).

So the service, `demo` and the tests run exactly the code a Pi runs, down to
the library call that would touch hardware.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..clock import Clock
from .button import GpioButton
from .ring import RGB_BYTES, NeoPixelRing, StripFactory, channel_offsets

#: Wire frames a WireCapture keeps (older ones are dropped; `writes` stays exact).
DEFAULT_KEEP = 64
#: Revision gpiozero's MockFactory pretends to be (a Pi 3B, 40-pin header).
MOCK_REVISION = "a02082"
#: SDL audio driver of `--hardware mock`: the real mixer, no sound card.
MOCK_AUDIO_DRIVER = "dummy"
#: SDL drivers that are already simulated (kept when the config names one).
SIMULATED_AUDIO_DRIVERS = ("dummy", "disk")


class WireCapture:
    """The mock bus under a NeoPixelRing: keeps each buffer the library transmits.

    `frames`: wire frames (bytes in the ring's colour order), oldest first, at
    most `keep`; `writes`: how many were transmitted; `listener` (optional) is
    called with each frame as it is transmitted.
    """

    def __init__(
        self,
        order: str = "GRB",
        *,
        keep: int = DEFAULT_KEEP,
        listener: Callable[[bytes], None] | None = None,
    ) -> None:
        self.order = order.upper()
        self._offsets = channel_offsets(self.order)
        self._frames: deque[bytes] = deque(maxlen=keep)
        self.writes = 0
        self.listener = listener

    def transmit(self, buffer: bytes | bytearray) -> None:
        """What the neopixel library would send on the data pin."""
        frame = bytes(buffer)
        self._frames.append(frame)
        self.writes += 1
        if self.listener is not None:
            self.listener(frame)

    @property
    def frames(self) -> list[bytes]:
        return list(self._frames)

    @property
    def last(self) -> bytes | None:
        """The last wire frame, or None before the first."""
        return self._frames[-1] if self._frames else None

    def rgb(self, wire: bytes) -> bytes:
        """A wire frame back in RGB order, pixel 0 first (W dropped)."""
        width = len(self.order)
        out = bytearray(len(wire) // width * RGB_BYTES)
        for channel, position in enumerate(self._offsets):
            out[channel::RGB_BYTES] = wire[position::width]
        return bytes(out)


def captured_strip(capture: WireCapture) -> StripFactory:
    """A strip factory for NeoPixelRing: the neopixel library, its transmit into `capture`."""

    def make_strip(driver: str, gpio: int, pixels: int, order: str) -> Any:
        # Blinka picks its board when first imported; the OS-agnostic one has no real pins.
        os.environ["BLINKA_OS_AGNOSTIC"] = "1"
        os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
        import board
        import neopixel

        class CapturedNeoPixel(neopixel.NeoPixel):  # type: ignore[misc]
            def _transmit(self, buffer: bytearray) -> None:
                capture.transmit(buffer)

        return CapturedNeoPixel(
            board.NEOPIXEL, pixels, pixel_order=order, brightness=1.0, auto_write=False
        )

    return make_strip


def mock_ring(
    pixels: int, order: str, capture: WireCapture, pin: str = "GPIO10", driver: str = "spi"
) -> NeoPixelRing:
    """The real NeoPixelRing, transmitting into `capture`."""
    return NeoPixelRing(pixels, order, pin, driver, make_strip=captured_strip(capture))


@dataclass
class MockPins:
    """gpiozero's MockFactory under the button, and the button's pin name."""

    factory: Any
    button_pin: str

    def pin(self) -> Any:
        """The button's MockPin (gpiozero's own; drive_low/drive_high move it)."""
        return self.factory.pin(self.button_pin)

    def press(self) -> None:
        """Close the switch: the pulled-up pin goes low."""
        self.pin().drive_low()

    def release(self) -> None:
        """Open the switch: the pin goes back high."""
        self.pin().drive_high()


def mock_pin_factory() -> Any:
    from gpiozero.pins.mock import MockFactory

    return MockFactory(revision=MOCK_REVISION)


def mock_button(
    pin: str, bounce_seconds: float | None, clock: Clock
) -> tuple[GpioButton, MockPins]:
    """The real GpioButton on a mock pin, and the handle that drives that pin."""
    factory = mock_pin_factory()
    button = GpioButton(pin, bounce_seconds, clock, pin_factory=factory)
    return button, MockPins(factory, pin)
