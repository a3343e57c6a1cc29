"""Fixtures for the MQTT bridge: the fake service, and the real service with the real bridge.

Brokers and watchers come from testkit (testkit/plugin.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testkit.fake_service import FakeService
from testkit.mqtt import Broker
from testkit.stack import BridgeProcess, Device


@pytest.fixture
def service(short_dir: Path) -> Iterator[FakeService]:
    s = FakeService(short_dir / "control.sock").start()
    yield s
    s.stop()


@pytest.fixture
def start_device(short_dir: Path) -> Iterator[Callable[..., Device]]:
    """`start_device(config)`: the real service on mock hardware; every one is stopped after."""
    started: list[Device] = []

    def start(config: str = "") -> Device:
        base = short_dir / f"device-{len(started)}"
        base.mkdir()
        started.append(Device(base, config))
        return started[-1]

    yield start
    for device in started:
        device.close()


@pytest.fixture
def start_bridge_process(broker: Broker) -> Iterator[Callable[[Device, str], BridgeProcess]]:
    """`start_bridge_process(device, device_id)`: the real `breathring mqtt` on `broker`."""
    started: list[BridgeProcess] = []

    def start(device: Device, device_id: str) -> BridgeProcess:
        started.append(BridgeProcess(device, broker, device_id=device_id))
        return started[-1]

    yield start
    for bridge in started:
        bridge.close()
