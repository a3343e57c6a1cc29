"""Each state reaches the broker once per change, whichever side the bridge reaches first.

paho counts the client connected a moment before its on_connect (the announcement) runs,
and the service may come up while the announcement is under way. A state or the
availability learnt then must not go out twice: once on its own and once in the
announcement. Real peer: Debian's mosquitto; the service is the fake one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from testkit import wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

from breathring.mqtt.bridge import Bridge

BASE = "breathring/bedside1"
AVAILABILITY = f"{BASE}/availability"
PHASE = f"{BASE}/phase/state"
SESSIONS_TODAY = f"{BASE}/sessions_today/state"


def repeats(w: Watcher) -> dict[str, str]:
    """Topics whose payload arrived twice in a row, with that payload."""
    last: dict[str, str] = {}
    repeated: dict[str, str] = {}
    for m in list(w.messages):
        if last.get(m.topic) == m.payload:
            repeated[m.topic] = m.payload
        last[m.topic] = m.payload
    return repeated


def hold_the_announcement_until_the_service_is_known(service: FakeService) -> Callable[..., None]:
    """A `prepare` for start_bridge: on_connect waits until the bridge has taken the
    service's settings (it asks for the stats right after)."""

    def prepare(bridge: Bridge) -> None:
        announce = bridge.client.on_connect
        assert announce is not None

        def late(*args: Any) -> None:
            wait_until(lambda: service.requests_of("stats"), what="the bridge to ask for stats")
            announce(*args)

        bridge.client.on_connect = late

    return prepare


def watch_the_service_during_the_announcement(service: FakeService) -> Callable[..., None]:
    """A `prepare` for start_bridge: the announcement waits, after it began, until the bridge
    watches the service (so the service comes up while it is under way)."""

    def prepare(bridge: Bridge) -> None:
        discovery = bridge._discovery

        def late() -> list[tuple[str, dict[str, Any]]]:
            wait_until(lambda: service.watcher_count == 1, what="the bridge to watch the service")
            return discovery()

        bridge._discovery = late  # type: ignore[method-assign]

    return prepare


def settled(w: Watcher, service: FakeService) -> None:
    """Online, the stats out, and a later status line handled: nothing earlier is pending."""
    w.wait_for(AVAILABILITY, "online")
    w.wait_for(SESSIONS_TODAY, "2")
    service.set_status(phase="exhale")
    w.wait_for(PHASE, "exhale")


@pytest.mark.parametrize(
    "hold",
    [hold_the_announcement_until_the_service_is_known, watch_the_service_during_the_announcement],
    ids=["service-known-first", "service-up-during"],
)
def test_a_service_known_before_or_during_the_announcement_is_announced_once(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    hold: Callable[[FakeService], Callable[..., None]],
) -> None:
    w = watcher_factory(broker.port)
    start_bridge(broker, prepare=hold(service))
    settled(w, service)
    assert w.last(f"{BASE}/brightness/state") == "0.3"
    assert repeats(w) == {}


def test_an_ordinary_start_sends_nothing_twice_in_a_row(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    settled(w, service)
    assert [m.payload for m in w.seen(AVAILABILITY)][-1] == "online"
    assert repeats(w) == {}
