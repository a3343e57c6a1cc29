"""The one launcher of the real service process in the tests.

`ServiceProcess` runs `breathring run --hardware mock` as systemd would
(NOTIFY_SOCKET, RUNTIME_DIRECTORY, STATE_DIRECTORY, BREATHRING_CONFIG) through
testkit/traced_run.py, which appends every frame the mock ring's bus carries to
$BREATHRING_TEST_TRACE (a test hook, not the product's), reads its notify
messages and talks to its control socket. Used through the `service_process`
fixture (testkit/plugin.py), by the end-to-end stack and by the reliability tests;
`CliService` is the same process without NOTIFY_SOCKET, ready once `breathring status`
answers. `run_cli` runs `breathring ARGS` (or any `python ARGS`) as a user would.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from testkit.control import ask
from testkit.paths import ROOT
from testkit.waiting import wait_until

#: A real process gets this long to start and to answer (a loaded CI machine).
START_TIMEOUT_S = 15.0
#: CliService waits this long for its first answer.
CLI_START_TIMEOUT_S = 10.0
#: One breath of 1 s in, 1 s out: lead-in 2 s + 2 s + closing 2.5 s = 6.5 s.
SHORT_SESSION = '[session]\npattern = "custom"\ninhale = 1.0\nexhale = 1.0\nbreaths = 1\n'
#: A CLI client call gets this long.
CLI_TIMEOUT_S = 20.0
#: The wrapper that runs the product and traces the mock ring's frames.
TRACED_RUN = Path(__file__).resolve().parent / "traced_run.py"


def product_env(extra: Mapping[str, str | None] | None = None) -> dict[str, str]:
    """This environment with the product on PYTHONPATH and `extra` (None removes a variable)."""
    env: dict[str, str | None] = {**os.environ, "PYTHONPATH": str(ROOT / "firmware")}
    env.update(extra or {})
    return {k: v for k, v in env.items() if v is not None}


def run_cli(
    *args: str,
    env: Mapping[str, str | None] | None = None,
    python: Sequence[str] = ("-m", "breathring.cli"),
    timeout: float = CLI_TIMEOUT_S,
) -> subprocess.CompletedProcess[str]:
    """`breathring ARGS` (`python ARGS` with another `python`) as a user runs it; text output."""
    return subprocess.run(
        [sys.executable, *python, *args],
        env=product_env(env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


class ServiceProcess:
    """`breathring run --hardware mock` as a child process, with systemd's environment.

    `extra_env` adds or overrides variables; a value of None removes one.
    """

    def __init__(
        self,
        base: Path,
        config: str = "",
        extra_env: Mapping[str, str | None] | None = None,
        notify: bool = True,
        start: bool = True,
    ) -> None:
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
        self.notify: socket.socket | None = None
        if notify:
            self.notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
            if self.notify_path.exists():
                self.notify_path.unlink()
            self.notify.bind(str(self.notify_path))
        #: Every notify message line, with the monotonic time it arrived.
        self.messages: list[tuple[float, str]] = []
        self.env = product_env(
            {
                "NOTIFY_SOCKET": str(self.notify_path) if notify else None,
                "RUNTIME_DIRECTORY": str(self.run_dir),
                "STATE_DIRECTORY": str(self.state_dir),
                "BREATHRING_CONFIG": str(self.config),
                "BREATHRING_TEST_TRACE": str(self.trace),
                "JOURNAL_STREAM": "1:1",
                **(extra_env or {}),
            }
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self._stderr: IO[str] | None = None
        if start:
            self.launch()

    def launch(self) -> None:
        """Start the process (again, after it ended), its stderr to a fresh stderr.log."""
        if self._stderr is not None:
            self._stderr.close()
        self._stderr = self.stderr_path.open("w")
        self.proc = subprocess.Popen(
            [sys.executable, str(TRACED_RUN), "run", "--hardware", "mock"],
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=self._stderr,
        )

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def _record(self, data: str) -> None:
        now = time.monotonic()
        self.messages.extend((now, line) for line in data.splitlines())

    def receive(self, until: str, timeout: float) -> bool:
        """Collect notify messages until one contains `until`; False on timeout."""
        assert self.notify is not None, "started without NOTIFY_SOCKET"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.notify.settimeout(max(deadline - time.monotonic(), 0.01))
            try:
                data = self.notify.recv(4096).decode()
            except TimeoutError:
                break
            self._record(data)
            if until in data:
                return True
        return False

    def wait_ready(self, timeout: float = START_TIMEOUT_S, drain: bool = True) -> None:
        """Wait for READY=1; then (`drain`) read notify messages in the background, as systemd."""
        if not self.receive("READY=1", timeout):
            raise AssertionError(f"no READY=1 within {timeout} s: {self.stderr()}")
        if drain:
            threading.Thread(target=self._drain, daemon=True).start()

    def _drain(self) -> None:
        assert self.notify is not None
        self.notify.settimeout(None)
        while True:
            try:
                self._record(self.notify.recv(4096).decode())
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
        """One JSON request on the control socket, and its reply."""
        return ask(self.socket_path, **fields)

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`breathring ARGS` as a user runs it, next to this service (its environment)."""
        unset: dict[str, str | None] = {k: None for k in os.environ if k not in self.env}
        return run_cli(*args, env={**unset, **self.env})

    def fds(self) -> int:
        return len(os.listdir(f"/proc/{self.pid}/fd"))

    def trace_lines(self) -> list[str]:
        return self.trace.read_text().split() if self.trace.exists() else []

    def last_frame(self) -> list[int]:
        """The wire values of the last frame sent to the ring."""
        return list(bytes.fromhex(self.trace_lines()[-1]))

    def stderr(self) -> str:
        """What the last launch wrote to stderr so far."""
        if self._stderr is not None and not self._stderr.closed:
            self._stderr.flush()
        return self.stderr_path.read_text() if self.stderr_path.exists() else ""

    def stop(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            self.proc.terminate()
        code = self.proc.wait(timeout=timeout)
        self.close()
        return code

    def close(self) -> None:
        """Kill the process if it still runs; close the notify socket and the stderr file."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.notify is not None:
            with contextlib.suppress(OSError):
                self.notify.shutdown(socket.SHUT_RDWR)
            self.notify.close()
        if self._stderr is not None:
            self._stderr.close()


class CliService(ServiceProcess):
    """The service without NOTIFY_SOCKET, ready once `breathring status` answers.

    Its directories in `tmp_path`; start() again after kill() or stop().
    """

    def __init__(self, tmp_path: Path, config: str = SHORT_SESSION) -> None:
        super().__init__(tmp_path, config=config, notify=False, start=False)
        self.tmp = tmp_path
        self.state = self.state_dir
        self.socket = self.socket_path

    def start(self) -> None:
        self.launch()
        wait_until(self._answers, CLI_START_TIMEOUT_S, "the service to answer `status`")

    def _answers(self) -> bool:
        assert self.proc is not None and self.proc.poll() is None, self.stderr()
        return self.cli("status").returncode == 0

    def json(self, *args: str) -> dict:
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def wait_idle(self, timeout: float) -> None:
        wait_until(lambda: self.json("status")["state"] == "idle", timeout, "the session to end")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()
        self.proc.wait(timeout=5)

    def stop(self, timeout: float = 5.0) -> str:  # type: ignore[override]
        """SIGTERM; the process must exit 0. What it wrote to stderr."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        assert self.proc.wait(timeout=timeout) == 0
        return self.stderr()
