"""What a test's code logged, as plain messages."""

from __future__ import annotations

import pytest


def messages(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """The messages of the records captured at exactly `level`, in order."""
    return [r.getMessage() for r in caplog.records if r.levelno == level]
