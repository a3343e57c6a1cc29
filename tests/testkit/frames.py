"""Drive a Controller frame by frame on a fake clock (shared by the controller tests)."""

from __future__ import annotations

from breathring.clock import FakeClock, read
from breathring.controller import Controller, Tick

#: Frames per second of these tests (the device runs 100; 50 keeps them fast).
FPS = 50


def run(controller: Controller, clock: FakeClock, seconds: float) -> list[Tick]:
    """Advance the clock one frame at a time for `seconds` and collect every frame's tick."""
    ticks = []
    for _ in range(round(seconds * FPS)):
        clock.advance(1 / FPS)
        ticks.append(controller.tick(read(clock)))
    return ticks
