"""The benchmarks quiet the `breathring` logger (WARNING) for their run; restore it after each."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _restore_breathring_log_level() -> Iterator[None]:
    logger = logging.getLogger("breathring")
    level = logger.level
    yield
    logger.setLevel(level)
