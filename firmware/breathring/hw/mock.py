"""Stand-ins for the ring, the button and the speaker: they record, never touch hardware.

Used by `--hardware mock`, `simulate`, the terminal demo and the tests. The
clock is always the caller's; the mocks only read it.
"""

from __future__ import annotations

import queue
from collections import deque
from pathlib import Path

from breathring.clock import Clock
from breathring.gestures import DOWN, UP, ButtonEvent
from breathring.hw.ring import RGB_BYTES, channel_offsets, check_frame, pack_into

#: How many frames / sounds a mock keeps (older ones are dropped; counts stay exact).
DEFAULT_KEEP = 10_000
#: Time between the two presses of `MockButton.double()`, in event time stamps.
DOUBLE_GAP_SECONDS = 0.1
#: How long each press of `MockButton.double()` stays down.
DOUBLE_PRESS_SECONDS = 0.05

RGB = tuple[int, int, int]


class MockRing:
    """Records what would go on the wire, in the configured colour order.

    `frames`: the wire frames (bytes, `order`, W = 0 for RGBW); `last`: the
    last frame as RGB tuples; `writes`: successful shows. Fault injection:
    `fail_every=n` makes every n-th show raise OSError; `fail_next(n)` the
    next n shows. A failed show records nothing.
    """

    def __init__(
        self,
        pixels: int,
        order: str = "GRB",
        *,
        fail_every: int | None = None,
        keep: int = DEFAULT_KEEP,
        trace: Path | None = None,
    ) -> None:
        if pixels < 1:
            raise ValueError(f"ring.pixels = {pixels} must be at least 1")
        order = order.upper()
        channel_offsets(order)
        if fail_every is not None and fail_every < 1:
            raise ValueError(f"fail_every = {fail_every} must be at least 1")
        self._pixels = pixels
        self.order = order
        self.fail_every = fail_every
        self._fail_next = 0
        self._frames: deque[bytes] = deque(maxlen=keep)
        self._last: list[RGB] = [(0, 0, 0)] * pixels
        self.writes = 0
        self.attempts = 0
        self.closed = False
        self._trace = trace.open("a", encoding="ascii") if trace is not None else None

    @property
    def pixels(self) -> int:
        return self._pixels

    @property
    def frames(self) -> list[bytes]:
        """The recorded wire frames, oldest first (at most `keep`)."""
        return list(self._frames)

    @property
    def last(self) -> list[RGB]:
        """The last frame shown, as (r, g, b) per pixel; all off before any show."""
        return list(self._last)

    @property
    def lit(self) -> int:
        """How many pixels of the last frame are not fully off."""
        return sum(1 for pixel in self._last if any(pixel))

    def fail_next(self, n: int = 1) -> None:
        """Make the next `n` shows raise OSError."""
        self._fail_next += n

    def show(self, rgb: bytes | bytearray) -> None:
        if self.closed:
            raise OSError("the ring is closed")
        check_frame(rgb, self._pixels)
        self.attempts += 1
        if self._fail_next > 0:
            self._fail_next -= 1
            raise OSError("injected ring write failure")
        if self.fail_every is not None and self.attempts % self.fail_every == 0:
            raise OSError("injected ring write failure")
        wire = bytearray(len(self.order) * self._pixels)
        pack_into(wire, 0, rgb, self.order)
        self._frames.append(bytes(wire))
        data = bytes(rgb)
        self._last = [(data[i], data[i + 1], data[i + 2]) for i in range(0, len(data), RGB_BYTES)]
        self.writes += 1
        if self._trace is not None:
            self._trace.write(data.hex() + "\n")
            self._trace.flush()

    def clear(self) -> None:
        self.show(bytes(RGB_BYTES * self._pixels))

    def close(self) -> None:
        if self.closed:
            return
        try:
            self.clear()
        finally:
            self.closed = True
            if self._trace is not None:
                self._trace.close()


class MockButton:
    """A button pressed by code: edges go to `events`, stamped by the caller's clock.

    `down()`/`up()` are single edges at the clock's now. `press()` is a down and
    an up at now; `double()` two presses DOUBLE_GAP_SECONDS apart; `hold(s)` a
    down at now and an up at now + s. The later stamps lie ahead of the clock:
    the decoder copes (a late up still reports the hold), but to see a hold as
    the service does, call down(), advance the clock, then up().
    """

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: queue.SimpleQueue[ButtonEvent] = queue.SimpleQueue()
        self.closed = False

    def _put(self, kind: str, mono: float) -> None:
        if self.closed:
            raise RuntimeError("the button is closed")
        self.events.put(ButtonEvent(kind, mono))  # type: ignore[arg-type]

    def down(self) -> None:
        self._put(DOWN, self.clock.monotonic())

    def up(self) -> None:
        self._put(UP, self.clock.monotonic())

    def press(self) -> None:
        now = self.clock.monotonic()
        self._put(DOWN, now)
        self._put(UP, now)

    def double(self) -> None:
        now = self.clock.monotonic()
        for start in (now, now + DOUBLE_GAP_SECONDS):
            self._put(DOWN, start)
            self._put(UP, start + DOUBLE_PRESS_SECONDS)

    def hold(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"hold seconds = {seconds} must be >= 0")
        now = self.clock.monotonic()
        self._put(DOWN, now)
        self._put(UP, now + seconds)

    def drain(self) -> list[ButtonEvent]:
        """Take every queued event (for tests and simple loops)."""
        out: list[ButtonEvent] = []
        while True:
            try:
                out.append(self.events.get_nowait())
            except queue.Empty:
                return out

    def close(self) -> None:
        self.closed = True


class MockAudio:
    """Records sounds instead of playing them.

    `played`: (cue, mono, volume) per play, and ("guide:" + kind, mono, seconds)
    per guide tone, oldest first (at most `keep`). `available=False` behaves
    like a missing speaker: nothing is recorded.
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
        """Just the names, in order (guide tones as "guide:<kind>")."""
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
