"""Fixtures for the MQTT bridge: the fake service on a short socket path (brokers: testkit)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.fake_service import FakeService


@pytest.fixture
def service(short_dir: Path) -> Iterator[FakeService]:
    s = FakeService(short_dir / "control.sock").start()
    yield s
    s.stop()
