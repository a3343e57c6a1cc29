"""Shared helpers for the reliability tests: the service in virtual time, and as a process.

`Rig` runs `Service` on a FakeClock with mock hardware and records every frame
the engine renders (phase, cues, estimated current). `Proc` runs
`breathring run --hardware mock` as systemd would (NOTIFY_SOCKET, RUNTIME_DIRECTORY,
STATE_DIRECTORY, BREATHRING_MOCK_TRACE) and talks to its control socket.
"""

from __future__ import annotations

import contextlib
import os
import queue
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from breathring.clock import FakeClock, Now
from breathring.config import Config
from breathring.control_socket import ControlRequest, Request
from breathring.hw.mock import MockAudio, MockButton, MockRing
from breathring.hw.selection import Hardware
from breathring.service import Service
from breathring.state import StateStore

ROOT = Path(__file__).resolve().parents[2]
UTC = ZoneInfo("UTC")
#: A real process gets this long to start and to answer (a loaded CI machine).
START_TIMEOUT_S = 15.0
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
    frames: list[FrameRecord] = field(default_factory=list)
    keep_frames: bool = True
    #: The loop's waits never go past this monotonic time (run_for stops exactly on time).
    horizon: float = float("inf")

    @property
    def ring(self) -> MockRing:
        return self.hw.ring  # type: ignore[return-value]

    @property
    def audio(self) -> MockAudio:
        return self.hw.audio  # type: ignore[return-value]

    @property
    def button(self) -> MockButton:
        return self.hw.button  # type: ignore[return-value]

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
    hw = Hardware(
        MockRing(cfg.ring.pixels, order, keep=keep),
        MockButton(clock),
        MockAudio(clock, keep=keep),
        "mock",
    )

    def wait(timeout: float) -> object | None:
        try:
            return hw.button.events.get_nowait()
        except queue.Empty:
            clock.advance(min(timeout, max(rig.horizon - clock.monotonic(), 0.0)))
            return None

    store = StateStore(state_dir) if state_dir is not None else None
    service = Service(cfg, hw, clock, config_path=config_path, state=store, wait=wait)
    rig = Rig(service, clock, hw, keep_frames=keep_frames)
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


def short_tmp(tmp_path: Path) -> Path:
    """A directory with a short path: unix socket paths are limited to 108 bytes."""
    if len(str(tmp_path)) < 60:
        return tmp_path
    import tempfile

    return Path(tempfile.mkdtemp(prefix="br-"))


class Proc:
    """`breathring run --hardware mock` as a child process, with systemd's environment."""

    def __init__(self, base: Path, config: str = "", extra_env: dict | None = None) -> None:
        self.base = base
        self.run_dir = base / "run"
        self.state_dir = base / "state"
        self.run_dir.mkdir(exist_ok=True)
        self.state_dir.mkdir(exist_ok=True)
        self.config = base / "config.toml"
        self.config.write_text(config)
        self.trace = base / "ring.trace"
        self.socket_path = self.run_dir / "control.sock"
        self.stderr_path = base / "stderr.log"
        self.notify_path = base / "notify.sock"
        self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if self.notify_path.exists():
            self.notify_path.unlink()
        self.notify.bind(str(self.notify_path))
        self.messages: list[str] = []
        self.env = dict(
            os.environ,
            PYTHONPATH=str(ROOT / "firmware"),
            NOTIFY_SOCKET=str(self.notify_path),
            RUNTIME_DIRECTORY=str(self.run_dir),
            STATE_DIRECTORY=str(self.state_dir),
            BREATHRING_CONFIG=str(self.config),
            BREATHRING_MOCK_TRACE=str(self.trace),
            JOURNAL_STREAM="1:1",
        )
        self.env.update(extra_env or {})
        self.env = {k: v for k, v in self.env.items() if v is not None}
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "breathring.cli", "run", "--hardware", "mock"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def wait_ready(self, timeout: float = START_TIMEOUT_S, drain: bool = True) -> None:
        """Wait for READY=1, then read notify messages in the background, as systemd does."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.notify.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.notify.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(data)
            if "READY=1" in data:
                if drain:
                    threading.Thread(target=self._drain, daemon=True).start()
                return
        raise AssertionError(f"no READY=1 within {timeout} s: {self.stderr()}")

    def _drain(self) -> None:
        self.notify.settimeout(None)
        while True:
            try:
                self.messages.append(self.notify.recv(4096).decode())
            except OSError:
                return

    def request(self, line: bytes, timeout: float = 5.0) -> bytes:
        """Send raw bytes on one connection and read until the server closes."""
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.socket_path))
            sock.sendall(line)
            sock.shutdown(socket.SHUT_WR)
            out = bytearray()
            while chunk := sock.recv(65536):
                out += chunk
            return bytes(out)

    def cmd(self, **fields: object) -> dict:
        import json

        reply = self.request((json.dumps(fields) + "\n").encode())
        return json.loads(reply)

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def trace_lines(self) -> list[str]:
        return self.trace.read_text().split() if self.trace.exists() else []

    def stderr(self) -> str:
        if not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text()

    def stop(self, timeout: float = 10.0) -> int:
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        with contextlib.suppress(OSError):
            self.notify.shutdown(socket.SHUT_RDWR)
        self.notify.close()
        self._stderr.close()


def frames_per_second(lines_before: int, trace: Path, seconds: float) -> float:
    """Trace lines appended during `seconds` of real time, per second."""
    time.sleep(seconds)
    return (len(trace.read_text().split()) - lines_before) / seconds
