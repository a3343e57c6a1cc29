"""Commands from Home Assistant: an MQTT payload on an entity's command topic -> a socket request.

Pure: `command_request` checks the payload against what the entity announced
(discovery.py) and names what is allowed when it is not.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..breath_rate import MQTT, PLAUSIBLE_MAX_PER_MIN, PLAUSIBLE_MIN_PER_MIN, plausible
from . import discovery as d

#: A breath sensor's payload: a plain decimal number (no "nan", "inf", hex or underscores).
RATE_PAYLOAD_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
ALLOWED_RATE = (
    f"allowed: breaths a minute as a plain number, "
    f"{PLAUSIBLE_MIN_PER_MIN:g}-{PLAUSIBLE_MAX_PER_MIN:g}, e.g. 13.5"
)


class BadPayload(ValueError):
    """A command payload we do not accept; the message says what is allowed."""


@dataclass(frozen=True)
class Command:
    """One command from MQTT, as the entity it came to and its payload text."""

    object_id: str
    payload: str


def command_request(command: Command, pattern_names: tuple[str, ...]) -> dict[str, Any]:
    """The socket request for a command; raises BadPayload naming what is allowed."""
    obj, payload = command.object_id, command.payload
    if obj in (d.START, d.STOP):
        if payload != d.PAYLOAD_PRESS:
            raise BadPayload(f'allowed: "{d.PAYLOAD_PRESS}"')
        return {"cmd": "start", "trigger": "remote"} if obj == d.START else {"cmd": "stop"}
    if obj == d.PATTERN:
        if payload not in pattern_names:
            raise BadPayload("allowed: " + ", ".join(f'"{p}"' for p in pattern_names))
        return {"cmd": "set", "key": "session.pattern", "value": payload}
    if obj == d.REMINDERS:
        if payload not in (d.PAYLOAD_ON, d.PAYLOAD_OFF):
            raise BadPayload(f'allowed: "{d.PAYLOAD_ON}", "{d.PAYLOAD_OFF}"')
        return {"cmd": "reminders", "value": "on" if payload == d.PAYLOAD_ON else "off"}
    if obj == d.BRIGHTNESS:
        allowed = f"allowed: a number {d.BRIGHTNESS_MIN:g}-{d.BRIGHTNESS_MAX:g}"
        try:
            value = float(payload)
        except ValueError:
            raise BadPayload(allowed) from None
        if not math.isfinite(value) or not d.BRIGHTNESS_MIN <= value <= d.BRIGHTNESS_MAX:
            raise BadPayload(allowed)  # never clamped: a value we would not send as asked
        return {"cmd": "set", "key": "ring.brightness", "value": value}
    if obj == d.BREATH_RATE:
        return {"cmd": "breath_rate", "per_min": breath_rate(payload), "source": MQTT}
    raise BadPayload("no such command topic")


def breath_rate(payload: str) -> float:
    """A breath sensor's reading; raises BadPayload (naming what is allowed) for anything
    that is not a breathing rate."""
    if not RATE_PAYLOAD_RE.match(payload):
        raise BadPayload(f"not a number; {ALLOWED_RATE}")
    value = float(payload)
    if not plausible(value):
        raise BadPayload(f"not a breathing rate; {ALLOWED_RATE}")
    return value


def show_payload(payload: str, limit: int = 40) -> str:
    return json.dumps(payload if len(payload) <= limit else payload[:limit] + "...")
