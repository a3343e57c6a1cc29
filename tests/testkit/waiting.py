"""Waiting on a condition with a deadline (an Event wait between looks, never a bare sleep)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

#: How long a process gets to start, or a condition to come true, on a loaded 2-core machine.
DEADLINE_S = 15.0
#: Between two looks at a condition.
POLL_S = 0.02


def wait_until(condition: Callable[[], Any], timeout: float = DEADLINE_S, what: str = "") -> Any:
    """condition()'s first truthy value; AssertionError naming `what` after `timeout`."""
    pause = threading.Event()
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what or condition}")
        pause.wait(POLL_S)
