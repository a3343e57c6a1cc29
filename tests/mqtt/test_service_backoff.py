"""Waiting for the service: the bridge tries again after a wait that doubles from the first
backoff up to the maximum, never beyond (`start_bridge` runs it with 0.05 s up to 0.2 s).

A service that refuses to be watched counts each attempt (a watch request each).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from testkit import LOOPBACK, free_port, wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

from breathring.mqtt.bridge import Bridge
from breathring.mqtt.settings import MqttSettings

AVAILABILITY = "breathring/bedside1/availability"
#: Attempts: capped at 0.2 s they take about 2 s; doubling without the cap would take 100 s.
ATTEMPTS = 12


def test_the_wait_between_attempts_stops_growing_at_the_maximum(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
) -> None:
    service.forced["watch"] = {"ok": False, "code": "too-many-watchers", "error": "full"}
    w = watcher_factory(broker.port)
    start_bridge(broker)
    wait_until(lambda: len(service.requests_of("watch")) >= ATTEMPTS, what=f"{ATTEMPTS} attempts")
    del service.forced["watch"]
    w.wait_for(AVAILABILITY, "online")
    # Each attempt watches as the MQTT companion (its own share of watchers).
    assert service.requests_of("watch")[0] == {"cmd": "watch", "client": "mqtt"}


class CountedWaits(threading.Event):
    """The bridge's stop event, except that a timed wait returns at once and is written down;
    after `attempts` waits it is set, so the bridge stops."""

    def __init__(self, attempts: int) -> None:
        super().__init__()
        self.attempts = attempts
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        if timeout is None or self.is_set():
            return super().wait(timeout)
        self.waits.append(timeout)
        if len(self.waits) >= self.attempts:
            self.set()
        return self.is_set()


def test_the_wait_between_attempts_doubles_from_the_first_to_the_maximum(
    short_dir: Path,
) -> None:
    settings = MqttSettings(host=LOOPBACK, port=free_port(), device_id="bedside1")
    bridge = Bridge(
        settings,
        short_dir / "no-service.sock",
        sw_version="9.8.7",
        pattern_names=("box",),
        service_backoff=(0.05, 0.5),
    )
    waits = CountedWaits(attempts=7)
    bridge._stopping = waits  # the loop waits between attempts on this event
    assert bridge.run() == 0
    assert waits.waits == [0.05, 0.1, 0.2, 0.4, 0.5, 0.5, 0.5]
