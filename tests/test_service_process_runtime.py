"""Settings, history and watch of `breathring run --hardware mock` as a real process."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from testkit.paths import ROOT
from testkit.process import TRACED_RUN

START_TIMEOUT_S = 10.0
#: One breath of 1 s in, 1 s out: lead-in 2 s + 2 s + closing 2.5 s.
SHORT = '[session]\npattern = "custom"\ninhale = 1.0\nexhale = 1.0\nbreaths = 1\n'
SESSION_S = 6.5


class Device:
    """The service as systemd would start it, with its own runtime and state directories."""

    def __init__(self, tmp_path: Path, config: str = SHORT) -> None:
        self.tmp = tmp_path
        self.config = tmp_path / "config.toml"
        self.config.write_text(config)
        self.state = tmp_path / "state"
        self.run_dir = tmp_path / "run"
        self.trace = tmp_path / "ring.trace"
        self.state.mkdir(exist_ok=True)
        self.run_dir.mkdir(exist_ok=True)
        self.socket = self.run_dir / "control.sock"
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT / "firmware"),
            RUNTIME_DIRECTORY=str(self.run_dir),
            STATE_DIRECTORY=str(self.state),
            BREATHRING_CONFIG=str(self.config),
            BREATHRING_TEST_TRACE=str(self.trace),
            JOURNAL_STREAM="1:1",
        )
        self.env.pop("NOTIFY_SOCKET", None)
        self.proc: subprocess.Popen[str] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, str(TRACED_RUN), "run", "--hardware", "mock"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + START_TIMEOUT_S
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.proc.stderr.read()
            if self.cli("status").returncode == 0:
                return
            time.sleep(0.05)
        raise AssertionError("the service did not answer in time")

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "breathring.cli", *args],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=20,
        )

    def json(self, *args: str) -> dict:
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_idle(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.json("status")["state"] == "idle":
                return
            time.sleep(0.1)
        raise AssertionError("the session did not end")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=5)

    def stop(self) -> str:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=5) == 0
        return self.proc.stderr.read()

    def close(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture
def device(tmp_path):
    d = Device(tmp_path)
    yield d
    d.close()


def test_a_finished_session_is_counted_and_survives_sigkill(device):
    device.start()
    assert device.cli("press").returncode == 0
    device.wait_idle(SESSION_S + 5)  # a real process in real time
    today = device.json("stats")["today"]
    assert (today["sessions"], today["completed"], today["breaths"]) == (1, 1, 1)
    device.kill()
    device.start()
    stats = device.json("stats", "--days", "3")
    assert (stats["today"]["sessions"], stats["today"]["completed"]) == (1, 1)
    assert len(stats["days"]) == 3
    png = device.tmp / "chart.png"
    assert device.cli("stats", "--png", str(png)).returncode == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    bad = device.cli("stats", "--png", str(device.tmp / "no" / "such" / "dir" / "c.png"))
    assert bad.returncode == 73 and len(bad.stderr.strip().splitlines()) == 1
    assert device.cli("history", "--clear").returncode == 0
    assert device.json("stats")["today"]["sessions"] == 0


def test_settings_set_refuse_persist_and_fall_back(device):
    device.config.write_text(SHORT + "[night]\nbrightness = 0.04\n")
    device.start()
    ok = device.cli("set", "ring.brightness", "0.3")
    assert ok.returncode == 0, ok.stderr
    bad = device.cli("set", "ring.brightness", "7")
    assert bad.returncode == 78 and "ring.brightness" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    pixels = device.cli("set", "ring.pixels", "30")
    assert pixels.returncode == 78 and "restart" in pixels.stderr
    colour = device.cli("set", "ring.color", "#FF8C32")  # a bare word: taken as a string
    assert colour.returncode == 0, colour.stderr
    settings = device.json("settings")["settings"]
    assert settings["ring.brightness"] == {"value": 0.3, "source": "settings"}
    assert settings["ring.color"] == {"value": "#FF8C32", "source": "settings"}
    assert settings["night.brightness"] == {"value": 0.04, "source": "config"}
    assert settings["ring.pixels"] == {"value": 24, "source": "default"}

    device.stop()
    device.start()  # survives a restart
    assert device.json("settings")["settings"]["ring.brightness"]["value"] == 0.3
    assert device.cli("unset", "ring.color").returncode == 0
    assert device.json("settings")["settings"]["ring.color"]["source"] == "default"

    device.stop()
    (device.state / "settings.toml").write_text("[ring]\nbrightness = \n")
    device.start()
    settings = device.json("settings")["settings"]
    assert settings["ring.brightness"] == {"value": 0.5, "source": "default"}
    assert settings["night.brightness"] == {"value": 0.04, "source": "config"}
    stderr = device.stop()
    assert stderr.count("corrupt settings") == 1 and "Traceback" not in stderr
    assert (device.state / "settings.toml.corrupt").exists()


def test_set_without_a_service_exits_69(tmp_path):
    d = Device(tmp_path)
    result = d.cli("set", "ring.brightness", "0.3")
    assert result.returncode == 69 and "not running" in result.stderr


def watch(path: Path) -> tuple[socket.socket, object]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(path))
    sock.sendall(b'{"cmd": "watch"}\n')
    sock.settimeout(10)
    return sock, sock.makefile("r")


def test_watch_follows_a_session_and_a_silent_watcher_stalls_nothing(device):
    device.start()
    silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    silent.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
    silent.connect(str(device.socket))
    silent.sendall(b'{"cmd": "watch"}\n')  # and never reads
    sock, lines = watch(device.socket)
    first = json.loads(lines.readline())
    assert first["kind"] == "status" and first["status"]["phase"] == "idle"
    frames_before = len(device.trace.read_text().split())
    assert device.cli("start", "--pattern", "custom").returncode == 0
    phases = []
    while not phases or phases[-1] != "idle":
        message = json.loads(lines.readline())
        if message["kind"] == "status":
            phases.append(message["status"]["phase"])
    assert phases == ["lead-in", "inhale", "exhale", "closing", "idle"]
    frames = len(device.trace.read_text().split()) - frames_before
    assert frames > 300  # 100 fps for most of the 6.5 s session
    assert device.json("status")["state"] == "idle"
    sock.close()
    silent.close()
