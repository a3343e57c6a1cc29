"""Home Assistant discovery configs, without a broker: topics, names, ids, device, options.

Every expected value is written down here (the topics and bodies Home Assistant reads), so a
change to an entity shows up as a failing test, not as a config that silently moved.
"""

from __future__ import annotations

from typing import Any

import pytest

from breathring.mqtt.discovery import (
    Topics,
    breath_rate_entity,
    device_block,
    discovery_messages,
    retired_configs,
)
from breathring.mqtt.settings import MqttSettings

PRESETS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "follow")
WITH_CUSTOM = (*PRESETS, "custom")
VERSION = "1.2.3"


@pytest.fixture
def topics() -> Topics:
    return Topics.of(MqttSettings(topic="home/rings", discovery_prefix="ha", device_id="den7"))


AVAILABILITY = [
    {
        "topic": "home/rings/den7/availability",
        "payload_available": "online",
        "payload_not_available": "offline",
    }
]
DEVICE = {
    "identifiers": ["breathring_den7"],
    "name": "breathring",
    "model": "Guided-breathing light",
    "manufacturer": "breathring project",
    "sw_version": VERSION,
}
ORIGIN = {"name": "breathring", "sw_version": VERSION}


def entity(object_id: str, body: dict[str, Any]) -> dict[str, Any]:
    """A config body with the parts every entity shares."""
    return {
        **body,
        "unique_id": f"breathring_den7_{object_id}",
        "availability": AVAILABILITY,
        "device": DEVICE,
        "origin": ORIGIN,
    }


EXPECTED = [
    (
        "ha/button/den7/start/config",
        entity(
            "start",
            {
                "name": "Start session",
                "icon": "mdi:play",
                "command_topic": "home/rings/den7/start/set",
                "payload_press": "PRESS",
            },
        ),
    ),
    (
        "ha/button/den7/stop/config",
        entity(
            "stop",
            {
                "name": "Stop session",
                "icon": "mdi:stop",
                "command_topic": "home/rings/den7/stop/set",
                "payload_press": "PRESS",
            },
        ),
    ),
    (
        "ha/select/den7/pattern/config",
        entity(
            "pattern",
            {
                "name": "Pattern",
                "icon": "mdi:weather-windy",
                "command_topic": "home/rings/den7/pattern/set",
                "state_topic": "home/rings/den7/pattern/state",
                "options": list(PRESETS),
            },
        ),
    ),
    (
        "ha/switch/den7/reminders/config",
        entity(
            "reminders",
            {
                "name": "Hourly reminders",
                "icon": "mdi:bell-ring-outline",
                "command_topic": "home/rings/den7/reminders/set",
                "state_topic": "home/rings/den7/reminders/state",
                "payload_on": "ON",
                "payload_off": "OFF",
                "state_on": "ON",
                "state_off": "OFF",
            },
        ),
    ),
    (
        "ha/number/den7/brightness/config",
        entity(
            "brightness",
            {
                "name": "Brightness",
                "icon": "mdi:brightness-6",
                "command_topic": "home/rings/den7/brightness/set",
                "state_topic": "home/rings/den7/brightness/state",
                "min": 0.01,
                "max": 1.0,
                "step": 0.01,
                "mode": "slider",
                "entity_category": "config",
            },
        ),
    ),
    (
        "ha/sensor/den7/phase/config",
        entity(
            "phase",
            {
                "name": "Phase",
                "icon": "mdi:lungs",
                "state_topic": "home/rings/den7/phase/state",
                "device_class": "enum",
                "options": [
                    "idle",
                    "lead-in",
                    "inhale",
                    "hold-in",
                    "exhale",
                    "hold-out",
                    "closing",
                    "pulse",
                    "confirm",
                ],
            },
        ),
    ),
    (
        "ha/sensor/den7/sessions_today/config",
        entity(
            "sessions_today",
            {
                "name": "Sessions today",
                "icon": "mdi:counter",
                "state_topic": "home/rings/den7/sessions_today/state",
                "state_class": "total_increasing",
            },
        ),
    ),
    (
        "ha/sensor/den7/streak/config",
        entity(
            "streak",
            {
                "name": "Streak",
                "icon": "mdi:calendar-check",
                "state_topic": "home/rings/den7/streak/state",
                "device_class": "duration",
                "unit_of_measurement": "d",
                "state_class": "measurement",
            },
        ),
    ),
    (
        "ha/sensor/den7/last_session/config",
        entity(
            "last_session",
            {
                "name": "Last session",
                "state_topic": "home/rings/den7/last_session/state",
                "device_class": "timestamp",
            },
        ),
    ),
    (
        "ha/event/den7/button/config",
        entity(
            "button",
            {
                "name": "Button",
                "state_topic": "home/rings/den7/button/event",
                "event_types": ["press", "double", "hold"],
                "device_class": "button",
            },
        ),
    ),
    *[
        (
            f"ha/number/den7/{object_id}/config",
            entity(
                object_id,
                {
                    "name": name,
                    "icon": "mdi:timer-outline",
                    "command_topic": f"home/rings/den7/{object_id}/set",
                    "state_topic": f"home/rings/den7/{object_id}/state",
                    "min": low,
                    "max": 30.0,
                    "step": 0.1,
                    "mode": "box",
                    "unit_of_measurement": "s",
                    "device_class": "duration",
                    "entity_category": "config",
                },
            ),
        )
        for object_id, name, low in (
            ("custom_inhale", "Custom breath in", 0.5),
            ("custom_hold_in", "Custom hold in", 0.0),
            ("custom_exhale", "Custom breath out", 0.5),
            ("custom_hold_out", "Custom hold out", 0.0),
        )
    ],
]
BREATH_RATE_BODY = {
    "name": "Breathing rate",
    "icon": "mdi:lungs",
    "state_topic": "home/rings/den7/breath_rate/state",
    "unit_of_measurement": "breaths/min",
    "state_class": "measurement",
    "suggested_display_precision": 1,
}
BREATH_RATE_CONFIG = ("ha/sensor/den7/breath_rate/config", entity("breath_rate", BREATH_RATE_BODY))


