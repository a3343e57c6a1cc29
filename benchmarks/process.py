"""`breathring run --hardware mock` as a real process: start-up, idle and session CPU, memory.

Start-up: from just before the process is started to READY=1 on our
NOTIFY_SOCKET. CPU: utime + stime from /proc/<pid>/stat over a stretch of
wall time. Wake-ups: the context switches of every thread (/proc/<pid>/task/*/status),
each one a thread that woke (what `strace -f -c` counts as returns from blocking calls).
Memory: VmHWM and VmRSS from /proc/<pid>/status, idle and after a session. The config
turns the hourly reminder off, so no pulse falls into the idle measurement; idle is
measured once the sound device has been closed (5 s after the start).
"""

from __future__ import annotations

import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from breathring.control.client import send_request

from .common import FIRMWARE

#: The sound device closes after 5 s without a sound (600 by default), so that idle is
#: measured in the state the device is in for most of the day.
CONFIG = "[reminder]\nenabled = false\n\n[audio]\nidle_close_seconds = 5\n"
#: As the shipped unit: WatchdogSec=30, so the service pings every 15 s.
WATCHDOG_USEC = 30_000_000
READY_TIMEOUT_S = 20.0
#: The service closes its idle sound device 5 s after the start; idle is measured from 8 s on.
SETTLE_S = 8.0
#: The session measurement starts this long after the press (the first frames are drawn).
SESSION_SKIP_S = 0.5
#: Session CPU is the median of this many consecutive windows of one session.
SESSION_WINDOWS = 3
KB_PER_MB = 1024.0


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid`, in seconds."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def memory_mb(pid: int) -> dict[str, float]:
    """VmHWM (peak) and VmRSS of `pid`, in MB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmHWM", "VmRSS"):
            out[key] = int(value.split()[0]) / KB_PER_MB
    return out


def wakeups(pid: int) -> int:
    """Context switches (voluntary and not) of every thread of `pid` so far."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            lines = status.read_text().splitlines()
        except OSError:  # the thread ended meanwhile
            continue
        for line in lines:
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


class ServiceProcess:
    """One service process in a temp dir, with its notify socket."""

    def __init__(self, tmp: Path, config: str = CONFIG) -> None:
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(tmp / "notify.sock"))
        (tmp / "run").mkdir()
        (tmp / "state").mkdir()
        (tmp / "config.toml").write_text(config)
        self.socket = tmp / "run" / "control.sock"
        env = dict(
            os.environ,
            PYTHONPATH=os.pathsep.join([str(FIRMWARE), os.environ.get("PYTHONPATH", "")]),
            NOTIFY_SOCKET=str(tmp / "notify.sock"),
            WATCHDOG_USEC=str(WATCHDOG_USEC),
            RUNTIME_DIRECTORY=str(tmp / "run"),
            STATE_DIRECTORY=str(tmp / "state"),
            BREATHRING_CONFIG=str(tmp / "config.toml"),
            JOURNAL_STREAM="1:1",
        )
        cmd = [sys.executable, "-m", "breathring.cli", "run", "--hardware", "mock"]
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        self.startup_s = self._wait_ready()

    def _wait_ready(self) -> float:
        deadline = time.perf_counter() + READY_TIMEOUT_S
        while True:
            self.notify.settimeout(max(deadline - time.perf_counter(), 0.01))
            try:
                data = self.notify.recv(4096)
            except TimeoutError:
                raise RuntimeError("the service sent no READY=1 in time") from None
            if b"READY=1" in data.split(b"\n"):
                return time.perf_counter() - self.started

    def press(self) -> dict[str, Any]:
        """Start a session over the control socket; back once its first frames are drawn."""
        reply = send_request(self.socket, {"cmd": "press"})
        if not reply.get("ok"):
            raise RuntimeError(f"press failed: {reply}")
        time.sleep(SESSION_SKIP_S)
        return reply

    def cpu_pct(self, seconds: float) -> float:
        """Share of one core the process used over the next `seconds`."""
        return self.cpu_and_wakeups(seconds)[0]

    def cpu_and_wakeups(self, seconds: float) -> tuple[float, float]:
        """Share of one core, and wake-ups a second, over the next `seconds`."""
        pid = self.proc.pid
        cpu0, woke0, wall0 = cpu_seconds(pid), wakeups(pid), time.perf_counter()
        time.sleep(seconds)
        cpu1, woke1, wall1 = cpu_seconds(pid), wakeups(pid), time.perf_counter()
        wall = wall1 - wall0
        return 100.0 * (cpu1 - cpu0) / wall, (woke1 - woke0) / wall

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.notify.close()


def measure(idle_s: float = 30.0, session_s: float = 10.0, starts: int = 3) -> dict[str, Any]:
    """Start-up (median of `starts`), idle CPU, session CPU and memory of the service."""
    startups = []
    result: dict[str, float] = {}
    session_runs: list[float] = []
    for k in range(starts):
        with tempfile.TemporaryDirectory(prefix="breathring-bench-") as tmp:
            service = ServiceProcess(Path(tmp))
            try:
                startups.append(service.startup_s)
                if k < starts - 1:
                    continue
                time.sleep(SETTLE_S)
                idle_cpu, idle_wakeups = service.cpu_and_wakeups(idle_s)
                result["idle_cpu_pct"] = idle_cpu
                result["idle_wakeups_per_s"] = idle_wakeups
                result["idle_rss_mb"] = memory_mb(service.proc.pid)["VmRSS"]
                reply = service.press()
                # Consecutive windows of the one session (as many as fit, up to
                # SESSION_WINDOWS): the median is steadier than one window on a shared host.
                fit = int((float(reply.get("remaining") or 0.0) - SESSION_SKIP_S) // session_s)
                windows = min(max(fit, 1), SESSION_WINDOWS)
                runs = [service.cpu_pct(session_s) for _ in range(windows)]
                result["session_cpu_pct"] = statistics.median(runs)
                session_runs = [round(x, 4) for x in runs]
                mem = memory_mb(service.proc.pid)
                result["rss_mb"] = mem["VmHWM"]
                result["rss_now_mb"] = mem["VmRSS"]
            finally:
                service.close()
    result["startup_s"] = statistics.median(startups)
    return {k: round(v, 4) for k, v in result.items()} | {"session_cpu_pct_runs": session_runs}


if __name__ == "__main__":
    import json

    print(json.dumps(measure(idle_s=5, session_s=5), indent=2))
