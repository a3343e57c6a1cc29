"""Drive a Controller frame by frame, or `breathring simulate`, on a fake clock."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

from breathring.cli import main
from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller, Tick

#: Frames per second of these tests (the device runs 100; 50 keeps them fast).
FPS = 50
UTC = ZoneInfo("UTC")
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
NIGHT = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
#: A monotonic reading far from 0 (a Pi that has been up for a while).
UPTIME = 1000.0


def run(controller: Controller, clock: FakeClock, seconds: float) -> list[Tick]:
    """Advance the clock one frame at a time for `seconds` and collect every frame's tick."""
    ticks = []
    for _ in range(round(seconds * FPS)):
        clock.advance(1 / FPS)
        ticks.append(controller.tick(read(clock)))
    return ticks


def ticks_until_idle(controller: Controller, clock: FakeClock, limit_s: float = 10.0):
    """Like run(), but stop at the first frame after which the controller is idle."""
    ticks = []
    for _ in range(round(limit_s * FPS)):
        clock.advance(1 / FPS)
        tick = controller.tick(read(clock))
        ticks.append(tick)
        if not controller.active:
            break
    return ticks


def started(cfg: Config | None = None, at: datetime = NOON, mono: float = UPTIME):
    """A controller whose session started (and drew its first frame) at `at`."""
    clock = FakeClock(at, mono)
    controller = Controller(cfg or Config())
    controller.handle("press", read(clock))
    controller.tick(read(clock))
    return controller, clock


def with_ring(cfg: Config, **changes: int) -> Config:
    """`cfg` with some `[ring]` keys changed."""
    return replace(cfg, ring=replace(cfg.ring, **changes))


def simulate_frames(capsys, tmp_path, config: str, *args: str) -> list[dict]:
    """The frames `breathring simulate --config C ARGS` prints (JSONL), without its header."""
    path = tmp_path / "config.toml"
    path.write_text(config)
    assert main(["simulate", "--config", str(path), *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()][1:]


def session_span(frames: list[dict]) -> tuple[float, float, int]:
    """(first lead-in t, first idle t after it, breaths) of the first session."""
    start = next(r["t"] for r in frames if r["phase"] == "lead-in")
    end = next(r["t"] for r in frames if r["phase"] == "idle" and r["t"] > start)
    breaths = max(r["breath"] for r in frames if start <= r["t"] < end)
    return start, end, breaths


def pulse_runs(frames: list[dict]) -> list[tuple[float, float, float, float]]:
    """Per pulse: (shown at, phase back to idle at, first lit t, last lit t)."""
    runs = []
    shown = None
    lit: list[float] = []
    for record in frames:
        if "pulse-shown" in record.get("events", []):
            shown, lit = record["t"], []
        if shown is None:
            continue
        if record["phase"] == "pulse" and any(v for px in record["rgb"] for v in px):
            lit.append(record["t"])
        elif record["phase"] == "idle":
            runs.append((shown, record["t"], lit[0], lit[-1]))
            shown = None
    return runs
