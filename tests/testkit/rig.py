"""The reliability rig: the service in virtual time recording every frame, and as a process.

`Rig` runs `Service` on a FakeClock with mock hardware (the real NeoPixelRing and
GpioButton over a captured transmit and gpiozero's MockFactory) and records every
frame the engine renders (phase, cues, estimated current). `Proc` (from
testkit/process.py, the one launcher of the real process) runs
`breathring run --hardware mock` as systemd would, through testkit/traced_run.py (which
appends every frame the mock bus carries to a trace file), and talks to its control socket.
"""

from __future__ import annotations

import queue
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from testkit.mock_hw import Hand, RecordingAudio, RingProbe, make_bench
from testkit.paths import ROOT, short_tmp
from testkit.process import ServiceProcess

from breathring.clock import FakeClock, Now
from breathring.config import Config
from breathring.control.protocol import Request
from breathring.control.server import ControlRequest
from breathring.hw.selection import Hardware
from breathring.service import Service
from breathring.state import StateStore

#: The real process (one launcher for all tests: testkit/process.py).
Proc = ServiceProcess
#: Re-exported for the reliability tests.
__all__ = ["ROOT", "Proc", "short_tmp"]

UTC = ZoneInfo("UTC")
#: Bounds a virtual-time loop so that a spinning service fails instead of hanging.
STEP_LIMIT = 5_000_000


@dataclass
class FrameRecord:
    mono: float
    phase: str
    cues: list[str]
    events: list[str]
    milliamps: float
    budget: float
    lit: bool


@dataclass
class Rig:
    """A Service on a FakeClock with mock hardware; `frames` records every rendered frame."""

    service: Service
    clock: FakeClock
    hw: Hardware
    ring: RingProbe
    audio: RecordingAudio
    button: Hand
    frames: list[FrameRecord] = field(default_factory=list)
    keep_frames: bool = True
    #: The loop's waits never go past this monotonic time (run_for stops exactly on time).
    horizon: float = float("inf")

    def run_for(self, seconds: float) -> int:
        """Step the loop until `seconds` of virtual time have passed; returns the steps."""
        end = self.clock.monotonic() + seconds
        self.horizon = end
        steps = 0
        try:
            while self.clock.monotonic() < end:
                self.service.step()
                steps += 1
                assert steps < STEP_LIMIT, "the loop is spinning"
        finally:
            self.horizon = float("inf")
        return steps

    def control(self, cmd: str, pattern: str | None = None, value: str | None = None) -> dict:
        """One control request through the queue, answered by one step."""
        replies: list[dict] = []
        self.service.inbox.put(ControlRequest(Request(cmd, pattern, value), replies.append))
        self.service.step()
        assert len(replies) == 1, replies
        return replies[0]

    def hold(self, seconds: float | None = None) -> None:
        """Press and keep the button down past the hold time, as a hand would."""
        held = seconds if seconds is not None else self.service.cfg.button.hold_seconds + 0.2
        self.button.down()
        self.run_for(held)
        self.button.up()
        self.service.step()  # the "up" is queued: this step takes it without waiting

    def now(self) -> Now:
        return Now(self.clock.monotonic(), self.clock.wall())


def make_rig(
    cfg: Config | None = None,
    *,
    wall: datetime | None = None,
    state_dir: Path | None = None,
    config_path: Path | None = None,
    order: str = "GRB",
    keep_frames: bool = True,
    keep: int = 64,
) -> Rig:
    """A started service; `wait` takes queued items at once, else lets the timeout pass."""
    cfg = cfg or Config()
    clock = FakeClock(wall or datetime(2026, 1, 15, 12, 10, tzinfo=UTC))
    rig: Rig
    bench = make_bench(cfg, clock, order=order, keep=keep, advance=lambda s: rig.run_for(s))
    hw = bench.hardware

    def wait(timeout: float) -> object | None:
        try:
            return hw.button.events.get_nowait()
        except queue.Empty:
            clock.advance(min(timeout, max(rig.horizon - clock.monotonic(), 0.0)))
            return None

    store = StateStore(state_dir) if state_dir is not None else None
    service = Service(cfg, hw, clock, config_path=config_path, state=store, wait=wait)
    rig = Rig(service, clock, hw, bench.ring, bench.audio, bench.button, keep_frames=keep_frames)
    _record_frames(rig)
    service.start()
    return rig


def _record_frames(rig: Rig) -> None:
    engine = rig.service.engine
    render = engine.render

    def recording(now: Now):
        rendered = render(now)
        if rig.keep_frames:
            tick = rendered.tick
            rig.frames.append(
                FrameRecord(
                    now.mono,
                    tick.phase,
                    list(tick.cues),
                    list(tick.events),
                    rendered.milliamps,
                    engine.cfg.ring.max_milliamps,
                    any(rendered.wire),
                )
            )
        return rendered

    engine.render = recording  # type: ignore[method-assign]


# ---------------------------------------------------------------- the real process


def frames_per_second(lines_before: int, trace: Path, seconds: float) -> float:
    """Trace lines appended during `seconds` of real time, per second."""
    time.sleep(seconds)
    return (len(trace.read_text().split()) - lines_before) / seconds
