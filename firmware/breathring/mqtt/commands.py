"""Commands from Home Assistant: an MQTT payload on an entity's command topic -> a socket request.

Pure: `command_request` checks the payload against what the entity announced
(discovery.py) and names what is allowed when it is not.

A custom pattern's number changes its one setting while the pattern is "custom". Under a
preset it makes the pattern "custom" in one all-or-none `set`, starting from
CUSTOM_START_BREATH_S in and out with no holds (a preset keeps no custom seconds).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from typing import Any

from ..breath_rate import MQTT, PLAUSIBLE_MAX_PER_MIN, PLAUSIBLE_MIN_PER_MIN, plausible
from ..patterns import CUSTOM
from . import discovery as d

#: A breath sensor's payload: a plain decimal number (no "nan", "inf", hex or underscores).
RATE_PAYLOAD_RE = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$")
ALLOWED_RATE = (
    f"allowed: breaths a minute as a plain number, "
    f"{PLAUSIBLE_MIN_PER_MIN:g}-{PLAUSIBLE_MAX_PER_MIN:g}, e.g. 13.5"
)


#: The setting that names the pattern; the custom numbers set it to "custom".
PATTERN_SETTING = "session.pattern"
#: The in- and out-breath (s) a custom pattern starts from when there is none yet.
CUSTOM_START_BREATH_S = 4.0
#: The custom pattern's breaths: the service takes "custom" only with both
#: (service/requests.py _start).
CUSTOM_BREATH_KEYS = ("session.inhale", "session.exhale")


class BadPayload(ValueError):
    """A command payload we do not accept; the message says what is allowed."""


@dataclass(frozen=True)
class Command:
    """One command from MQTT, as the entity it came to and its payload text."""

    object_id: str
    payload: str


def command_request(
    command: Command,
    pattern_names: tuple[str, ...],
    custom: bool = False,
) -> dict[str, Any]:
    """The socket request for a command; raises BadPayload naming what is allowed.

    `custom`: the service's pattern is "custom" with its breaths (for the custom numbers).
    """
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
        value = number_in(payload, d.BRIGHTNESS_MIN, d.BRIGHTNESS_MAX, allowed)
        return {"cmd": "set", "key": "ring.brightness", "value": value}
    if obj in d.CUSTOM_BY_OBJECT:
        seconds = d.CUSTOM_BY_OBJECT[obj]
        allowed = f"allowed: seconds {seconds.low:g}-{seconds.high:g}, e.g. 4.5"
        value = number_in(payload, seconds.low, seconds.high, allowed)
        return {"cmd": "set", "values": custom_values(seconds.key, value, custom)}
    if obj == d.BREATH_RATE:
        return {"cmd": "breath_rate", "per_min": breath_rate(payload), "source": MQTT}
    raise BadPayload("no such command topic")


def number_in(payload: str, low: float, high: float, allowed: str) -> float:
    """The payload as a number in low..high; never clamped (a value we would not send as asked)."""
    try:
        value = float(payload)
    except ValueError:
        raise BadPayload(allowed) from None
    if not math.isfinite(value) or not low <= value <= high:
        raise BadPayload(allowed)
    return value


def custom_values(key: str, value: float, custom: bool) -> dict[str, Any]:
    """The settings for `key` = `value`: that one while the pattern is custom (the rest as the
    service has them, never overwritten with what the bridge last saw); else a custom pattern
    from the starting breaths with it."""
    if custom:
        return {key: value}
    start = dict.fromkeys(CUSTOM_BREATH_KEYS, CUSTOM_START_BREATH_S)
    return {PATTERN_SETTING: CUSTOM, **start, key: value}


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
