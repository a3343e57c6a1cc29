"""What the bridge tells the journal about itself: where it bridges to, the service coming
and going, a service that will not be watched, and its stop (logger `breathring.mqtt`).

Lines written down word for word; the socket path and the broker's port are the test's own.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from testkit import LOOPBACK, wait_until
from testkit.fake_service import FakeService
from testkit.logs import messages
from testkit.mqtt import BridgeThread, Broker, Watcher

from breathring.clock import FakeClock

BASE = "breathring/bedside1"
AVAILABILITY = f"{BASE}/availability"
SENSOR_TOPIC = "sensors/bedroom/breath"


def test_start_and_stop_are_logged(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="breathring.mqtt")
    w = watcher_factory(broker.port)
    r = start_bridge(broker, breath_sensor="mqtt", breath_topic=SENSOR_TOPIC)
    w.wait_for(AVAILABILITY, "online")
    r.stop()
    assert [m for m in messages(caplog, logging.INFO) if "broker" not in m] == [
        f"bridging {service.path} to mqtt://{LOOPBACK}:{broker.port} as device bedside1"
        f" (topics under {BASE}/)",
        f"passing breathing rates on {SENSOR_TOPIC} to the service",
        f"connected to the service at {service.path}",
        "stopped; availability set to offline",
    ]


def test_with_tls_it_says_mqtts(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="breathring.mqtt")
    start_bridge(broker, tls=True).stop()  # a plain broker: it never gets in, and need not
    assert messages(caplog, logging.INFO)[0] == (
        f"bridging {service.path} to mqtts://{LOOPBACK}:{broker.port} as device bedside1"
        f" (topics under {BASE}/)"
    )


def test_the_service_going_away_is_logged(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    service.stop()
    w.wait_for(AVAILABILITY, "offline")
    assert messages(caplog, logging.WARNING)[:2] == [
        "the service closed the watch connection",
        f"lost the service at {service.path}; availability offline until it returns",
    ]


def test_a_service_that_cannot_be_reached_is_logged_once(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    service.stop()
    w = watcher_factory(broker.port)
    start_bridge(broker)
    w.wait_for(AVAILABILITY, "offline")
    wait_until(lambda: messages(caplog, logging.WARNING), what="a warning")
    service.start()
    w.wait_for(AVAILABILITY, "online")
    assert messages(caplog, logging.WARNING) == [
        f"cannot reach the service: breathring is not running (no socket at {service.path});"
        " start it with: sudo systemctl start breathring; retrying"
    ]


def test_a_service_that_refuses_the_watch_is_logged(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    service.forced["watch"] = {"ok": False, "code": "too-many-watchers", "error": "one is enough"}
    w = watcher_factory(broker.port)
    start_bridge(broker)
    wait_until(lambda: messages(caplog, logging.WARNING), what="a warning")
    assert w.last(AVAILABILITY) != "online"
    del service.forced["watch"]
    w.wait_for(AVAILABILITY, "online")
    assert messages(caplog, logging.WARNING) == [
        "cannot reach the service: the service refused to be watched (too-many-watchers):"
        " one is enough; retrying"
    ]


def test_the_service_lost_again_after_it_came_back_is_logged_again(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    for _ in range(2):
        service.stop()
        w.wait_for(AVAILABILITY, "offline")
        service.start()
        w.wait_for(AVAILABILITY, "online")
    closed = "the service closed the watch connection"
    assert [m for m in messages(caplog, logging.WARNING) if m == closed] == [closed, closed]


def test_the_services_troubles_share_one_line_a_minute(
    online_on_fake_clock: tuple[BridgeThread, Watcher],
    fake_clock: FakeClock,
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The watch closed, then the service refusing the watch: one trouble, one line a minute."""
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    service.forced["watch"] = {"ok": False, "code": "too-many-watchers", "error": "one is enough"}
    watches = len(service.requests_of("watch"))
    service.stop()
    service.start()
    wait_until(lambda: len(service.requests_of("watch")) >= watches + 3, what="3 refused watches")
    assert messages(caplog, logging.WARNING) == [
        "the service closed the watch connection",
        f"lost the service at {service.path}; availability offline until it returns",
    ]
    fake_clock.advance(60)
    refused = "cannot reach the service: the service refused to be watched (too-many-watchers)"
    wait_until(
        lambda: any(m.startswith(refused) for m in messages(caplog, logging.WARNING)),
        what="the refusal said after a minute",
    )