def test_topics_live_under_the_base_topic_and_the_device_id(topics: Topics) -> None:
    assert topics == Topics(base="home/rings/den7", discovery_prefix="ha", device_id="den7")
    assert topics.availability == "home/rings/den7/availability"
    assert topics.button_event == "home/rings/den7/button/event"
    assert topics.ha_status == "ha/status"
    assert topics.state("phase") == "home/rings/den7/phase/state"
    assert topics.command("start") == "home/rings/den7/start/set"
    assert topics.config("select", "pattern") == "ha/select/den7/pattern/config"


def test_default_settings_give_the_documented_topics() -> None:
    t = Topics.of(MqttSettings(device_id="a1b2"))
    assert (t.base, t.discovery_prefix, t.availability, t.ha_status) == (
        "breathring/a1b2",
        "homeassistant",
        "breathring/a1b2/availability",
        "homeassistant/status",
    )


def test_every_entity_is_announced_in_a_stable_order(topics: Topics) -> None:
    assert discovery_messages(topics, VERSION, PRESETS) == EXPECTED


def test_the_breathing_rate_sensor_comes_last_only_with_a_sensor(topics: Topics) -> None:
    assert discovery_messages(topics, VERSION, PRESETS, True) == [*EXPECTED, BREATH_RATE_CONFIG]
    assert discovery_messages(topics, VERSION, PRESETS, False) == EXPECTED
    assert breath_rate_entity(topics) == ("sensor", "breath_rate", BREATH_RATE_BODY)


def test_the_breathing_rate_config_is_cleared_without_a_sensor(topics: Topics) -> None:
    assert retired_configs(topics, breath_rate=False) == ["ha/sensor/den7/breath_rate/config"]
    assert retired_configs(topics, breath_rate=True) == []


def test_the_select_offers_the_names_it_is_given(topics: Topics) -> None:
    def options(names: tuple[str, ...]) -> list[str]:
        (select,) = [p for t, p in discovery_messages(topics, VERSION, names) if "select" in t]
        return select["options"]

    assert options(PRESETS) == list(PRESETS)
    assert options(WITH_CUSTOM) == [*PRESETS, "custom"]
    assert options(("box",)) == ["box"]


def test_the_device_block_names_the_device_and_its_version() -> None:
    assert device_block("kitchen", "0.9") == {
        "identifiers": ["breathring_kitchen"],
        "name": "breathring",
        "model": "Guided-breathing light",
        "manufacturer": "breathring project",
        "sw_version": "0.9",
    }


def test_unique_ids_differ_between_devices() -> None:
    one = Topics.of(MqttSettings(device_id="one"))
    two = Topics.of(MqttSettings(device_id="two"))
    ids_one = [p["unique_id"] for _, p in discovery_messages(one, VERSION, PRESETS, True)]
    ids_two = [p["unique_id"] for _, p in discovery_messages(two, VERSION, PRESETS, True)]
    assert ids_one[0] == "breathring_one_start" and ids_two[0] == "breathring_two_start"
    assert not set(ids_one) & set(ids_two)
    assert len(set(ids_one)) == 15
