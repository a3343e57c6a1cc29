"""Fixtures for the web tests: a fake control service on a short socket path."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from fake_service import FakeService
from webtest import fake_service


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with fake_service() as service:
        yield service
