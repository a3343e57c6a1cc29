"""Fixtures shared by the breath sensor tests."""

from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit.serial_module import PtyModule


@pytest.fixture
def module(tmp_path: Path) -> Iterator[PtyModule]:
    """A pretend radar on a pseudo-terminal, linked as tmp_path/serial0; closed after the test."""
    m = PtyModule(link=tmp_path / "serial0")
    yield m
    m.close()
