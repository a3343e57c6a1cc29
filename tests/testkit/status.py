"""What the device says it is doing: the status keys and values the tests write down once.

`CONTROLLER_IDLE` is the controller's own idle status; the service adds the clock and
hardware keys (`STATUS_KEYS` is every key a status reply and a watch status line carry).
"""

from __future__ import annotations

from typing import Any

#: The controller's status when idle with the default config (reminders on, by day).
CONTROLLER_IDLE: dict[str, Any] = {
    "state": "idle",
    "phase": "idle",
    "breath": 0,
    "breaths": 0,
    "pattern": None,
    "next_pattern": "three-breath",
    "reminders": True,
    "elapsed": None,
    "remaining": None,
    "night": False,
    "breath_rate": None,
}
#: The keys the service adds to the controller's.
SERVICE_KEYS = frozenset(
    {"clock_synchronized", "clock_trusted", "clock_reason", "next_pulse", "hardware"}
)
#: Every key a status reply (and a watch status line) carries.
STATUS_KEYS = frozenset(CONTROLLER_IDLE) | SERVICE_KEYS
