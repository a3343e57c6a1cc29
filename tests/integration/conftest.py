"""Fixtures for the end-to-end tests: real processes in short temporary directories."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from testkit.mqtt import Broker, Watcher
from testkit.paths import short_dir
from testkit.stack import BridgeProcess, Device, WebProcess


@pytest.fixture
def base() -> Iterator[Path]:
    """A short directory: unix socket paths are limited to 108 bytes."""
    with short_dir("br-e2e-") as path:
        yield path


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
def home_assistant(broker: Broker, watcher_factory: Callable[..., Watcher]) -> Watcher:
    """A client subscribed to everything before the bridge starts."""
    return watcher_factory(broker.port, name="e2e-home-assistant")


@pytest.fixture
def bridge(device: Device, broker: Broker, home_assistant: Watcher) -> Iterator[BridgeProcess]:
    b = BridgeProcess(device, broker, device_id="e2e")
    yield b
    b.close()
