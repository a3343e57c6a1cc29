"""Measure the bridge's idle CPU and memory (not a test; for docs/benchmarks.md).

    .venv/bin/python tests/mqtt/measure_idle.py [SECONDS]

Starts mosquitto on a free loopback port, the fake control socket and
`python -m breathring.mqtt` as a real process; once the bridge is online,
reads utime+stime from /proc/PID/stat over SECONDS (default 60) of idle, and
VmRSS / VmHWM from /proc/PID/status. Prints one JSON line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE.parents[1] / "firmware"))

from testkit import LOOPBACK, free_port  # noqa: E402
from testkit.fake_service import FakeService  # noqa: E402
from testkit.mqtt import Broker, Watcher  # noqa: E402

DEFAULT_SECONDS = 60.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of stat(5)
    return (utime + stime) / CLOCK_TICKS


def status_kib(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def main() -> int:
    seconds = float(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_SECONDS
    with tempfile.TemporaryDirectory(prefix="br-idle-") as d:
        work = Path(d)
        broker = Broker(work, free_port()).start()
        service = FakeService(work / "control.sock").start()
        config = work / "config.toml"
        config.write_text(
            f'[mqtt]\nhost = "{LOOPBACK}"\nport = {broker.port}\ndevice_id = "idle"\n'
        )
        env = {**os.environ, "PYTHONPATH": str(HERE.parents[1] / "firmware")}
        bridge = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "breathring.mqtt",
                "--config",
                str(config),
                "--socket",
                str(service.path),
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        watcher = Watcher(broker.port)
        try:
            watcher.wait_for("breathring/idle/availability", "online")
            watcher.close()
            start = cpu_seconds(bridge.pid)
            threading.Event().wait(seconds)  # idle on purpose: this is the measurement
            used = cpu_seconds(bridge.pid) - start
            result = {
                "idle_seconds": seconds,
                "cpu_seconds": round(used, 3),
                "cpu_percent": round(100 * used / seconds, 3),
                "rss_kib": status_kib(bridge.pid, "VmRSS"),
                "peak_rss_kib": status_kib(bridge.pid, "VmHWM"),
                "threads": int(status_kib(bridge.pid, "Threads")),
            }
        finally:
            bridge.terminate()
            bridge.wait(10)
            service.stop()
            broker.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
