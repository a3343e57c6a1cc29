"""Fixtures for the end-to-end tests: real processes in short temporary directories."""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from e2e_stack import BridgeProcess, Broker, Device, MqttClient, WebProcess


@pytest.fixture
def base() -> Iterator[Path]:
    """A short directory: unix socket paths are limited to 108 bytes."""
    with tempfile.TemporaryDirectory(prefix="br-e2e-") as name:
        yield Path(name)


@pytest.fixture
def device(base: Path) -> Iterator[Device]:
    d = Device(base)
    yield d
    d.close()


@pytest.fixture
def web(device: Device) -> Iterator[WebProcess]:
    w = WebProcess(device)
    yield w
    w.close()


@pytest.fixture
def broker(base: Path) -> Iterator[Broker]:
    b = Broker(base)
    yield b
    b.close()


@pytest.fixture
def home_assistant(broker: Broker) -> Iterator[MqttClient]:
    """A client subscribed to everything before the bridge starts."""
    c = MqttClient(broker.port, "home-assistant")
    yield c
    c.close()


@pytest.fixture
def bridge(device: Device, broker: Broker, home_assistant: MqttClient) -> Iterator[BridgeProcess]:
    b = BridgeProcess(device, broker, device_id="e2e")
    yield b
    b.close()
