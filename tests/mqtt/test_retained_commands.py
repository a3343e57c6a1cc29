"""A command left retained at the broker is never replayed: ignored, cleared, said once.

Real peers: Debian's mosquitto, the real service on mock hardware, `breathring mqtt`.
"""

from __future__ import annotations

from collections.abc import Callable

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from testkit import DEADLINE_S, LOOPBACK, wait_until
from testkit.mqtt import Broker, Watcher
from testkit.stack import BridgeProcess, Device

DEVICE_ID = "retained1"
BASE = f"breathring/{DEVICE_ID}"
AVAILABILITY = f"{BASE}/availability"
START_TOPIC = f"{BASE}/start/set"
#: Discovery configs the bridge announces (retained): fourteen entities.
CONFIG_COUNT = 14


def publish_retained(watcher: Watcher, topic: str, payload: str) -> None:
    """As `mosquitto_pub -r -t TOPIC -m PAYLOAD` does."""
    watcher.client.publish(topic, payload, qos=1, retain=True).wait_for_publish(DEADLINE_S)


def onlines(watcher: Watcher) -> int:
    return sum(m.payload == "online" for m in watcher.seen(AVAILABILITY))


def commands_done(watcher: Watcher, marker: str) -> None:
    """A command after every earlier one: the bridge runs commands in order, one at a time."""
    watcher.publish(f"{BASE}/pattern/set", marker)
    watcher.wait_for(f"{BASE}/pattern/state", marker)


def assert_cleared(broker: Broker, watcher_factory: Callable[..., Watcher]) -> None:
    """The broker no longer holds a retained message on the start topic."""
    watcher = watcher_factory(broker.port)
    # Retained messages come all at once, right after the subscription.
    wait_until(lambda: len(watcher.configs()) == CONFIG_COUNT, what="the retained configs")
    assert watcher.seen(START_TOPIC) == []


def retained_warnings(bridge: BridgeProcess) -> list[str]:
    return [line for line in bridge.output().splitlines() if START_TOPIC in line]


def test_a_command_retained_before_the_bridge_starts_is_ignored_and_cleared(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device()
    w = watcher_factory(broker.port)
    publish_retained(w, START_TOPIC, "PRESS")
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(AVAILABILITY, "online")
    commands_done(w, "box")
    w.wait_for(START_TOPIC, "")  # the bridge's empty retained message, which deletes it
    assert device.status()["state"] == "idle"
    assert device.cli_json("stats")["today"]["sessions"] == 0
    assert_cleared(broker, watcher_factory)
    (warning,) = retained_warnings(bridge)
    assert "WARNING" in warning and "retained" in warning


def test_a_retained_command_is_not_replayed_when_the_bridge_reconnects(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device()
    w = watcher_factory(broker.port)
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(AVAILABILITY, "online")
    commands_done(w, "box")
    # Sent while the bridge listens, it is an ordinary command (MQTT 3.1.1 tells it no more).
    publish_retained(w, START_TOPIC, "PRESS")
    wait_until(lambda: device.status()["state"] == "session", what="the session")
    assert device.cli("stop").returncode == 0
    wait_until(lambda: device.status()["state"] == "idle", what="the session to end")
    before = onlines(w)

    kick_off_the_broker(broker, f"breathring-{DEVICE_ID}")  # a Wi-Fi blip, as the bridge sees it
    wait_until(lambda: onlines(w) > before, what="the bridge to announce itself again")
    commands_done(w, "coherent")

    assert device.status()["state"] == "idle"
    assert device.cli_json("stats")["today"]["sessions"] == 1
    w.wait_for(START_TOPIC, "")
    assert_cleared(broker, watcher_factory)
    (warning,) = retained_warnings(bridge)
    assert "retained" in warning


def kick_off_the_broker(broker: Broker, client_id: str) -> None:
    """Connect with `client_id`: the broker drops the client that had it (session takeover)."""
    intruder = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id)
    intruder.connect(LOOPBACK, broker.port)
    intruder.loop_start()
    try:
        wait_until(intruder.is_connected, what="the intruder to connect")
    finally:
        intruder.disconnect()
        intruder.loop_stop()
