"""The bridge against a real mosquitto and a fake control socket (PROTOCOL.md).

Each test runs the bridge in a thread of the test process, watches the broker
with a paho client, and drives the fake service.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from testkit import LOOPBACK, wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import PASSWORD, USERNAME, BridgeThread, Broker, Watcher

DEVICE = "bedside1"
BASE = f"breathring/{DEVICE}"
AVAILABILITY = f"{BASE}/availability"
PRESETS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down")
#: Config topics expected, written out (component, object id).
EXPECTED_CONFIGS = {
    f"homeassistant/{component}/{DEVICE}/{object_id}/config"
    for component, object_id in (
        ("button", "start"),
        ("button", "stop"),
        ("select", "pattern"),
        ("switch", "reminders"),
        ("number", "brightness"),
        ("sensor", "phase"),
        ("sensor", "sessions_today"),
        ("sensor", "streak"),
        ("sensor", "last_session"),
        ("event", "button"),
        ("number", "custom_inhale"),
        ("number", "custom_hold_in"),
        ("number", "custom_exhale"),
        ("number", "custom_hold_out"),
    )
}


def test_discovery_configs_are_retained_and_complete(
    online: tuple[BridgeThread, Watcher], broker: Broker, watcher_factory
) -> None:
    # A client that connects afterwards gets every config as a retained message.
    late = watcher_factory(broker.port)
    wait_until(lambda: set(late.configs()) == EXPECTED_CONFIGS, what="every discovery config")
    assert all(late.seen(t)[-1].retain for t in EXPECTED_CONFIGS)
    assert late.seen(AVAILABILITY)[-1].retain and late.last(AVAILABILITY) == "online"
    configs = late.configs()
    unique_ids = [c["unique_id"] for c in configs.values()]
    assert len(set(unique_ids)) == len(EXPECTED_CONFIGS)
    for topic, config in configs.items():
        assert config["device"] == {
            "identifiers": [f"breathring_{DEVICE}"],
            "name": "breathring",
            "model": "Guided-breathing light",
            "manufacturer": "breathring project",
            "sw_version": "9.8.7",
        }, topic
        assert config["availability"] == [
            {
                "topic": AVAILABILITY,
                "payload_available": "online",
                "payload_not_available": "offline",
            }
        ], topic
        assert config["unique_id"].startswith(f"breathring_{DEVICE}_")
    by_object = {t.split("/")[3]: c for t, c in configs.items()}
    assert by_object["start"]["name"] == "Start session"
    assert by_object["start"]["command_topic"] == f"{BASE}/start/set"
    assert by_object["start"]["payload_press"] == "PRESS"
    assert by_object["stop"]["name"] == "Stop session"
    assert by_object["pattern"]["options"] == list(PRESETS)
    assert by_object["reminders"]["name"] == "Hourly reminders"
    assert (
        by_object["brightness"]["min"],
        by_object["brightness"]["max"],
        by_object["brightness"]["step"],
    ) == (0.01, 1.0, 0.01)
    assert by_object["streak"]["unit_of_measurement"] == "d"
    assert by_object["last_session"]["device_class"] == "timestamp"
    assert by_object["button"]["event_types"] == ["press", "double", "hold"]
    assert by_object["phase"]["state_topic"] == f"{BASE}/phase/state"


def test_initial_state_is_published(online: tuple[BridgeThread, Watcher]) -> None:
    _, w = online
    w.wait_for(f"{BASE}/phase/state", "idle")
    w.wait_for(f"{BASE}/pattern/state", "three-breath")
    w.wait_for(f"{BASE}/reminders/state", "ON")
    w.wait_for(f"{BASE}/brightness/state", "0.3")
    w.wait_for(f"{BASE}/sessions_today/state", "2")
    w.wait_for(f"{BASE}/streak/state", "5")


def test_start_button_starts_a_remote_session(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    w.publish(f"{BASE}/start/set", "PRESS")
    wait_until(lambda: service.requests_of("start"), what="a start request")
    assert service.requests_of("start") == [{"cmd": "start", "trigger": "remote"}]
    w.wait_for(f"{BASE}/phase/state", "lead-in")


def test_stop_button(online: tuple[BridgeThread, Watcher], service: FakeService) -> None:
    _, w = online
    service.set_status(state="session", phase="inhale")
    w.wait_for(f"{BASE}/phase/state", "inhale")
    w.publish(f"{BASE}/stop/set", "PRESS")
    wait_until(lambda: service.requests_of("stop") == [{"cmd": "stop"}], what="a stop request")
    w.wait_for(f"{BASE}/phase/state", "idle")


def test_pattern_select_sets_the_next_pattern_and_starts_nothing(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    w.publish(f"{BASE}/pattern/set", "wind-down")
    w.wait_for(f"{BASE}/pattern/state", "wind-down")
    assert service.requests_of("set") == [
        {"cmd": "set", "key": "session.pattern", "value": "wind-down"}
    ]
    assert service.requests_of("start") == []


def test_reminders_switch(online: tuple[BridgeThread, Watcher], service: FakeService) -> None:
    _, w = online
    w.wait_for(f"{BASE}/reminders/state", "ON")
    w.publish(f"{BASE}/reminders/set", "OFF")
    w.wait_for(f"{BASE}/reminders/state", "OFF")
    w.publish(f"{BASE}/reminders/set", "ON")
    w.wait_for(f"{BASE}/reminders/state", "ON")
    assert service.requests_of("reminders") == [
        {"cmd": "reminders", "value": "off"},
        {"cmd": "reminders", "value": "on"},
    ]


def test_brightness_number(online: tuple[BridgeThread, Watcher], service: FakeService) -> None:
    _, w = online
    w.publish(f"{BASE}/brightness/set", "0.55")
    w.wait_for(f"{BASE}/brightness/state", "0.55")
    assert service.requests_of("set") == [{"cmd": "set", "key": "ring.brightness", "value": 0.55}]


def test_state_follows_the_watch_stream(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    for phase in ("lead-in", "inhale", "hold-in", "exhale", "closing", "idle"):
        service.set_status(phase=phase, state="idle" if phase == "idle" else "session")
        w.wait_for(f"{BASE}/phase/state", phase)
    service.set_status(next_pattern="box", reminders=False)
    w.wait_for(f"{BASE}/pattern/state", "box")
    w.wait_for(f"{BASE}/reminders/state", "OFF")


def test_history_events_refresh_the_stats(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    w.wait_for(f"{BASE}/sessions_today/state", "2")
    service.streak_days = 6
    service.record_session(when="2026-01-15T22:31:04+01:00")
    w.wait_for(f"{BASE}/sessions_today/state", "3")
    w.wait_for(f"{BASE}/streak/state", "6")
    w.wait_for(f"{BASE}/last_session/state", "2026-01-15T22:31:04+01:00")


def test_settings_events_refresh_the_brightness(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    w.wait_for(f"{BASE}/brightness/state", "0.3")
    service.settings["ring.brightness"] = {"value": 0.8, "source": "settings"}
    service.push({"kind": "settings"})
    w.wait_for(f"{BASE}/brightness/state", "0.8")


def test_button_gestures_become_events_socket_ones_do_not(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    topic = f"{BASE}/button/event"
    service.gesture("press", source="socket")
    for gesture in ("press", "double", "hold"):
        service.gesture(gesture)
    wait_until(lambda: len(w.seen(topic)) == 3, what="three button events")
    assert [json.loads(m.payload) for m in w.seen(topic)] == [
        {"event_type": "press"},
        {"event_type": "double"},
        {"event_type": "hold"},
    ]
    assert not any(m.retain for m in w.seen(topic))


def test_a_button_event_is_not_kept_for_a_client_that_comes_later(
    online: tuple[BridgeThread, Watcher], service: FakeService, broker: Broker, watcher_factory
) -> None:
    _, w = online
    topic = f"{BASE}/button/event"
    service.gesture("press")
    wait_until(lambda: w.seen(topic), what="the button event")
    late = watcher_factory(broker.port)
    # The broker sends a new subscriber what it keeps before anything published after it.
    w.publish("test/marker", "after")
    late.wait_for("test/marker", "after")
    assert late.seen(topic) == []


@pytest.mark.parametrize(
    ("object_id", "payload"),
    [
        ("start", "press"),
        ("start", ""),
        ("stop", "STOP"),
        ("pattern", "custom"),
        ("pattern", "nope"),
        ("reminders", "on"),
        ("reminders", "TRUE"),
        ("brightness", "bright"),
        ("brightness", "nan"),
        ("brightness", "1.5"),  # outside 0.01-1: refused by the bridge, never sent
        ("brightness", "0"),
        ("pattern", b"\xff\xfe"),
    ],
)
def test_bad_payloads_are_logged_once_and_ignored(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
    object_id: str,
    payload: str | bytes,
) -> None:
    r, w = online
    w.wait_for(f"{BASE}/brightness/state", "0.3")
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    before = {cmd: len(service.requests_of(cmd)) for cmd in ("start", "stop", "reminders")}
    for _ in range(3):
        w.publish(f"{BASE}/{object_id}/set", payload)
    # A good command afterwards still works: the bridge is alive and in order.
    w.publish(f"{BASE}/reminders/set", "OFF")
    w.wait_for(f"{BASE}/reminders/state", "OFF")
    assert r.thread.is_alive()
    for cmd, count in before.items():
        expected = count + (1 if cmd == "reminders" else 0)
        assert len(service.requests_of(cmd)) == expected
    assert not any(s["key"] == "session.pattern" for s in service.requests_of("set"))
    warnings = [m for m in caplog.messages if f"{BASE}/{object_id}/set" in m or "refused set" in m]
    assert len(warnings) == 1, caplog.messages
    assert w.last(f"{BASE}/brightness/state") == "0.3"


def test_broker_restart_republishes_discovery_and_state(
    online: tuple[BridgeThread, Watcher], broker: Broker, watcher_factory
) -> None:
    _, w = online
    w.wait_for(f"{BASE}/phase/state", "idle")
    w.close()
    broker.stop()  # the broker forgets everything (no persistence)
    broker.start()
    fresh = watcher_factory(broker.port)
    wait_until(lambda: set(fresh.configs()) == EXPECTED_CONFIGS, 15, "discovery again")
    fresh.wait_for(AVAILABILITY, "online")
    fresh.wait_for(f"{BASE}/phase/state", "idle")
    fresh.wait_for(f"{BASE}/brightness/state", "0.3")
    # And commands work again.
    fresh.publish(f"{BASE}/reminders/set", "OFF")
    fresh.wait_for(f"{BASE}/reminders/state", "OFF")


def test_service_restart_goes_offline_then_online(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    service.stop()
    w.wait_for(AVAILABILITY, "offline")
    # Commands while the service is away are answered by nothing and crash nothing.
    w.publish(f"{BASE}/start/set", "PRESS")
    service.status["phase"] = "inhale"
    service.start()
    w.wait_for(AVAILABILITY, "online")
    w.wait_for(f"{BASE}/phase/state", "inhale")
    assert service.requests_of("start") == []
    w.publish(f"{BASE}/start/set", "PRESS")
    wait_until(lambda: service.requests_of("start"), what="start after the service returned")


def test_service_absent_at_start_is_offline(
    broker: Broker, service: FakeService, start_bridge, watcher_factory
) -> None:
    service.stop()
    w = watcher_factory(broker.port)
    start_bridge(broker)
    wait_until(lambda: set(w.configs()) == EXPECTED_CONFIGS, what="discovery")
    w.wait_for(AVAILABILITY, "offline")
    service.start()
    w.wait_for(AVAILABILITY, "online")


def test_home_assistant_birth_brings_the_configs_back(online: tuple[BridgeThread, Watcher]) -> None:
    _, w = online
    wait_until(lambda: set(w.configs()) == EXPECTED_CONFIGS, what="discovery")
    w.clear()
    w.publish("homeassistant/status", "online")
    wait_until(lambda: set(w.configs()) == EXPECTED_CONFIGS, what="discovery after HA birth")


def test_clean_stop_publishes_offline(online: tuple[BridgeThread, Watcher]) -> None:
    r, w = online
    r.stop()
    assert r.result == [0]
    w.wait_for(AVAILABILITY, "offline")


def test_stop_after_the_end_is_harmless(online: tuple[BridgeThread, Watcher]) -> None:
    r, _ = online
    r.stop()
    r.bridge.stop()  # a second SIGTERM, after run() closed its wake-up socket
    assert r.result == [0]


def test_the_broker_is_given_the_keepalive_of_the_settings(
    broker: Broker, service: FakeService, start_bridge
) -> None:
    start_bridge(broker, keepalive=17)
    # mosquitto's notice: protocol 3.1.1 (p2), clean session (c1), keepalive 17 s (k17).
    wait_until(
        lambda: f"as breathring-{DEVICE} (p2, c1, k17)" in broker.log.read_text(),
        what="the bridge's connection in the broker's log",
    )


def test_broker_with_password(
    password_broker: Broker,
    service: FakeService,
    start_bridge,
    watcher_factory,
    tmp_path: Path,
) -> None:
    w = watcher_factory(password_broker.port, username=USERNAME, password=PASSWORD)
    start_bridge(password_broker, username=USERNAME, password=PASSWORD)
    w.wait_for(AVAILABILITY, "online")
    w.publish(f"{BASE}/reminders/set", "OFF")
    w.wait_for(f"{BASE}/reminders/state", "OFF")


def test_wrong_password_is_logged_and_retried(
    password_broker: Broker,
    service: FakeService,
    start_bridge,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    r = start_bridge(password_broker, username=USERNAME, password="wrong")
    wait_until(
        lambda: any("refused the connection" in m for m in caplog.messages),
        what="a refusal in the log",
    )
    refusal = next(m for m in caplog.messages if "refused the connection" in m)
    assert f"{LOOPBACK}:{password_broker.port}" in refusal
    assert "check mqtt.username and mqtt.password_file" in refusal
    # Retrying (paho's backoff), not crashed; and said once, not once per retry.
    attempts = wait_until(lambda: _refusals(password_broker) >= 2, 15, "a second attempt")
    assert attempts and r.thread.is_alive()
    assert sum("refused the connection" in m for m in caplog.messages) == 1


def _refusals(broker: Broker) -> int:
    text = broker.log.read_text(errors="replace")
    return text.count("not authorised") + text.count("not authorized")


def test_tls_with_a_ca_file(
    tls_broker: Broker, service: FakeService, start_bridge, watcher_factory, tmp_path: Path
) -> None:
    ca = tmp_path / "ca.pem"
    w = watcher_factory(tls_broker.port, ca_file=ca)
    start_bridge(tls_broker, tls=True, ca_file=ca)
    w.wait_for(AVAILABILITY, "online")
    w.publish(f"{BASE}/start/set", "PRESS")
    wait_until(lambda: service.requests_of("start"), what="a start over TLS")


def test_tls_with_system_cas_refuses_an_unknown_ca_and_keeps_trying(
    tls_broker: Broker,
    service: FakeService,
    start_bridge,
    watcher_factory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="breathring.mqtt")
    w = watcher_factory(tls_broker.port, ca_file=tmp_path / "ca.pem")
    r = start_bridge(tls_broker, tls=True)  # no ca_file: the system's CAs, which lack ours
    wait_until(
        lambda: any("cannot reach the broker" in m for m in caplog.messages),
        what="a failed TLS connection in the log",
    )
    failure = next(m for m in caplog.messages if "cannot reach the broker" in m)
    assert "signed by a system CA; else set mqtt.ca_file" in failure
    assert r.thread.is_alive()
    assert w.last(AVAILABILITY) is None  # it never got in
