"""The real processes a user runs side by side: the service, web, mosquitto, the bridge.

Every process is a child started as a user (or systemd) would start it, with
temporary RUNTIME_DIRECTORY/STATE_DIRECTORY and a config file. Tests wait on
conditions with deadlines (`wait_until`), never on fixed sleeps.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

TESTS = Path(__file__).resolve().parents[1]
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

from service_process import ServiceProcess  # noqa: E402

LOOPBACK = "127.0.0.1"
#: How long a process gets to start, or a condition to come true, on a loaded 2-core machine.
DEADLINE_S = 15.0
#: Between two looks at a condition (an Event wait, not a sleep that makes a test pass).
POLL_S = 0.02
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


def wait_until(condition: Callable[[], Any], timeout: float = DEADLINE_S, what: str = "") -> Any:
    """condition()'s first truthy value; AssertionError naming `what` after `timeout`."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        pause.wait(POLL_S)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def need_binary(name: str, package: str) -> str:
    """A binary's path; skip without it, except under CI (CI=true), where that is a failure."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        message = f"{name} not installed (apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; under CI it must be installed", pytrace=False)
        pytest.skip(message)
    return found


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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


# -- mosquitto and the bridge --------------------------------------------------------------------


class Broker:
    """Debian's mosquitto on 127.0.0.1:PORT, anonymous, no persistence (as tests/mqtt starts it)."""

    def __init__(self, workdir: Path) -> None:
        self.binary = need_binary("mosquitto", "mosquitto")
        self.port = free_port()
        self.config = workdir / "mosquitto.conf"
        self.log = workdir / "mosquitto.log"
        lines = [
            f"listener {self.port} {LOOPBACK}",
            "persistence false",
            "allow_anonymous true",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
        ]
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to "mosquitto", who cannot read our files
        self.config.write_text("\n".join(lines) + "\n")
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_until(self._accepts, DEADLINE_S, f"mosquitto on port {self.port}")

    def _accepts(self) -> bool:
        if self.proc.poll() is not None:
            raise AssertionError(f"mosquitto exited: {self.log.read_text(errors='replace')}")
        with socket.socket() as sock:
            return sock.connect_ex((LOOPBACK, self.port)) == 0

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(DEADLINE_S)


@dataclass
class Seen:
    topic: str
    payload: str
    retain: bool


class MqttClient:
    """A paho client subscribed to `#`, as Home Assistant would be; remembers what it saw."""

    def __init__(self, port: int, name: str) -> None:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        self.messages: list[Seen] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"e2e-{name}")
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        self.client.connect(LOOPBACK, port)
        self.client.loop_start()
        wait_until(self.client.is_connected, what="the test MQTT client to connect")

    def _on_message(self, _client: object, _userdata: object, message: Any) -> None:
        seen = Seen(message.topic, message.payload.decode("utf-8", "replace"), message.retain)
        with self._lock:
            self.messages.append(seen)

    def seen(self, topic: str) -> list[Seen]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> str | None:
        found = self.seen(topic)
        return found[-1].payload if found else None

    def wait_for(self, topic: str, payload: str, timeout: float = DEADLINE_S) -> None:
        wait_until(lambda: self.last(topic) == payload, timeout, f"{topic} = {payload!r}")

    def configs(self, prefix: str = "homeassistant/") -> dict[str, dict[str, Any]]:
        """The latest discovery config on every `<prefix>.../config` topic."""
        with self._lock:
            latest = {
                m.topic: m
                for m in self.messages
                if m.topic.startswith(prefix) and m.topic.endswith("/config")
            }
        return {t: json.loads(m.payload) for t, m in latest.items() if m.payload}

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(DEADLINE_S)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
            self.client.loop_stop()


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
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(DEADLINE_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
