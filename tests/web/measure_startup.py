"""Measure `breathring web`: start-up (exec to the first 200 on /api/status) and RSS.

Run: .venv/bin/python tests/web/measure_startup.py [RUNS]. Uses the fake service and loopback.
Prints one JSON line: median start-up seconds, VmRSS after start and after 100 requests + a
live event stream.
"""

from __future__ import annotations

import json
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))

from testkit import free_port
from testkit.fake_service import FakeService
from testkit.web import TOKEN, start_web

AUTH = {"Authorization": f"Bearer {TOKEN}"}
POLL_S = 0.005
REQUESTS = 100


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def get(url: str) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=AUTH), timeout=5) as r:
            r.read()
            return r.status
    except (urllib.error.URLError, ConnectionError):
        return 0


def one_run(tmp: Path, fake: FakeService) -> tuple[float, int, int]:
    port = free_port()
    url = f"http://127.0.0.1:{port}/api/status"
    began = time.monotonic()
    proc = start_web(port, tmp / "web.token", fake.path)
    try:
        while get(url) != 200:
            if proc.poll() is not None:
                raise RuntimeError(proc.stderr.read() if proc.stderr else "exited")
            time.sleep(POLL_S)
        startup = time.monotonic() - began
        rss_start = rss_kib(proc.pid)
        events = urllib.request.urlopen(
            urllib.request.Request(f"http://127.0.0.1:{port}/api/events", headers=AUTH), timeout=5
        )
        events.readline()
        for _ in range(REQUESTS):
            get(url)
        rss_busy = rss_kib(proc.pid)
        events.close()
        return startup, rss_start, rss_busy
    finally:
        proc.terminate()
        proc.wait(10)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory(prefix="brw-", dir="/tmp") as name:
        tmp = Path(name)
        (tmp / "web.token").write_text(TOKEN + "\n")
        (tmp / "web.token").chmod(0o640)  # breathring web refuses a token others can read
        fake = FakeService(tmp / "control.sock").start()
        try:
            results = [one_run(tmp, fake) for _ in range(runs)]
        finally:
            fake.stop()
    print(
        json.dumps(
            {
                "runs": runs,
                "startup_s_median": round(statistics.median(r[0] for r in results), 3),
                "startup_s_max": round(max(r[0] for r in results), 3),
                "rss_kib_after_start_median": statistics.median(r[1] for r in results),
                "rss_kib_after_100_requests_and_a_live_stream": statistics.median(
                    r[2] for r in results
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
