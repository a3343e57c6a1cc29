"""Frame cost: our whole pipeline against the peer's Pulse.animate(), same library, same run.

Ours: controller tick + scene + output stage (Engine.render) + NeoPixelRing.show
(the real neopixel library's buffer, up to its transmit call). The peer:
adafruit_led_animation's Pulse.animate() filling the same library's buffer at
the library's own brightness, up to the same transmit call. Both run in
virtual time, one frame per call, so every call draws.

Timings are noisy; `callgrind()` also counts instructions per frame under
valgrind, which do not depend on the machine's load.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.engine import Engine

from .common import ROOT, SIZES, VirtualMs, agnostic_strip, our_ring, sized, use_virtual_ms, wire_us

#: The peer pulses over a whole breath: up in 4 s, down in 4 s.
PEER_PERIOD_S = 8.0
WARMUP_FRAMES = 20
START = datetime(2026, 1, 15, 12, 10, tzinfo=UTC)
_SUMMARY_RE = re.compile(rb"^summary:\s*(\d+)", re.MULTILINE)


def ours(pixels: int, cfg: Config | None = None) -> Callable[[], None]:
    """One call = one frame of a running session, from the clock to the transmit call."""
    cfg = sized(cfg or Config(), pixels)
    ring = our_ring(pixels, cfg.ring.order)
    clock = FakeClock(START)
    engine = Engine(cfg)
    interval = engine.frame_interval
    engine.gesture("press", read(clock))

    def frame() -> None:
        clock.advance(interval)
        now = read(clock)
        if not engine.active:
            engine.gesture("press", now)
        ring.show(engine.render(now).wire)

    return frame


def peer(pixels: int, cfg: Config | None = None) -> Callable[[], None]:
    """One call = one Pulse.animate() that draws, at the library's brightness = ours."""
    from adafruit_led_animation.animation.pulse import Pulse

    cfg = cfg or Config()
    clock = VirtualMs()
    use_virtual_ms(clock)
    strip = agnostic_strip(pixels, cfg.ring.order, cfg.ring.brightness)
    pulse = Pulse(strip, speed=1.0 / cfg.ring.fps, color=cfg.ring.color, period=PEER_PERIOD_S)
    step_ms = round(1000 / cfg.ring.fps)

    def frame() -> None:
        clock.ms += step_ms
        pulse.animate()

    return frame


def time_frames(frame: Callable[[], None], frames: int, repeats: int) -> float:
    """Median over `repeats` batches of the mean µs per frame."""
    for _ in range(WARMUP_FRAMES):
        frame()
    means = []
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(frames):
            frame()
        means.append((time.perf_counter_ns() - start) / frames / 1000.0)
    return statistics.median(means)


def frame_costs(
    sizes: Sequence[int] = SIZES, frames: int = 1000, repeats: int = 5
) -> dict[str, dict[int, float]]:
    """µs per frame for us and the peer, and our cost over the wire time, per ring size."""
    out: dict[str, dict[int, float]] = {"frame_us": {}, "peer_frame_us": {}, "wire_ratio": {}}
    for n in sizes:
        mine = time_frames(ours(n), frames, repeats)
        theirs = time_frames(peer(n), frames, repeats)
        out["frame_us"][n] = round(mine, 2)
        out["peer_frame_us"][n] = round(theirs, 2)
        out["wire_ratio"][n] = round(mine / wire_us(n), 4)
    return out


# ------------------------------------------------------------------ callgrind


def _marker() -> None:
    """valgrind dumps its counters whenever getppid() is entered (--dump-before)."""
    os.getppid()


def _callgrind_child(sizes: Sequence[int], frames: int) -> None:
    labels = []
    for name, make in (("ours", ours), ("peer", peer)):
        for n in sizes:
            frame = make(n)
            for _ in range(WARMUP_FRAMES):
                frame()
            _marker()
            for _ in range(frames):
                frame()
            _marker()
            labels.append([name, n])
    print(json.dumps(labels))


