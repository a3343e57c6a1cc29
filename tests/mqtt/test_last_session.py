"""The "Last session" sensor: the service's `stats.last_session` when it has the field.

A service whose stats carry `"last_session": null` has no session yet: the sensor
stays unknown (nothing published), and the bridge does not stamp a time of its own.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
from testkit import LOOPBACK
from testkit.fake_service import FakeService
from testkit.mqtt import Broker

from breathring.control.client import send_request
from breathring.mqtt.bridge import Bridge
from breathring.mqtt.settings import MqttSettings

DEVICE = "last1"
BASE = f"breathring/{DEVICE}"
LAST_SESSION = f"{BASE}/last_session/state"


class StatsWithLastSession:
    """The socket client, with `last_session` (settable) in every stats reply."""

    def __init__(self) -> None:
        self.last_session: str | None = None

    def __call__(self, path: Path, message: Mapping[str, Any]) -> dict[str, Any]:
        reply = send_request(path, message)
        if message.get("cmd") == "stats" and reply.get("ok"):
            reply["stats"]["last_session"] = self.last_session
        return reply


@pytest.fixture
def bridge_with_last_session(
    broker: Broker, service: FakeService
) -> Iterator[tuple[Bridge, StatsWithLastSession]]:
    stats = StatsWithLastSession()
    bridge = Bridge(
        MqttSettings(host=LOOPBACK, port=broker.port, device_id=DEVICE),
        service.path,
        sw_version="9.8.7",
        pattern_names=("three-breath", "box"),
        request=stats,
        service_backoff=(0.05, 0.2),
        broker_backoff=(1, 1),
    )
    thread = threading.Thread(target=bridge.run)
    thread.start()
    yield bridge, stats
    bridge.stop()
    thread.join(10)


def test_null_last_session_publishes_nothing_then_the_services_time(
    bridge_with_last_session: tuple[Bridge, StatsWithLastSession],
    broker: Broker,
    service: FakeService,
    watcher_factory,
) -> None:
    _, stats = bridge_with_last_session
    w = watcher_factory(broker.port)
    w.wait_for(f"{BASE}/sessions_today/state", "2")
    # A session seen on the watch stream: the service keeps the time, the bridge does not guess.
    service.set_status(state="session", phase="exhale")
    w.wait_for(f"{BASE}/phase/state", "exhale")
    service.set_status(state="idle", phase="idle")
    w.wait_for(f"{BASE}/phase/state", "idle")
    stats.last_session = "2026-12-04T16:05:09+00:00"
    service.record_session()  # a history event: the bridge asks for the stats again
    w.wait_for(f"{BASE}/sessions_today/state", "3")
    w.wait_for(LAST_SESSION, "2026-12-04T16:05:09+00:00")
    assert [m.payload for m in w.seen(LAST_SESSION)] == ["2026-12-04T16:05:09+00:00"]
