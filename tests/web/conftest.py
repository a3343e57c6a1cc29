"""Fixtures for the web tests: a fake control service on a short socket path."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from testkit.fake_service import FakeService
from testkit.web import fake_service


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with fake_service() as service:
        yield service
