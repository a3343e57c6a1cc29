"""Test hooks on the lowest layer: a faulty wire, a hand on the mock pin, a cue recorder.

The device classes are the product's (NeoPixelRing, GpioButton) over the
product's mock bus and pin (breathring.hw.mock); what only tests need lives
here: fault injection on the bus, views of what went over it, a hand that
presses the pin in (virtual) time, and a recorder of the cues the service asks for.
"""

from __future__ import annotations

import queue
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from breathring.clock import Clock, FakeClock
from breathring.config import Config
from breathring.hw.mock import MockPins, WireCapture, mock_button, mock_ring
from breathring.hw.ring import RGB_BYTES, NeoPixelRing
from breathring.hw.selection import Hardware

#: Frames / sounds kept (older ones are dropped; counts stay exact).
DEFAULT_KEEP = 10_000
#: A double press: the second press starts this long after the first one.
DOUBLE_GAP_SECONDS = 0.1
#: How long each press of a double stays down.
DOUBLE_PRESS_SECONDS = 0.05

RGB = tuple[int, int, int]


class FaultyWire(WireCapture):
    """A WireCapture whose transmit fails on demand, as a broken SPI write would (OSError).

    `fail_every = n`: every n-th transmit fails; `fail_next(n)`: the next n do;
    `heal()`: no more pending failures. `attempts` counts every transmit tried.
    """

    def __init__(self, order: str = "GRB", *, keep: int = DEFAULT_KEEP, fail_every=None) -> None:
        super().__init__(order, keep=keep)
        self.fail_every: int | None = fail_every
        self.pending_failures = 0
        self.attempts = 0

    def fail_next(self, n: int = 1) -> None:
        self.pending_failures += n

    def heal(self) -> None:
        self.pending_failures = 0

    def transmit(self, buffer: bytes | bytearray) -> None:
        self.attempts += 1
        if self.pending_failures > 0:
            self.pending_failures -= 1
            raise OSError("injected ring write failure")
        if self.fail_every is not None and self.attempts % self.fail_every == 0:
            raise OSError("injected ring write failure")
        super().transmit(buffer)


class RingProbe:
    """What reached the wire of a real NeoPixelRing, decoded for assertions."""

    def __init__(self, ring: NeoPixelRing, wire: FaultyWire) -> None:
        self.device = ring
        self.wire = wire

    @property
    def pixels(self) -> int:
        return self.device.pixels

    @property
    def frames(self) -> list[bytes]:
        """Wire frames in the ring's colour order, oldest first."""
        return self.wire.frames

    @property
    def last(self) -> list[RGB]:
        """The last frame on the wire as (r, g, b) per pixel; all off before any."""
        last = self.wire.last
        if last is None:
            return [(0, 0, 0)] * self.pixels
        rgb = self.wire.rgb(last)
        return [tuple(rgb[i : i + RGB_BYTES]) for i in range(0, len(rgb), RGB_BYTES)]  # type: ignore[misc]

    @property
    def lit(self) -> int:
        return sum(1 for pixel in self.last if any(pixel))

    @property
    def writes(self) -> int:
        return self.wire.writes

    @property
    def attempts(self) -> int:
        return self.wire.attempts

    @property
    def closed(self) -> bool:
        return self.device.closed

    @property
    def fail_every(self) -> int | None:
        return self.wire.fail_every

    @fail_every.setter
    def fail_every(self, value: int | None) -> None:
        self.wire.fail_every = value

    def fail_next(self, n: int = 1) -> None:
        self.wire.fail_next(n)

    def heal(self) -> None:
        self.wire.heal()


class Hand:
    """Presses the button by driving its mock pin; edges are stamped by the button's clock.

    `advance(seconds)` lets time pass between edges (default: the FakeClock's
    own advance; a rig passes its loop, so the service runs meanwhile).
    """

    def __init__(self, pins: MockPins, clock: Clock, advance: Callable[[float], object]) -> None:
        self.pins = pins
        self.clock = clock
        self.advance = advance

    def down(self) -> None:
        self.pins.press()

    def up(self) -> None:
        self.pins.release()

    def press(self) -> None:
        self.down()
        self.up()

    def double(self) -> None:
        self.down()
        self.advance(DOUBLE_PRESS_SECONDS)
        self.up()
        self.advance(DOUBLE_GAP_SECONDS - DOUBLE_PRESS_SECONDS)
        self.down()
        self.advance(DOUBLE_PRESS_SECONDS)
        self.up()

    def hold(self, seconds: float) -> None:
        self.down()
        self.advance(seconds)
        self.up()


class RecordingAudio:
    """Records what the service asks to play (cue, mono, volume / seconds); plays nothing.

    The real mixer runs in tests/hw/test_audio.py and in the process tests
    (`--hardware mock`: SDL's dummy driver); in virtual time only the requests matter.
    """

    def __init__(self, clock: Clock, *, available: bool = True, keep: int = DEFAULT_KEEP) -> None:
        self.clock = clock
        self._available = available
        self._played: deque[tuple[str, float, float]] = deque(maxlen=keep)
        self.stops = 0
        self.closed = False

    @property
    def available(self) -> bool:
        return self._available and not self.closed

    @available.setter
    def available(self, value: bool) -> None:
        self._available = value

    @property
    def played(self) -> list[tuple[str, float, float]]:
        return list(self._played)

    @property
    def cues(self) -> list[str]:
        return [name for name, _, _ in self._played]

    def play(self, cue: str, volume: float) -> None:
        if self.available:
            self._played.append((cue, self.clock.monotonic(), volume))

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        if self.available:
            self._played.append(("guide:" + kind, self.clock.monotonic(), seconds))

    def stop(self) -> None:
        self.stops += 1

    def close(self) -> None:
        self.closed = True


@dataclass
class Bench:
    """Mock hardware for a Service, and the test's hands on it."""

    hardware: Hardware
    ring: RingProbe
    button: Hand
    audio: RecordingAudio

    @property
    def events(self) -> queue.SimpleQueue:
        return self.hardware.button.events


def make_bench(
    cfg: Config,
    clock: FakeClock,
    *,
    order: str | None = None,
    keep: int = DEFAULT_KEEP,
    advance: Callable[[float], object] | None = None,
) -> Bench:
    """NeoPixelRing over a FaultyWire + GpioButton over MockFactory + a RecordingAudio."""
    order = order or cfg.ring.order
    wire = FaultyWire(order, keep=keep)
    ring = mock_ring(cfg.ring.pixels, order, wire, cfg.ring.pin, cfg.ring.driver)
    button, pins = mock_button(cfg.button.pin, cfg.button.bounce_seconds, clock)
    audio = RecordingAudio(clock, keep=keep)
    hardware = Hardware(ring, button, audio, "mock", wire=wire, pins=pins)
    hand = Hand(pins, clock, advance or clock.advance)
    return Bench(hardware, RingProbe(ring, wire), hand, audio)


#: testkit/traced_run.py appends every frame of the mock bus (hex RGB) to this file.
TRACE_ENV = "BREATHRING_TEST_TRACE"
