"""The bridge as a real process: the last will on SIGKILL, a clean stop on SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import DEADLINE_S, LOOPBACK, wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import Broker

ROOT = Path(__file__).resolve().parents[2]
#: `breathring mqtt ...` as installed (the main CLI), and the package's own entry.
MAIN_CLI = [
    sys.executable,
    "-c",
    "from breathring.cli import main; raise SystemExit(main())",
    "mqtt",
]
MODULE = [sys.executable, "-m", "breathring.mqtt"]
DEVICE = "proc1"
AVAILABILITY = f"breathring/{DEVICE}/availability"


@pytest.fixture
def bridge_process(
    broker: Broker, service: FakeService, tmp_path: Path
) -> Iterator[subprocess.Popen[str]]:
    config = tmp_path / "config.toml"
    config.write_text(
        f'[mqtt]\nhost = "{LOOPBACK}"\nport = {broker.port}\ndevice_id = "{DEVICE}"\n'
        "keepalive = 5\n",
        encoding="utf-8",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "firmware")}
    env.pop("BREATHRING_CONFIG", None)
    process = subprocess.Popen(
        [*MAIN_CLI, "--config", str(config), "--socket", str(service.path)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    yield process
    if process.poll() is None:
        process.kill()
    process.communicate(timeout=DEADLINE_S)


def test_sigkill_leaves_the_last_will_and_a_restart_brings_online_back(
    bridge_process: subprocess.Popen[str],
    broker: Broker,
    service: FakeService,
    watcher_factory,
    tmp_path: Path,
) -> None:
    w = watcher_factory(broker.port)
    w.wait_for(AVAILABILITY, "online")
    bridge_process.send_signal(signal.SIGKILL)
    bridge_process.wait(DEADLINE_S)
    # The broker sends the will once the connection drops (at once: the socket closes).
    w.wait_for(AVAILABILITY, "offline")
    assert w.seen(AVAILABILITY)[-1].payload == "offline"
    late = watcher_factory(broker.port)  # and keeps it retained
    late.wait_for(AVAILABILITY, "offline")
    assert late.seen(AVAILABILITY)[-1].retain
    again = subprocess.Popen(
        bridge_process.args,
        env={**os.environ, "PYTHONPATH": str(ROOT / "firmware")},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        w.wait_for(AVAILABILITY, "online")
    finally:
        again.terminate()
        again.wait(DEADLINE_S)


def test_sigterm_publishes_offline_and_exits_0(
    bridge_process: subprocess.Popen[str], broker: Broker, watcher_factory
) -> None:
    w = watcher_factory(broker.port)
    w.wait_for(AVAILABILITY, "online")
    bridge_process.send_signal(signal.SIGTERM)
    assert bridge_process.wait(DEADLINE_S) == 0
    w.wait_for(AVAILABILITY, "offline")
    out = bridge_process.stdout.read() if bridge_process.stdout else ""
    assert "SIGTERM: stopping" in out
    assert "Traceback" not in out


@pytest.mark.parametrize("entry", [MAIN_CLI, MODULE], ids=["breathring-mqtt", "module"])
def test_a_bad_section_exits_78_before_connecting(tmp_path: Path, entry: list[str]) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[mqtt]\ntopic = "a/+/b"\n', encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(ROOT / "firmware")}
    done = subprocess.run(
        [*entry, "--config", str(config)],
        env=env,
        capture_output=True,
        text=True,
        timeout=DEADLINE_S,
    )
    assert done.returncode == 78
    assert done.stderr.strip().startswith(
        f'breathring: configuration error: {config}: mqtt.topic = "a/+/b" contains an MQTT wildcard'
    )


def test_wait_helper_fails_on_timeout() -> None:
    with pytest.raises(AssertionError, match="timed out"):
        wait_until(lambda: False, timeout=0.05, what="nothing")
