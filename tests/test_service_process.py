"""`breathring run --hardware mock` as systemd would start it: a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
#: Generous bounds for a loaded CI machine; the service itself is much faster.
START_TIMEOUT_S = 10.0
WATCHDOG_USEC = 200_000


class Service:
    def __init__(self, tmp_path: Path, config: str = "") -> None:
        self.tmp = tmp_path
        self.notify_path = tmp_path / "notify.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.notify.bind(str(self.notify_path))
        self.config = tmp_path / "config.toml"
        self.config.write_text(config)
        self.trace = tmp_path / "ring.trace"
        (tmp_path / "run").mkdir()
        (tmp_path / "state").mkdir()
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT / "firmware"),
            NOTIFY_SOCKET=str(self.notify_path),
            WATCHDOG_USEC=str(WATCHDOG_USEC),
            RUNTIME_DIRECTORY=str(tmp_path / "run"),
            STATE_DIRECTORY=str(tmp_path / "state"),
            BREATHRING_CONFIG=str(self.config),
            BREATHRING_MOCK_TRACE=str(self.trace),
            JOURNAL_STREAM="1:1",
        )
        self.messages: list[tuple[float, str]] = []
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "breathring.cli", "run", "--hardware", "mock"],
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def receive(self, until: str, timeout: float) -> bool:
        """Collect notify messages until one contains `until`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.notify.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.notify.recv(4096).decode()
            except TimeoutError:
                break
            for line in data.splitlines():
                self.messages.append((time.monotonic(), line))
            if until in data:
                return True
        return False

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breathring.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=20,
        )

    def last_frame(self) -> list[int]:
        lines = self.trace.read_text().split()
        return list(bytes.fromhex(lines[-1]))

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.notify.close()


#: The service's "old" configuration differs from the defaults, so a bad reload that
#: fell back to the defaults instead of keeping it would show (the pattern would change).
OLD_CONFIG = '[session]\npattern = "box"\n[ring]\nbrightness = 0.5\n'


@pytest.fixture
def service(tmp_path):
    s = Service(tmp_path, OLD_CONFIG)
    yield s
    s.close()


def frame_totals(service: Service) -> list[int]:
    return [sum(bytes.fromhex(line)) for line in service.trace.read_text().split()]


def test_ready_watchdog_control_reload_and_clean_stop(service):
    assert service.receive("READY=1", START_TIMEOUT_S), service.proc.stderr
    # Watchdog pings keep coming at about half of WATCHDOG_USEC.
    service.messages.clear()
    service.receive("never", 1.0)
    pings = [t for t, m in service.messages if m == "WATCHDOG=1"]
    assert len(pings) >= 5
    gaps = [b - a for a, b in pairwise(pings)]
    assert max(gaps) < WATCHDOG_USEC / 1e6  # never late enough for systemd to act

    result = service.cli("press")
    assert result.returncode == 0, result.stderr
    status = json.loads(service.cli("status", "--json").stdout)
    assert status["state"] == "session" and status["pattern"] == "box"

    # A broken file on SIGHUP: reported, old configuration kept, still running.
    service.config.write_text("[ring]\nbrightness = 7\n")
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)  # a real process: give it a moment to read the file
    assert service.proc.poll() is None
    assert service.cli("stop").returncode == 0
    time.sleep(1.0)  # the cancelled session has faded out
    assert service.cli("press").returncode == 0
    status = json.loads(service.cli("status", "--json").stdout)
    assert status["pattern"] == "box"  # the old configuration, not the defaults

    time.sleep(4.5)  # well into the first in-breath: the ring is lit
    lit = frame_totals(service)[-1]
    assert lit > 0
    sent_after = len(frame_totals(service))
    sent = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    assert service.receive("STOPPING=1", 2.0)
    code = service.proc.wait(timeout=5)
    elapsed = time.monotonic() - sent
    stderr = service.proc.stderr.read()
    assert code == 0, stderr
    assert elapsed < 1.0
    after = frame_totals(service)[sent_after - 1 :]
    # A fade, not a cut: several frames between the lit level and dark.
    assert sum(1 for total in after if 0.1 * lit < total < 0.9 * lit) >= 5, after
    assert after[-1] == 0, after  # dark at exit
    assert "reload failed, keeping the old configuration" in stderr
    assert "ring.brightness" in stderr
    assert "Traceback" not in stderr


def test_bad_config_at_start_exits_78(tmp_path):
    s = Service(tmp_path, config="[ring]\npixles = 3\n")
    try:
        assert s.proc.wait(timeout=20) == 78
        err = s.proc.stderr.read()
        assert "ring.pixles" in err and "did you mean ring.pixels" in err
        assert "Traceback" not in err
    finally:
        s.close()


def test_client_without_service_says_so(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "firmware"), RUNTIME_DIRECTORY=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "breathring.cli", "status"], env=env, capture_output=True, text=True
    )
    assert result.returncode == 69
    assert "breathring is not running" in result.stderr
