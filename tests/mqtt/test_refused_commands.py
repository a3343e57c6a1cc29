"""A command the bridge or the service refuses: the real state is published again.

Home Assistant shows the value it sent until the state topic says otherwise, so after a
refused change the bridge publishes the state the service really has once more, though it
did not change. A reading of the breath sensor has no state of Home Assistant's to put back.
Each command topic's bad payloads are logged apart (one line per topic per minute), and a
command while the service is away is dropped with a warning.

The bridge handles commands one at a time, in order: once a later command's state is seen,
everything an earlier one published has been seen too.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import pytest
from testkit import wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

from breathring.clock import FakeClock
from breathring.control.client import send_request
from breathring.control.protocol import ControlError

BASE = "breathring/bedside1"
AVAILABILITY = f"{BASE}/availability"
REMINDERS_STATE = f"{BASE}/reminders/state"
BRIGHTNESS_STATE = f"{BASE}/brightness/state"
BREATH_RATE_STATE = f"{BASE}/breath_rate/state"
SENSOR_TOPIC = "sensors/bedroom/breath"


def handled(w: Watcher, reminders: str) -> None:
    """Switch the reminders and wait for their state: what was sent before is handled."""
    w.publish(f"{BASE}/reminders/set", reminders)
    w.wait_for(REMINDERS_STATE, reminders)


def payloads(w: Watcher, topic: str) -> list[str]:
    return [m.payload for m in w.seen(topic)]


@pytest.mark.parametrize(
    ("object_id", "payload", "state"),
    [
        ("brightness", "bright", "0.3"),
        ("brightness", "1.5", "0.3"),
        ("pattern", "nope", "three-breath"),
    ],
)
def test_an_unusable_payload_puts_the_real_state_back(
    online: tuple[BridgeThread, Watcher], object_id: str, payload: str, state: str
) -> None:
    _, w = online
    handled(w, "OFF")  # the bridge's announcement is over: no state is published again
    w.clear()
    w.publish(f"{BASE}/{object_id}/set", payload)
    handled(w, "ON")
    assert payloads(w, f"{BASE}/{object_id}/state") == [state]


@pytest.mark.parametrize(
    ("code", "said"),
    [
        ("invalid", "the service refused set (invalid): not allowed here"),
        ("busy", "the service could not take set (busy): not allowed here"),
    ],
)
def test_a_change_the_service_refuses_puts_the_real_state_back(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
    code: str,
    said: str,
) -> None:
    _, w = online
    handled(w, "OFF")
    service.forced["set"] = {"ok": False, "code": code, "error": "not allowed here"}
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    w.clear()
    w.publish(f"{BASE}/brightness/set", "0.55")
    handled(w, "ON")
    assert service.requests_of("set") == [{"cmd": "set", "key": "ring.brightness", "value": 0.55}]
    assert payloads(w, BRIGHTNESS_STATE) == ["0.3"]
    assert caplog.messages == [said]


@pytest.mark.parametrize(
    ("reading", "refusal"),
    [
        ("abc", None),  # the bridge refuses it
        ("12.5", {"ok": False, "code": "invalid", "error": "per_min = 12.5 is not wanted"}),
    ],
)
def test_a_refused_reading_publishes_no_state_again(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    reading: str,
    refusal: dict[str, object] | None,
) -> None:
    w = watcher_factory(broker.port)
    start_bridge(broker, breath_sensor="mqtt", breath_topic=SENSOR_TOPIC)
    w.wait_for(AVAILABILITY, "online")
    w.wait_for(BREATH_RATE_STATE, "None")
    handled(w, "OFF")
    if refusal is not None:
        service.forced["breath_rate"] = refusal
    w.clear()
    w.publish(SENSOR_TOPIC, reading)
    handled(w, "ON")
    assert payloads(w, BREATH_RATE_STATE) == []


def test_bad_payloads_on_two_topics_are_each_logged(
    online: tuple[BridgeThread, Watcher], caplog: pytest.LogCaptureFixture
) -> None:
    _, w = online
    handled(w, "OFF")
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    w.publish(f"{BASE}/brightness/set", "bright")
    w.publish(f"{BASE}/stop/set", "STOP")
    handled(w, "ON")
    assert caplog.messages == [
        f'ignored payload "bright" on {BASE}/brightness/set: allowed: a number 0.01-1',
        f'ignored payload "STOP" on {BASE}/stop/set: allowed: "PRESS"',
    ]


def test_a_command_while_the_service_is_away_is_dropped_with_a_warning(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    service.stop()
    w.wait_for(AVAILABILITY, "offline")
    w.publish(f"{BASE}/start/set", "PRESS")
    expected = f'the service is not reachable; ignored "PRESS" on {BASE}/start/set'
    wait_until(lambda: expected in caplog.messages, what="the warning")
    assert service.requests_of("start") == []


class FailingCommands:
    """The socket client, except that the commands `cmds` raise `error` instead of an answer."""

    def __init__(self, cmds: tuple[str, ...], error: Exception) -> None:
        self.cmds = cmds
        self.error = error

    def __call__(self, path: Path, message: Mapping[str, Any]) -> dict[str, Any]:
        if message.get("cmd") in self.cmds:
            raise self.error
        return send_request(path, message)


def test_each_refusal_is_logged_with_its_code_and_reason(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    w = watcher_factory(broker.port)
    start_bridge(
        broker, request=FailingCommands(("stop", "set"), ControlError("the line went dead"))
    )
    w.wait_for(AVAILABILITY, "online")
    handled(w, "OFF")
    service.forced["start"] = {"ok": False}  # neither a code nor a reason
    w.publish(f"{BASE}/start/set", "PRESS")
    w.publish(f"{BASE}/stop/set", "PRESS")
    w.publish(f"{BASE}/pattern/set", "box")
    handled(w, "ON")
    assert caplog.messages == [
        "the service refused start (no known code): no reason given",
        "stop: the line went dead",
        "set: the line went dead",  # each command's trouble is said on its own
    ]


def test_refusals_of_two_commands_in_one_minute_are_each_logged(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    handled(w, "OFF")
    service.forced["start"] = {"ok": False, "code": "not-configured", "error": "no custom breaths"}
    service.forced["set"] = {"ok": False, "code": "storage", "error": "disk full"}
    w.publish(f"{BASE}/start/set", "PRESS")
    w.publish(f"{BASE}/pattern/set", "box")
    handled(w, "ON")
    assert caplog.messages == [
        "the service refused start (not-configured): no custom breaths",
        "the service refused set (storage): disk full",
    ]


def test_the_same_trouble_is_said_again_after_a_minute_with_the_count(
    online_on_fake_clock: tuple[BridgeThread, Watcher],
    fake_clock: FakeClock,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online_on_fake_clock
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    said = f'ignored payload "bright" on {BASE}/brightness/set: allowed: a number 0.01-1'
    w.publish(f"{BASE}/brightness/set", "bright")
    w.publish(f"{BASE}/brightness/set", "bright")
    handled(w, "OFF")
    fake_clock.advance(59.9)
    w.publish(f"{BASE}/brightness/set", "bright")
    handled(w, "ON")
    assert caplog.messages == [said]
    fake_clock.advance(0.1)
    w.publish(f"{BASE}/brightness/set", "bright")
    handled(w, "OFF")
    assert caplog.messages == [said, said + " (2 more since the last report)"]


def test_a_command_that_fails_unexpectedly_is_logged_and_the_next_is_sent(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    w = watcher_factory(broker.port)
    start_bridge(broker, request=FailingCommands(("stop",), RuntimeError("the socket is on fire")))
    w.wait_for(AVAILABILITY, "online")
    w.publish(f"{BASE}/stop/set", "PRESS")
    handled(w, "OFF")
    [record] = caplog.records
    assert (record.levelno, record.getMessage()) == (
        logging.ERROR,
        "command Command(object_id='stop', payload='PRESS') failed",
    )
    assert record.exc_info is not None and str(record.exc_info[1]) == "the socket is on fire"
