"""The real processes a user runs side by side: the service, `breathring web`, the bridge.

Every process is a child started as a user (or systemd) would start it, with
temporary RUNTIME_DIRECTORY/STATE_DIRECTORY and a config file. Tests wait on
conditions with deadlines (`wait_until`), never on fixed sleeps.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from testkit.mqtt import Broker
from testkit.net import LOOPBACK, free_port
from testkit.process import ServiceProcess
from testkit.waiting import DEADLINE_S

#: A one-breath custom session: 2 s lead-in, 0.5 s in, 0.5 s out, 2.5 s closing = 5.5 s.
SHORT_SESSION = """\
[session]
pattern = "custom"
breaths = 1
inhale = 0.5
exhale = 0.5
"""
SHORT_SESSION_S = 5.5
#: 32 random bytes as hex, as install.sh writes /etc/breathring/web.token.
TOKEN = "5b0e9c1d7a3f4e2b8c6d0a1f9e7b3c5d2a4f6e8b0c1d3e5f7a9b2c4d6e8f0a1b"
HTTP_TIMEOUT_S = 5.0


def end(proc: subprocess.Popen[Any]) -> None:
    """SIGTERM, as systemd stops a unit; SIGKILL if it is still there after DEADLINE_S."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(DEADLINE_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


# -- the service ---------------------------------------------------------------------------


class Device:
    """The LED service on mock hardware in `base`, restartable on the same directories."""

    def __init__(self, base: Path, config: str = SHORT_SESSION) -> None:
        self.base = base
        self.config_text = config
        self.service = self._start()

    def _start(self) -> ServiceProcess:
        service = ServiceProcess(self.base, config=self.config_text)
        service.wait_ready()
        return service

    @property
    def env(self) -> dict[str, str]:
        return self.service.env

    @property
    def socket_path(self) -> Path:
        return self.service.socket_path

    def cli(self, *args: str) -> subprocess.CompletedProcess[str]:
        """`breathring ARGS` with this device's environment (it finds the socket as a user's)."""
        return self.service.cli(*args)

    def cli_json(self, *args: str) -> dict[str, Any]:
        result = self.cli(*args, "--json")
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def status(self) -> dict[str, Any]:
        return self.cli_json("status")

    def kill_and_restart(self) -> None:
        """SIGKILL (a power cut for the process), then start again on the same directories."""
        self.service.proc.send_signal(signal.SIGKILL)
        self.service.proc.wait(DEADLINE_S)
        self.service.close()
        self.service = self._start()

    def close(self) -> None:
        self.service.close()


# -- breathring web ----------------------------------------------------------------------------


@dataclass
class HttpReply:
    status: int
    body: Any


class WebProcess:
    """`breathring web --listen 127.0.0.1:PORT --token-file F` next to a device."""

    def __init__(self, device: Device, token: str = TOKEN) -> None:
        self.port = free_port()
        self.token = token
        self.token_file = device.base / "web.token"
        self.token_file.write_text(token + "\n")
        self.token_file.chmod(0o640)
        self.url = f"http://{LOOPBACK}:{self.port}"
        self.log = device.base / "web.log"
        started = time.monotonic()
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "breathring.cli",
                "web",
                "--listen",
                f"{LOOPBACK}:{self.port}",
                "--token-file",
                str(self.token_file),
            ],
            env=device.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self._wait_listening()
        #: Seconds from exec to the "listening on" line.
        self.start_s = time.monotonic() - started

    def _wait_listening(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "listening on" in line:
                threading.Thread(target=self._drain, daemon=True).start()
                return
        raise AssertionError(f"breathring web exited {self.proc.wait()} before listening")

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        with self.log.open("w") as out:
            for line in self.proc.stderr:
                out.write(line)
                out.flush()

    def request(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> HttpReply:
        """One API call (Bearer `token`, by default the right one; "" sends none)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, method=method, data=data)
        token = self.token if token is None else token
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=HTTP_TIMEOUT_S) as response:
                return HttpReply(response.status, json.loads(response.read() or b"null"))
        except urllib.error.HTTPError as exc:
            return HttpReply(exc.code, json.loads(exc.read() or b"null"))

    def close(self) -> None:
        end(self.proc)


# -- the bridge --------------------------------------------------------------------


class BridgeProcess:
    """`breathring mqtt --config C`; C: the device's config and `[mqtt] host, port, device_id`."""

    def __init__(self, device: Device, broker: Broker, device_id: str) -> None:
        self.config = device.base / "with-mqtt.toml"
        self.config.write_text(
            device.config_text
            + f'\n[mqtt]\nhost = "{LOOPBACK}"\nport = {broker.port}\ndevice_id = "{device_id}"\n'
        )
        self.log = device.base / "bridge.log"
        self._argv = [sys.executable, "-m", "breathring.cli", "mqtt", "--config", str(self.config)]
        self._env = device.env
        self.proc = self._start()

    def _start(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(self._argv, env=self._env, stdout=log, stderr=subprocess.STDOUT)

    def kill(self) -> None:
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(DEADLINE_S)

    def restart(self) -> None:
        self.proc = self._start()

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def close(self) -> None:
        end(self.proc)
