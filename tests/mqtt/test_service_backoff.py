"""Waiting for the service: the bridge tries again after a wait that doubles from the first
backoff up to the maximum, never beyond (`start_bridge` runs it with 0.05 s up to 0.2 s).

A service that refuses to be watched counts each attempt (a watch request each).
"""

from __future__ import annotations

from collections.abc import Callable

from testkit import wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

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
