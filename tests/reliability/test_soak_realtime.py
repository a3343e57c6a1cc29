"""Real-time soak of `breathring run --hardware mock`, pressed over the control socket.

30 s in the normal suite; 10 minutes with BREATHRING_SOAK=1 (or BREATHRING_SOAK_SECONDS=N):

    BREATHRING_SOAK=1 .venv/bin/python -m pytest tests/reliability/test_soak_realtime.py -q

Every few seconds a press (start, or fade out) or a status request. At the end:
no ERROR/WARNING line and no traceback in the log, frames arrived at the frame rate
while sessions ran, file descriptors and threads flat, SIGTERM exits 0 and dark.
"""

from __future__ import annotations

import json
import os
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import pytest
from testkit.host_share import HostSample, HostShare, held_back_by_host
from testkit.rig import Proc, short_tmp

SHORT_S = 30.0
LONG_S = 600.0
FPS = 50
#: Lines per second in the trace during sessions, as a share of ring.fps.
MIN_FPS_SHARE = 0.9
#: More than this share of the windows held back by the host: it was too busy to measure.
MAX_HOST_HELD_SHARE = 0.1
#: Seconds between actions: a press or a status request.
ACTION_EVERY_S = (0.5, 3.0)
#: Resident memory may grow this much (kB) from the first to the last minute of a long run.
MAX_RSS_GROWTH_KB = 4096


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def _threads(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/task"))


@dataclass(frozen=True)
class Window:
    """One 1-s look at the trace inside a session, and what the host gave the frame loop then."""

    #: Seconds from the soak's start to the window's start, and its length.
    start_s: float
    length_s: float
    frames: int
    #: The service's main thread (its frame loop) and the machine over the window.
    host: HostShare

    @property
    def short(self) -> bool:
        return self.frames < MIN_FPS_SHARE * FPS

    @property
    def held_back_by_host(self) -> bool:
        """Short of frames because the host gave the frame loop no CPU (testkit/host_share.py)."""
        missing_ms = (self.length_s * FPS - self.frames) * 1000.0 / FPS
        return held_back_by_host(self.host, missing_ms, self.length_s * 1000.0)


def soak(base, seconds: float, windows_file: Path | None = None) -> dict:
    proc = Proc(base, config=f"[ring]\nfps = {FPS}\n")
    rng = random.Random(11)
    try:
        proc.wait_ready()
        time.sleep(0.3)
        fds, threads, rss0 = proc.fds(), _threads(proc.pid), _rss_kb(proc.pid)
        start = time.monotonic()
        end = start + seconds
        presses = statuses = 0
        windows: list[Window] = []  # 1-s windows inside sessions
        while time.monotonic() < end:
            if rng.random() < 0.6:
                reply = proc.cmd(cmd="press")
                presses += 1
            else:
                reply = proc.cmd(cmd="status")
                statuses += 1
            assert reply["ok"], reply
            pause = min(rng.uniform(*ACTION_EVERY_S), max(end - time.monotonic(), 0.0))
            if reply.get("state") == "session" and reply.get("phase") != "closing" and pause > 1.5:
                host_before = HostSample.of_thread(proc.pid)
                window_start = time.monotonic()
                before = len(proc.trace_lines())
                time.sleep(1.0)
                after = len(proc.trace_lines())
                window_end = time.monotonic()
                host = HostSample.of_thread(proc.pid).since(host_before)
                if proc.cmd(cmd="status").get("state") == "session":
                    windows.append(
                        Window(
                            start_s=round(window_start - start, 3),
                            length_s=round(window_end - window_start, 3),
                            frames=after - before,
                            host=host,
                        )
                    )
                pause -= 1.0
            time.sleep(max(pause, 0.0))
        proc.cmd(cmd="stop")
        time.sleep(1.5)
        assert proc.fds() == fds
        assert _threads(proc.pid) == threads
        rss1 = _rss_kb(proc.pid)
        assert proc.stop() == 0
        log = proc.stderr()
        # The one clock line is a warning on a host whose clock is not synchronised (no NTP).
        bad = [
            line
            for line in log.splitlines()
            if not line.startswith("INFO ") and "the clock is not synchronised" not in line
        ]
        assert not bad, bad[:20]
        assert set(proc.trace_lines()[-1]) == {"0"}
        if windows_file is not None:
            windows_file.write_text(json.dumps([asdict(w) for w in windows], indent=1))
        busy_samples = [w.frames for w in windows]
        assert busy_samples, "no session was measured"
        # A window short of frames fails, unless the host held the frame loop back then (it
        # waited for a CPU while the suite and the VM's image build ran beside it); those are
        # counted, and too many of them fail the run too.
        short = [w for w in windows if w.short]
        by_host = [w for w in short if w.held_back_by_host]
        assert not [w for w in short if not w.held_back_by_host], short
        assert len(by_host) <= MAX_HOST_HELD_SHARE * len(windows), (
            f"the host held the frame loop back in {len(by_host)} of {len(windows)} windows: "
            f"too busy to measure; {by_host}"
        )
        return {
            "presses": presses,
            "statuses": statuses,
            "rss_kb": (rss0, rss1),
            "fps": (min(busy_samples), max(busy_samples)),
            "windows": len(busy_samples),
            "short_windows_held_back_by_host": [(w.start_s, w.frames) for w in by_host],
        }
    finally:
        proc.close()


def test_soak_30_seconds(tmp_path):
    figures = soak(short_tmp(tmp_path), SHORT_S)
    print(f"soak {SHORT_S:g} s: {figures}")


@pytest.mark.skipif(
    not (os.environ.get("BREATHRING_SOAK") == "1" or os.environ.get("BREATHRING_SOAK_SECONDS")),
    reason="the 10-minute soak runs only with BREATHRING_SOAK=1",
)
def test_soak_ten_minutes(tmp_path):
    seconds = float(os.environ.get("BREATHRING_SOAK_SECONDS", LONG_S))
    figures = soak(short_tmp(tmp_path), seconds, tmp_path / "soak-windows.json")
    rss0, rss1 = figures["rss_kb"]
    assert rss1 - rss0 <= MAX_RSS_GROWTH_KB, figures
    print(f"soak {seconds:g} s: {figures}")


def _window(frames: int, wait_ms: float, steal_ms: float = 0.0, cpu_ms: float = 30.0) -> Window:
    share = HostShare(
        cpu_ms=20.0,
        wait_ms=wait_ms,
        process_cpu_ms=cpu_ms,
        steal_ms=steal_ms,
        cpu_pressure_ms=0.0,
        io_pressure_ms=0.0,
    )
    return Window(start_s=0.0, length_s=1.0, frames=frames, host=share)


@pytest.mark.parametrize(
    ("window", "by_host"),
    [
        # 10 frames (200 ms) lost while the frame loop waited 190 ms for a CPU: the host's.
        (_window(40, wait_ms=190.0), True),
        # ... or 50 ms waiting and 60 ms stolen by the hypervisor: 110 of 200 ms, the host's.
        (_window(40, wait_ms=50.0, steal_ms=60.0), True),
        # 200 ms lost with only 20 ms of waiting: the product's own stall.
        (_window(40, wait_ms=20.0), False),
        # Held back, but the service itself used 400 ms of CPU in that second: its own load.
        (_window(40, wait_ms=190.0, cpu_ms=400.0), False),
        # Not short of frames: nothing to excuse.
        (_window(50, wait_ms=300.0), False),
    ],
)
def test_a_short_window_is_the_hosts_only_when_it_held_the_frame_loop_back(window, by_host):
    assert window.held_back_by_host is by_host
