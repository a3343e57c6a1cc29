"""Home Assistant sets the custom pattern's seconds: four numbers, each a setting.

Under a preset a number makes the pattern "custom" (4 s in, 4 s out, no holds, with the
change), all or none; while the pattern is custom it changes its one setting. Their states
are the service's seconds, unknown ("None") under a preset. Pure checks of the requests; real
peers (Debian's mosquitto, the real service on mock hardware, `breathring mqtt`); and the
bridge in a thread on the fake service, for a change that comes as it starts.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from testkit import wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher
from testkit.stack import BridgeProcess, Device

from breathring.control.client import send_request
from breathring.mqtt.commands import BadPayload, Command, command_request

PATTERNS = ("three-breath", "box", "custom")
DEVICE_ID = "seconds1"
BASE = f"breathring/{DEVICE_ID}"
#: The device id of the bridge in a thread (conftest's start_bridge).
BRIDGE_DEVICE = "bedside1"
#: The held settings request lets go after this long at the latest (a test that hangs fails).
HOLD_LIMIT_S = 20.0
NUMBERS = ("custom_inhale", "custom_hold_in", "custom_exhale", "custom_hold_out")


def request(object_id: str, payload: str, custom: bool) -> dict:
    return command_request(Command(object_id, payload), PATTERNS, custom)


def test_under_a_preset_a_number_makes_the_pattern_custom_from_four_in_four_out() -> None:
    assert request("custom_inhale", "5", custom=False) == {
        "cmd": "set",
        "values": {"session.pattern": "custom", "session.inhale": 5.0, "session.exhale": 4.0},
    }
    assert request("custom_hold_out", "2.5", custom=False) == {
        "cmd": "set",
        "values": {
            "session.pattern": "custom",
            "session.inhale": 4.0,
            "session.exhale": 4.0,
            "session.hold_out": 2.5,
        },
    }


def test_while_custom_a_number_changes_only_its_setting() -> None:
    # The other seconds are the service's; the bridge never sends back what it last saw.
    assert request("custom_exhale", "6.5", custom=True) == {
        "cmd": "set",
        "values": {"session.exhale": 6.5},
    }
    assert request("custom_hold_in", "0", custom=True) == {
        "cmd": "set",
        "values": {"session.hold_in": 0.0},
    }


@pytest.mark.parametrize(
    ("object_id", "payload", "allowed"),
    [
        ("custom_inhale", "0.4", "allowed: seconds 0.5-30, e.g. 4.5"),
        ("custom_exhale", "30.5", "allowed: seconds 0.5-30, e.g. 4.5"),
        ("custom_hold_in", "-1", "allowed: seconds 0-30, e.g. 4.5"),
        ("custom_hold_out", "nan", "allowed: seconds 0-30, e.g. 4.5"),
        ("custom_inhale", "four", "allowed: seconds 0.5-30, e.g. 4.5"),
        ("custom_inhale", "", "allowed: seconds 0.5-30, e.g. 4.5"),
    ],
)
def test_seconds_out_of_range_are_refused_never_clamped(
    object_id: str, payload: str, allowed: str
) -> None:
    with pytest.raises(BadPayload) as refused:
        request(object_id, payload, custom=True)
    assert str(refused.value) == allowed


def states(w: Watcher) -> dict[str, str | None]:
    return {n: w.last(f"{BASE}/{n}/state") for n in NUMBERS}


def wait_states(w: Watcher, expected: dict[str, str]) -> None:
    wait_until(lambda: states(w) == expected, what=f"the custom numbers {expected}")


def setting(device: Device, key: str) -> object:
    return device.cli_json("settings")["settings"][key]["value"]


def test_home_assistant_sets_a_custom_pattern_second_by_second(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device()  # the defaults: pattern = "three-breath", no custom seconds
    w = watcher_factory(broker.port)
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(f"{BASE}/pattern/state", "three-breath")
    wait_states(w, dict.fromkeys(NUMBERS, "None"))

    w.publish(f"{BASE}/custom_inhale/set", "5")
    w.wait_for(f"{BASE}/pattern/state", "custom")
    wait_states(
        w,
        {
            "custom_inhale": "5.0",
            "custom_hold_in": "0.0",
            "custom_exhale": "4.0",
            "custom_hold_out": "0.0",
        },
    )
    assert device.status()["next_pattern"] == "custom"

    w.publish(f"{BASE}/custom_hold_out/set", "2")
    w.wait_for(f"{BASE}/custom_hold_out/state", "2.0")
    assert (setting(device, "session.inhale"), setting(device, "session.hold_out")) == (5.0, 2.0)

    # Set elsewhere (the CLI): Home Assistant sees it, and its next change keeps it.
    assert device.cli("set", "session.exhale", "7").returncode == 0
    w.wait_for(f"{BASE}/custom_exhale/state", "7.0")
    w.publish(f"{BASE}/custom_hold_in/set", "1.5")
    w.wait_for(f"{BASE}/custom_hold_in/state", "1.5")
    assert [setting(device, k) for k in ("session.inhale", "session.exhale")] == [5.0, 7.0]

    # Out of range: refused by the bridge, named in its log, the real value shown again.
    w.clear()
    w.publish(f"{BASE}/custom_inhale/set", "31")
    w.wait_for(f"{BASE}/custom_inhale/state", "5.0")
    lines = bridge.output().splitlines()
    (refusal,) = [line for line in lines if f"{BASE}/custom_inhale/set" in line]
    assert refusal.startswith("WARNING") and "allowed: seconds 0.5-30" in refusal

    # Back to a preset: the custom seconds go with it, and the numbers are unknown again.
    w.publish(f"{BASE}/pattern/set", "box")
    w.wait_for(f"{BASE}/pattern/state", "box")
    wait_states(w, dict.fromkeys(NUMBERS, "None"))
    assert setting(device, "session.inhale") is None


CUSTOM_SETTINGS = {
    "session.pattern": {"value": "custom", "source": "settings"},
    "session.inhale": {"value": 5.0, "source": "settings"},
    "session.exhale": {"value": 7.0, "source": "settings"},
}


def test_a_number_changed_as_the_bridge_starts_never_replaces_a_custom_pattern(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The service has a custom pattern; the bridge's first look at its settings is held while
    # Home Assistant changes a number. Taken then, with the pattern not yet known to be custom,
    # it would start a custom pattern afresh (4 s in) over the user's 5 s.
    service.settings.update(json.loads(json.dumps(CUSTOM_SETTINGS)))
    asked, release = threading.Event(), threading.Event()

    def request(path: Path, message: Mapping[str, Any]) -> dict[str, Any]:
        if message.get("cmd") == "settings" and not asked.is_set():
            asked.set()
            release.wait(HOLD_LIMIT_S)
        return send_request(path, message)

    caplog.set_level(logging.WARNING, "breathring.mqtt")
    w = watcher_factory(broker.port)
    start_bridge(broker, request=request)
    wait_until(asked.is_set, what="the bridge to ask for the settings")
    config = f"homeassistant/number/{BRIDGE_DEVICE}/custom_exhale/config"
    wait_until(lambda: config in w.configs(), what="the bridge subscribed and announced")
    w.publish(f"breathring/{BRIDGE_DEVICE}/custom_exhale/set", "6")
    wait_until(
        lambda: "the service is not reachable" in caplog.text or service.requests_of("set"),
        what="the bridge to take the command",
    )
    release.set()
    w.wait_for(f"breathring/{BRIDGE_DEVICE}/custom_inhale/state", "5.0")
    w.wait_for(f"breathring/{BRIDGE_DEVICE}/availability", "online")
    assert service.requests_of("set") == []
    # Once the settings are known, the same change sets the one key.
    w.publish(f"breathring/{BRIDGE_DEVICE}/custom_exhale/set", "6")
    w.wait_for(f"breathring/{BRIDGE_DEVICE}/custom_exhale/state", "6.0")
    assert service.requests_of("set") == [{"cmd": "set", "values": {"session.exhale": 6.0}}]
