"""The Pattern select offers what the service accepts, and follows the settings.

"custom" is offered only while session.pattern = "custom" with session.inhale and
session.exhale set (the service refuses it otherwise). Real peers: Debian's mosquitto,
the real service on mock hardware (changed with `breathring set` / `unset`), `breathring mqtt`.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from testkit import wait_until
from testkit.mqtt import Broker, Watcher
from testkit.stack import SHORT_SESSION, BridgeProcess, Device

DEVICE_ID = "options1"
BASE = f"breathring/{DEVICE_ID}"
SELECT_CONFIG = f"homeassistant/select/{DEVICE_ID}/pattern/config"
PRESETS = ["three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "follow"]
WITH_CUSTOM = [*PRESETS, "custom"]


def options(watcher: Watcher) -> list[str] | None:
    config: dict[str, Any] | None = watcher.configs().get(SELECT_CONFIG)
    return None if config is None else config["options"]


def wait_options(watcher: Watcher, expected: list[str]) -> None:
    wait_until(lambda: options(watcher) == expected, what=f"the select's options {expected}")


def test_custom_is_offered_only_while_the_service_has_its_breaths(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device(SHORT_SESSION)  # pattern = "custom", inhale and exhale set
    w = watcher_factory(broker.port)
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(f"{BASE}/pattern/state", "custom")
    wait_options(w, WITH_CUSTOM)

    assert device.cli("set", "session.inhale", "2").returncode == 0  # still custom
    assert device.cli("set", "session.pattern", '"box"').returncode == 0  # drops the breaths
    w.wait_for(f"{BASE}/pattern/state", "box")
    wait_options(w, PRESETS)
    late = watcher_factory(broker.port)  # and so it stays, retained
    wait_options(late, PRESETS)

    # Home Assistant (or a hand) sending "custom" now: refused by the bridge, nothing changes.
    w.publish(f"{BASE}/pattern/set", "custom")
    w.publish(f"{BASE}/pattern/set", "sigh")
    w.wait_for(f"{BASE}/pattern/state", "sigh")
    assert device.status()["next_pattern"] == "sigh"
    (refusal,) = [line for line in bridge.output().splitlines() if f"{BASE}/pattern/set" in line]
    assert refusal.startswith("WARNING") and '"custom"' in refusal

    assert device.cli("unset", "session.pattern").returncode == 0  # the file's custom again
    w.wait_for(f"{BASE}/pattern/state", "custom")
    wait_options(w, WITH_CUSTOM)


def test_a_service_without_custom_breaths_is_never_offered_custom(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device()  # the defaults: pattern = "three-breath"
    w = watcher_factory(broker.port)
    start_bridge_process(device, DEVICE_ID)
    w.wait_for(f"{BASE}/pattern/state", "three-breath")
    wait_options(w, PRESETS)
    assert all(json.loads(m.payload)["options"] == PRESETS for m in w.seen(SELECT_CONFIG))