def callgrind(sizes: Sequence[int] = SIZES, frames: int = 200) -> dict[str, dict[int, int]] | None:
    """Instructions per frame (valgrind callgrind) for us and the peer; None without valgrind."""
    valgrind = shutil.which("valgrind")
    if valgrind is None:
        return None
    with tempfile.TemporaryDirectory(prefix="breathring-cg-") as tmp:
        out_file = Path(tmp) / "cg.out"
        cmd = [
            valgrind,
            "--tool=callgrind",
            "--dump-before=getppid",
            f"--callgrind-out-file={out_file}",
            sys.executable,
            "-m",
            "benchmarks.frame",
            "--callgrind-child",
            str(frames),
            *map(str, sizes),
        ]
        env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), str(ROOT / "firmware")]))
        done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, check=True, timeout=900)
        labels = json.loads(done.stdout.decode().strip().splitlines()[-1])
        dumps = {}
        for path in Path(tmp).glob("cg.out.*"):
            match = _SUMMARY_RE.search(path.read_bytes())
            if match:
                dumps[int(path.name.rsplit(".", 1)[1])] = int(match.group(1))
    # Dump 1 is start-up, then alternately frames (even) and set-up (odd).
    result: dict[str, dict[int, int]] = {"ours": {}, "peer": {}}
    for k, (name, n) in enumerate(labels):
        result[name][n] = round(dumps[2 * (k + 1)] / frames)
    ratio = {n: round(result["ours"][n] / result["peer"][n], 3) for n in result["ours"]}
    return {
        "instr_per_frame": result["ours"],
        "peer_instr_per_frame": result["peer"],
        "instr_ratio": ratio,
    }


def in_place(seconds: float = 5.0, cfg: Config | None = None) -> dict[str, float]:
    """The pipeline as the service runs it: one frame, then a sleep to the next frame.

    The same frame as `ours` (the config's ring), at the config's frame rate, each one
    measured as this thread's CPU time (CLOCK_THREAD_CPUTIME_ID, not 10-ms ticks): after
    each sleep its caches are cold, as in the service. Also the virtual-time cost (frames
    back to back, warm caches) of the same frame in the same run, and both as % of a core;
    and the same paced frames with the thread spinning between them instead of sleeping.
    """
    cfg = cfg or Config()
    fps = cfg.ring.fps
    frame = ours(cfg.ring.pixels, cfg)
    interval = 1.0 / fps
    for _ in range(WARMUP_FRAMES):
        frame()
    frames = max(1, round(seconds * fps))
    in_place_us = _paced_frame_us(frame, frames, interval, busy=False)
    busy_us = _paced_frame_us(frame, frames, interval, busy=True)
    virtual_us = time_frames(frame, 1000, 3)
    return {
        "pipeline_us_in_place": round(in_place_us, 2),
        "pipeline_us_in_place_busy": round(busy_us, 2),
        "pipeline_us_virtual": round(virtual_us, 2),
        "pipeline_cpu_pct": round(in_place_us * fps / 1e4, 4),
        "pipeline_cpu_pct_virtual": round(virtual_us * fps / 1e4, 4),
    }


def _paced_frame_us(
    frame: Callable[[], None], frames: int, interval: float, *, busy: bool
) -> float:
    """This thread's CPU µs per frame, one frame every `interval` s of wall time.

    Between frames the thread sleeps (as the service does) or, with `busy`, spins on the
    clock without ever blocking: if a frame costs as much either way, what makes a frame
    dearer in place than back to back is the time between frames (other work on the
    machine's cores and caches), not the sleep and the wake-up.
    """
    spent = 0
    next_at = time.monotonic()
    for _ in range(frames):
        next_at += interval
        if busy:
            while time.monotonic() < next_at:
                pass
        else:
            time.sleep(max(next_at - time.monotonic(), 0.0))
        start = time.thread_time_ns()
        frame()
        spent += time.thread_time_ns() - start
    return spent / frames / 1000.0


def wake_floor(seconds: float = 5.0, fps: int | None = None) -> dict[str, float]:
    """What waking at the frame rate costs with no work at all: the loop's floor.

    The service's own wait (a timed get on a queue.SimpleQueue, queue.Empty caught) to the
    same frame grid, nothing else, as this thread's CPU time over the whole loop. Whatever
    runs between the wakes (the frame pipeline, the loop around it) is on top of this; the
    kernel's timer and the interpreter's first bytecodes after each sleep are in it.
    """
    fps = fps or Config().ring.fps
    interval = 1.0 / fps
    inbox: queue.SimpleQueue[object] = queue.SimpleQueue()
    wakes = max(1, round(seconds * fps))
    next_at = time.monotonic()
    start = time.thread_time_ns()
    for _ in range(wakes):
        next_at += interval
        with contextlib.suppress(queue.Empty):
            inbox.get(timeout=max(next_at - time.monotonic(), 0.0))
    floor_us = (time.thread_time_ns() - start) / wakes / 1000.0
    return {
        "wake_floor_us": round(floor_us, 2),
        "wake_floor_cpu_pct": round(floor_us * fps / 1e4, 4),
    }


if __name__ == "__main__":
    if len(sys.argv) > 2 and sys.argv[1] == "--callgrind-child":
        _callgrind_child([int(a) for a in sys.argv[3:]], int(sys.argv[2]))
    else:
        print(json.dumps(frame_costs(), indent=2))
