"""Home Assistant MQTT discovery: the topics and the retained config messages; pure.

Every entity lives under one base topic, `<topic>/<device_id>`, so several
breathrings can share a broker with the default settings:

    <base>/availability          "online" / "offline" (retained; the last will)
    <base>/<object_id>/state     an entity's state (retained)
    <base>/<object_id>/set       an entity's commands (buttons: "PRESS")
    <base>/button/event          {"event_type": "press" | "double" | "hold"} (not retained)

Four numbers set the custom pattern's seconds (`session.inhale`, `hold_in`, `exhale`,
`hold_out`); a change makes the pattern "custom" (commands.py says how).

With a breath sensor (`[breath_sensor] kind` not "none") a Breathing rate sensor too; without
one its config topic is cleared (an empty retained message), so an earlier one disappears.

Discovery configs go to `<discovery_prefix>/<component>/<device_id>/<object_id>/config`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.schema import BRIGHTNESS_MAX, BRIGHTNESS_MIN
from ..patterns import BREATH_MAX_S, BREATH_MIN_S, HOLD_MAX_S, HOLD_MIN_S
from .settings import MqttSettings

PAYLOAD_ONLINE = "online"
PAYLOAD_OFFLINE = "offline"
PAYLOAD_PRESS = "PRESS"
PAYLOAD_ON = "ON"
PAYLOAD_OFF = "OFF"

DEVICE_NAME = "breathring"
DEVICE_MODEL = "Guided-breathing light"
MANUFACTURER = "breathring project"

#: The Brightness number's range is the config schema's (BRIGHTNESS_MIN, BRIGHTNESS_MAX).
BRIGHTNESS_STEP = 0.01

PHASES = (
    "idle",
    "lead-in",
    "inhale",
    "hold-in",
    "exhale",
    "hold-out",
    "closing",
    "pulse",
    "confirm",
)
GESTURES = ("press", "double", "hold")

# Object ids: one per entity, also the last level of its topics.
START = "start"
STOP = "stop"
PATTERN = "pattern"
REMINDERS = "reminders"
BRIGHTNESS = "brightness"
PHASE = "phase"
SESSIONS_TODAY = "sessions_today"
STREAK = "streak"
LAST_SESSION = "last_session"
BREATH_RATE = "breath_rate"
BUTTON = "button"
#: The Breathing rate sensor's unit, and its state when no fresh reading is known
#: (Home Assistant shows a numeric sensor's "None" as unknown).
BREATH_RATE_UNIT = "breaths/min"
PAYLOAD_NONE = "None"

#: The Home Assistant component of the Pattern entity (its config topic names it).
SELECT = "select"


@dataclass(frozen=True)
class CustomSeconds:
    """One of the custom pattern's durations, as a number entity."""

    object_id: str
    #: The setting it changes.
    key: str
    name: str
    low: float
    high: float


#: The custom pattern's seconds, in the order of a breath; their ranges are the config's.
CUSTOM_SECONDS = (
    CustomSeconds(
        "custom_inhale", "session.inhale", "Custom breath in", BREATH_MIN_S, BREATH_MAX_S
    ),
    CustomSeconds("custom_hold_in", "session.hold_in", "Custom hold in", HOLD_MIN_S, HOLD_MAX_S),
    CustomSeconds(
        "custom_exhale", "session.exhale", "Custom breath out", BREATH_MIN_S, BREATH_MAX_S
    ),
    CustomSeconds("custom_hold_out", "session.hold_out", "Custom hold out", HOLD_MIN_S, HOLD_MAX_S),
)
CUSTOM_BY_OBJECT = {c.object_id: c for c in CUSTOM_SECONDS}
#: The custom numbers' step in Home Assistant's box (the config takes any value in range).
CUSTOM_STEP_S = 0.1

#: Entities that take commands, and entities whose state we publish.
COMMAND_OBJECTS = (START, STOP, PATTERN, REMINDERS, BRIGHTNESS, *CUSTOM_BY_OBJECT)


@dataclass(frozen=True)
class Topics:
    """Where this device's messages go."""

    base: str
    discovery_prefix: str
    device_id: str

    @classmethod
    def of(cls, settings: MqttSettings) -> Topics:
        return cls(
            base=f"{settings.topic}/{settings.device_id}",
            discovery_prefix=settings.discovery_prefix,
            device_id=settings.device_id,
        )

    @property
    def availability(self) -> str:
        return f"{self.base}/availability"

    @property
    def button_event(self) -> str:
        return f"{self.base}/{BUTTON}/event"

    @property
    def ha_status(self) -> str:
        """Home Assistant's own birth topic: on "online" we announce ourselves again."""
        return f"{self.discovery_prefix}/status"

    def state(self, object_id: str) -> str:
        return f"{self.base}/{object_id}/state"

    def command(self, object_id: str) -> str:
        return f"{self.base}/{object_id}/set"

    def config(self, component: str, object_id: str) -> str:
        return f"{self.discovery_prefix}/{component}/{self.device_id}/{object_id}/config"


def device_block(device_id: str, sw_version: str) -> dict[str, Any]:
    """The one Home Assistant device all entities belong to."""
    return {
        "identifiers": [f"breathring_{device_id}"],
        "name": DEVICE_NAME,
        "model": DEVICE_MODEL,
        "manufacturer": MANUFACTURER,
        "sw_version": sw_version,
    }


