"""Fixtures for the MQTT bridge: a real mosquitto, a paho test client, the fake service.

mosquitto (Debian's package) is started on a free loopback port with a generated
config. Without it the broker tests skip, except under CI (CI=true), where a
missing mosquitto is a failure: CI installs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from mqtt_fakes import FakeService
from paho.mqtt.enums import CallbackAPIVersion

LOOPBACK = "127.0.0.1"
DEADLINE_S = 10.0
BROKER_START_S = 5.0
USERNAME = "bridge"
PASSWORD = "correct horse battery"


def wait_until(condition: Callable[[], Any], timeout: float = DEADLINE_S, what: str = "") -> Any:
    """Wait (on a short event wait, not a bare sleep) until condition() is truthy."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        pause.wait(0.02)


def free_port() -> int:
    with socket.socket() as s:
        s.bind((LOOPBACK, 0))
        return s.getsockname()[1]


def mosquitto_binary(name: str = "mosquitto") -> str:
    """The binary's path; skip without it, except under CI, where it is a failure."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        message = f"{name} not installed (apt-get install mosquitto)"
        if os.environ.get("CI"):
            pytest.fail(message + "; under CI it must be installed", pytrace=False)
        pytest.skip(message)
    return found


class Broker:
    """A mosquitto on LOOPBACK:port; stop() kills it, start() brings it back on the same port."""

    def __init__(
        self,
        workdir: Path,
        port: int,
        password_file: Path | None = None,
        tls: dict[str, Path] | None = None,
    ) -> None:
        self.binary = mosquitto_binary()
        self.port = port
        self.workdir = workdir
        self.log = workdir / "mosquitto.log"
        self.config = workdir / "mosquitto.conf"
        lines = [
            f"listener {port} {LOOPBACK}",
            "persistence false",
            "log_dest stderr",
            "log_type error",
            "log_type warning",
            "log_type notice",
        ]
        if password_file is None:
            lines.append("allow_anonymous true")
        else:
            lines += ["allow_anonymous false", f"password_file {password_file}"]
        for key, path in (tls or {}).items():  # cafile, certfile, keyfile
            lines.append(f"{key} {path}")
        if os.geteuid() == 0:
            lines.append("user root")  # else it drops to "mosquitto", who cannot read our files
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> Broker:
        log = open(self.log, "ab")  # noqa: SIM115 - kept open for the broker's lifetime
        self.process = subprocess.Popen(
            [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        log.close()
        wait_until(self._accepts, BROKER_START_S, f"mosquitto on port {self.port}")
        return self

    def _accepts(self) -> bool:
        assert self.process is not None
        if self.process.poll() is not None:
            raise AssertionError(f"mosquitto exited: {self.log.read_text(errors='replace')}")
        with socket.socket() as s:
            return s.connect_ex((LOOPBACK, self.port)) == 0

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE_S)
        self.process = None


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    b = Broker(tmp_path, free_port()).start()
    yield b
    b.stop()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Broker]:
    passwd = mosquitto_binary("mosquitto_passwd")
    password_file = tmp_path / "passwd"
    subprocess.run(
        [passwd, "-b", "-c", str(password_file), USERNAME, PASSWORD],
        check=True,
        capture_output=True,
    )
    b = Broker(tmp_path, free_port(), password_file=password_file).start()
    yield b
    b.stop()


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        if os.environ.get("CI"):
            pytest.fail("openssl not installed; under CI it must be installed", pytrace=False)
        pytest.skip("openssl not installed")
    ca_key, ca, key, csr, cert = (
        directory / n for n in ("ca.key", "ca.pem", "server.key", "server.csr", "server.pem")
    )
    ext = directory / "san.ext"
    ext.write_text(f"subjectAltName = IP:{LOOPBACK}\n", encoding="utf-8")
    for argv in (
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            ca_key,
            "-out",
            ca,
            "-days",
            "2",
            "-subj",
            "/CN=breathring test CA",
        ],
        [
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            key,
            "-out",
            csr,
            "-subj",
            f"/CN={LOOPBACK}",
        ],
        [
            "x509",
            "-req",
            "-in",
            csr,
            "-CA",
            ca,
            "-CAkey",
            ca_key,
            "-CAcreateserial",
            "-out",
            cert,
            "-days",
            "2",
            "-extfile",
            ext,
        ],
    ):
        subprocess.run([openssl, *map(str, argv)], check=True, capture_output=True)
    return {"cafile": ca, "certfile": cert, "keyfile": key}


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Broker]:
    files = make_certificates(tmp_path)
    b = Broker(tmp_path, free_port(), tls=files).start()
    yield b
    b.stop()


@dataclass
class Seen:
    topic: str
    payload: str
    retain: bool


class Watcher:
    """A paho client subscribed to everything; remembers what it saw."""

    def __init__(
        self,
        port: int,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
    ) -> None:
        self.messages: list[Seen] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"watcher-{id(self)}")
        if username:
            self.client.username_pw_set(username, password)
        if ca_file is not None:
            self.client.tls_set(ca_certs=str(ca_file))
        self.client.on_message = self._on_message
        self.client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        self.client.connect(LOOPBACK, port)
        self.client.loop_start()
        wait_until(self.client.is_connected, what="the test client to connect")

    def _on_message(self, _c: object, _u: object, m: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append(Seen(m.topic, m.payload.decode("utf-8", "replace"), m.retain))

    def seen(self, topic: str) -> list[Seen]:
        with self._lock:
            return [m for m in self.messages if m.topic == topic]

    def last(self, topic: str) -> str | None:
        found = self.seen(topic)
        return found[-1].payload if found else None

    def wait_for(self, topic: str, payload: str, timeout: float = DEADLINE_S) -> None:
        wait_until(lambda: self.last(topic) == payload, timeout, f"{topic} = {payload!r}")

    def configs(self, prefix: str = "homeassistant/") -> dict[str, dict[str, Any]]:
        with self._lock:
            found = {
                m.topic: m
                for m in self.messages
                if m.topic.startswith(prefix) and m.topic.endswith("/config")
            }
        return {t: json.loads(m.payload) for t, m in found.items() if m.payload}

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()

    def publish(self, topic: str, payload: str | bytes) -> None:
        self.client.publish(topic, payload, qos=1).wait_for_publish(DEADLINE_S)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def short_tmp() -> Iterator[Path]:
    """A short directory for unix sockets (their paths are limited to ~107 bytes)."""
    with tempfile.TemporaryDirectory(prefix="br-mqtt-") as d:
        yield Path(d)


@pytest.fixture
def service(short_tmp: Path) -> Iterator[FakeService]:
    s = FakeService(short_tmp / "control.sock").start()
    yield s
    s.stop()


@pytest.fixture
def watcher_factory() -> Iterator[Callable[..., Watcher]]:
    made: list[Watcher] = []

    def make(port: int, **kw: Any) -> Watcher:
        w = Watcher(port, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        with contextlib.suppress(Exception):
            w.close()
