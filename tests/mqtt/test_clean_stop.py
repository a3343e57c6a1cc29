"""A clean stop (SIGTERM): "offline" is left retained at the broker, and the stop ends within
a few seconds whatever the broker and the service are doing.

The bridge waits up to 2 s for "offline" to reach the broker and up to 2 s for its command
worker; a broker that stopped answering or a service stuck on a command cannot hold it longer.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
from testkit import wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

from breathring.control.client import send_request

BASE = "breathring/bedside1"
AVAILABILITY = f"{BASE}/availability"
#: Commands the bridge keeps waiting for the service (bridge.COMMAND_QUEUE_SIZE).
QUEUE_SIZE = 32


def test_offline_is_left_retained_at_qos_1(
    online: tuple[BridgeThread, Watcher], broker: Broker, watcher_factory: Callable[..., Watcher]
) -> None:
    r, _ = online
    r.stop()
    late = watcher_factory(broker.port)  # connects after the bridge is gone
    wait_until(lambda: late.seen(AVAILABILITY), what="the retained availability")
    last = late.seen(AVAILABILITY)[-1]
    assert (last.payload, last.retain, last.qos) == ("offline", True, 1)


@pytest.fixture
def paused_broker(broker: Broker) -> Iterator[Broker]:
    """The broker, resumed after the test if the test paused it."""
    yield broker
    broker.resume()


def test_a_broker_that_stopped_answering_does_not_hold_the_stop(
    online: tuple[BridgeThread, Watcher], paused_broker: Broker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="breathring.mqtt")
    r, _ = online
    paused_broker.pause()  # still connected, never acknowledges "offline"
    r.stop()  # fails if the bridge has not ended within 10 s
    assert r.result == [0]
    assert caplog.messages[-1] == "stopped; the broker did not acknowledge offline"


class OfflineFails:
    """The bridge's client's publish, except that "offline" comes back as paho reports a
    message it could not send: the connection lost between the bridge's check and its wait
    (MQTT_ERR_NO_CONN: RuntimeError), or the outgoing queue full (ValueError)."""

    def __init__(self, client: paho.Client, rc: int) -> None:
        self.publish = client.publish
        self.rc = rc

    def __call__(self, topic: str, payload: str, *args: Any, **kwargs: Any) -> Any:
        if (topic, payload) != (AVAILABILITY, "offline"):
            return self.publish(topic, payload, *args, **kwargs)
        info = paho.MQTTMessageInfo(mid=1)
        info.rc = self.rc
        return info


@pytest.mark.parametrize(
    "rc", [paho.MQTT_ERR_NO_CONN, paho.MQTT_ERR_QUEUE_SIZE], ids=["connection-lost", "queue-full"]
)
def test_offline_that_could_not_be_sent_does_not_break_the_stop(
    online: tuple[BridgeThread, Watcher], rc: int, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="breathring.mqtt")
    r, _ = online
    failing = OfflineFails(r.bridge.client, rc)
    r.bridge.client.publish = failing  # type: ignore[method-assign]
    r.stop()
    assert r.result == [0]
    said = {
        paho.MQTT_ERR_NO_CONN: "Message publish failed: The client is not currently connected.",
        paho.MQTT_ERR_QUEUE_SIZE: "Message is not queued due to ERR_QUEUE_SIZE",
    }[rc]
    assert caplog.messages[-2:] == [
        f"could not send offline to the broker: {said}",
        "stopped; the broker did not acknowledge offline",
    ]


class StuckStart:
    """The socket client, except that `start` waits until released (a service stuck on it)."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def __call__(self, path: Path, message: Mapping[str, Any]) -> dict[str, Any]:
        if message.get("cmd") == "start":
            self.release.wait()
        return send_request(path, message)


def test_a_service_stuck_on_a_command_does_not_hold_the_stop(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    stuck = StuckStart()
    w = watcher_factory(broker.port)
    r = start_bridge(broker, request=stuck)
    w.wait_for(AVAILABILITY, "online")
    wait_until(lambda: service.watcher_count == 1, what="the bridge to watch the service")
    try:
        # One start the worker is stuck on, a full queue behind it, and one more.
        for _ in range(QUEUE_SIZE + 2):
            w.publish(f"{BASE}/start/set", "PRESS")
        full = f'too many commands waiting for the service; ignored "PRESS" on {BASE}/start/set'
        wait_until(lambda: full in caplog.messages, what="the queue to be full")
        r.stop()  # fails if the bridge has not ended within 10 s
        assert r.result == [0]
        w.wait_for(AVAILABILITY, "offline")
    finally:
        stuck.release.set()