def breath_rate_entity(topics: Topics) -> tuple[str, str, dict[str, Any]]:
    """The Breathing rate sensor: (component, object id, config body)."""
    return (
        "sensor",
        BREATH_RATE,
        {
            "name": "Breathing rate",
            "icon": "mdi:lungs",
            "state_topic": topics.state(BREATH_RATE),
            "unit_of_measurement": BREATH_RATE_UNIT,
            "state_class": "measurement",
            "suggested_display_precision": 1,
        },
    )


def retired_configs(topics: Topics, breath_rate: bool) -> list[str]:
    """Config topics to clear (empty retained message): entities this bridge does not offer."""
    return [] if breath_rate else [topics.config("sensor", BREATH_RATE)]


def custom_seconds_entity(topics: Topics, custom: CustomSeconds) -> tuple[str, str, dict[str, Any]]:
    """A number for one of the custom pattern's durations: (component, object id, body)."""
    return (
        "number",
        custom.object_id,
        {
            "name": custom.name,
            "icon": "mdi:timer-outline",
            "command_topic": topics.command(custom.object_id),
            "state_topic": topics.state(custom.object_id),
            "min": custom.low,
            "max": custom.high,
            "step": CUSTOM_STEP_S,
            "mode": "box",
            "unit_of_measurement": "s",
            "device_class": "duration",
            "entity_category": "config",
        },
    )


def discovery_messages(
    topics: Topics, sw_version: str, pattern_names: tuple[str, ...], breath_rate: bool = False
) -> list[tuple[str, dict[str, Any]]]:
    """(config topic, config payload) for every entity, in a stable order; `breath_rate`:
    with the Breathing rate sensor."""
    t = topics
    entities: list[tuple[str, str, dict[str, Any]]] = [
        (
            "button",
            START,
            {
                "name": "Start session",
                "icon": "mdi:play",
                "command_topic": t.command(START),
                "payload_press": PAYLOAD_PRESS,
            },
        ),
        (
            "button",
            STOP,
            {
                "name": "Stop session",
                "icon": "mdi:stop",
                "command_topic": t.command(STOP),
                "payload_press": PAYLOAD_PRESS,
            },
        ),
        (
            SELECT,
            PATTERN,
            {
                "name": "Pattern",
                "icon": "mdi:weather-windy",
                "command_topic": t.command(PATTERN),
                "state_topic": t.state(PATTERN),
                "options": list(pattern_names),
            },
        ),
        (
            "switch",
            REMINDERS,
            {
                "name": "Hourly reminders",
                "icon": "mdi:bell-ring-outline",
                "command_topic": t.command(REMINDERS),
                "state_topic": t.state(REMINDERS),
                "payload_on": PAYLOAD_ON,
                "payload_off": PAYLOAD_OFF,
                "state_on": PAYLOAD_ON,
                "state_off": PAYLOAD_OFF,
            },
        ),
        (
            "number",
            BRIGHTNESS,
            {
                "name": "Brightness",
                "icon": "mdi:brightness-6",
                "command_topic": t.command(BRIGHTNESS),
                "state_topic": t.state(BRIGHTNESS),
                "min": BRIGHTNESS_MIN,
                "max": BRIGHTNESS_MAX,
                "step": BRIGHTNESS_STEP,
                "mode": "slider",
                "entity_category": "config",
            },
        ),
        (
            "sensor",
            PHASE,
            {
                "name": "Phase",
                "icon": "mdi:lungs",
                "state_topic": t.state(PHASE),
                "device_class": "enum",
                "options": list(PHASES),
            },
        ),
        (
            "sensor",
            SESSIONS_TODAY,
            {
                "name": "Sessions today",
                "icon": "mdi:counter",
                "state_topic": t.state(SESSIONS_TODAY),
                "state_class": "total_increasing",
            },
        ),
        (
            "sensor",
            STREAK,
            {
                "name": "Streak",
                "icon": "mdi:calendar-check",
                "state_topic": t.state(STREAK),
                "device_class": "duration",
                "unit_of_measurement": "d",
                "state_class": "measurement",
            },
        ),
        (
            "sensor",
            LAST_SESSION,
            {
                "name": "Last session",
                "state_topic": t.state(LAST_SESSION),
                "device_class": "timestamp",
            },
        ),
        (
            "event",
            BUTTON,
            {
                "name": "Button",
                "state_topic": t.button_event,
                "event_types": list(GESTURES),
                "device_class": "button",
            },
        ),
    ]
    entities += [custom_seconds_entity(t, custom) for custom in CUSTOM_SECONDS]
    if breath_rate:
        entities.append(breath_rate_entity(t))
    device = device_block(t.device_id, sw_version)
    availability = [
        {
            "topic": t.availability,
            "payload_available": PAYLOAD_ONLINE,
            "payload_not_available": PAYLOAD_OFFLINE,
        }
    ]
    origin = {"name": "breathring", "sw_version": sw_version}
    messages = []
    for component, object_id, body in entities:
        payload = {
            **body,
            "unique_id": f"breathring_{t.device_id}_{object_id}",
            "availability": availability,
            "device": device,
            "origin": origin,
        }
        messages.append((t.config(component, object_id), payload))
    return messages
