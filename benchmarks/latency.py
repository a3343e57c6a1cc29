"""Button latency: a gpiozero MockFactory pin driven low -> the first lit frame handed to the ring.

The real service loop (Service.run, real clock) runs in a thread with a
GpioButton on a MockFactory pin and a ring that timestamps every show. Each
press starts from idle and dark. Between presses the bench ends the session
with a "stop" control request whose fade it shortens to FADE_S, and it sets
button.double_seconds short so that the next press is not a double press:
neither touches the path from the pin to the frame.
"""

from __future__ import annotations

import functools
import random
import statistics
import threading
import time
from dataclasses import replace

from breathring.clock import SystemClock
from breathring.config import Config
from breathring.control.protocol import Request
from breathring.control.server import ControlRequest
from breathring.hw.audio import SilentAudio
from breathring.hw.button import GpioButton
from breathring.hw.selection import Hardware
from breathring.service import Service

PIN = 17
FADE_S = 0.05
DOUBLE_S = 0.05
#: How long each press stays down, and the random pause before the next one.
DOWN_S = 0.02
GAP_S = (0.02, 0.05)
FRAME_TIMEOUT_S = 2.0
SEED = 6


class StampRing:
    """A ring that records when a lit frame arrives after `arm()`."""

    def __init__(self, pixels: int) -> None:
        self.pixels = pixels
        self.lit = False
        self.first_lit: float | None = None
        self.dark = threading.Event()
        self.got_lit = threading.Event()

    def arm(self) -> None:
        self.first_lit = None
        self.got_lit.clear()

    def show(self, rgb: bytes | bytearray) -> None:
        now = time.perf_counter()
        self.lit = any(rgb)
        if self.lit:
            if self.first_lit is None:
                self.first_lit = now
                self.got_lit.set()
            self.dark.clear()
        else:
            self.dark.set()

    def clear(self) -> None:
        self.show(bytes(3 * self.pixels))

    def close(self) -> None:
        self.clear()


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(q / 100.0 * (len(ordered) - 1))))
    return ordered[k]


def measure(presses: int = 200) -> dict[str, float]:
    from gpiozero.pins.mock import MockFactory

    cfg = Config()
    cfg = replace(cfg, button=replace(cfg.button, double_seconds=DOUBLE_S))
    clock = SystemClock()
    factory = MockFactory()
    ring = StampRing(cfg.ring.pixels)
    button = GpioButton(PIN, cfg.button.bounce_seconds, clock, factory)
    hardware = Hardware(ring, button, SilentAudio(), "mock")
    service = Service(cfg, hardware, clock)
    controller = service.engine.controller
    controller.stop = functools.partial(controller.stop, fade_s=FADE_S)  # type: ignore[method-assign]
    pin = factory.pin(PIN)
    thread = threading.Thread(target=service.run, name="breathring-service", daemon=True)
    thread.start()
    rng = random.Random(SEED)
    latencies = []
    try:
        for _ in range(presses):
            if not ring.dark.wait(FRAME_TIMEOUT_S):
                raise RuntimeError("the ring did not go dark between presses")
            time.sleep(rng.uniform(*GAP_S))
            ring.arm()
            start = time.perf_counter()
            pin.drive_low()
            if not ring.got_lit.wait(FRAME_TIMEOUT_S) or ring.first_lit is None:
                raise RuntimeError("no lit frame after a press")
            latencies.append((ring.first_lit - start) * 1000.0)
            time.sleep(DOWN_S)
            pin.drive_high()
            service.inbox.put(ControlRequest(Request("stop"), lambda _reply: None))
            time.sleep(FADE_S)
    finally:
        service.request_stop()
        thread.join(FRAME_TIMEOUT_S)
    interval_ms = 1000.0 / cfg.ring.fps
    return {
        "latency_ms_p50": round(statistics.median(latencies), 3),
        "latency_ms_p99": round(_percentile(latencies, 99), 3),
        "latency_ms_max": round(max(latencies), 3),
        "latency_goal_ms": interval_ms + 2.0,
        "presses": len(latencies),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
