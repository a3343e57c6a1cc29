"""MQTT peers: Debian's mosquitto on a free loopback port, a paho client that watches `#`."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from testkit.binaries import need_binary
from testkit.net import LOOPBACK, free_port
from testkit.waiting import DEADLINE_S, wait_until

if TYPE_CHECKING:
    from breathring.mqtt.bridge import Bridge

BROKER_START_S = 5.0
USERNAME = "bridge"
PASSWORD = "correct horse battery"


def mosquitto_binary(name: str = "mosquitto") -> str:
    """mosquitto's (or mosquitto_passwd's) path; skip without it, fail under CI."""
    return need_binary(name, "mosquitto")


class Broker:
    """A mosquitto on LOOPBACK:port; stop() kills it, start() brings it back on the same port."""

    def __init__(
        self,
        workdir: Path,
        port: int | None = None,
        password_file: Path | None = None,
        tls: dict[str, Path] | None = None,
    ) -> None:
        self.binary = mosquitto_binary()
        self.port = free_port() if port is None else port
        self.workdir = workdir
        self.log = workdir / "mosquitto.log"
        self.config = workdir / "mosquitto.conf"
        lines = [
            f"listener {self.port} {LOOPBACK}",
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

    def pause(self) -> None:
        """Freeze the broker (SIGSTOP): connections stay open, nothing is answered."""
        assert self.process is not None
        self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a paused broker go on (SIGCONT)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGCONT)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(DEADLINE_S)
        self.process = None


def make_certificates(directory: Path) -> dict[str, Path]:
    """A throw-away CA and a server certificate for 127.0.0.1 (openssl CLI)."""
    openssl = need_binary("openssl", "openssl")
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


@dataclass
class Seen:
    topic: str
    payload: str
    retain: bool
    qos: int


class Watcher:
    """A paho client subscribed to `#` (as Home Assistant would be); remembers what it saw."""

    def __init__(
        self,
        port: int,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        name: str | None = None,
    ) -> None:
        self.messages: list[Seen] = []
        self._lock = threading.Lock()
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=name or f"watcher-{id(self)}"
        )
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
            self.messages.append(
                Seen(m.topic, m.payload.decode("utf-8", "replace"), m.retain, m.qos)
            )

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
        with contextlib.suppress(Exception):
            self.client.disconnect()
            self.client.loop_stop()


class BridgeThread:
    """A bridge run in a thread of the test process; stop() ends it like SIGTERM would."""

    def __init__(self, bridge: Bridge) -> None:
        self.bridge = bridge
        self.result: list[int] = []
        self.thread = threading.Thread(target=lambda: self.result.append(bridge.run()))
        self.thread.start()

    def stop(self) -> None:
        self.bridge.stop()
        self.thread.join(10)
        assert not self.thread.is_alive(), "the bridge did not stop"
