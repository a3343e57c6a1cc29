"""Breathing rates over MQTT, against a real mosquitto: the sensor's topic in, the HA sensor out.

`[breath_sensor] kind = "mqtt"`: the bridge subscribes to `topic` (and follows it when the
service's `breath_sensor.topic` changes) and passes each live numeric reading to the service
(`{"cmd": "breath_rate", ...}`); a retained one carries no time and is ignored; non-numbers
and absurd rates are dropped with one warning. With any breath sensor the bridge announces
a "Breathing rate" sensor and publishes the service's rate ("None" = unknown, once the rate
is stale).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator

import pytest
from testkit import LOOPBACK, wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import Broker, Watcher
from testkit.stack import BridgeProcess, Device

from breathring.mqtt.bridge import Bridge
from breathring.mqtt.settings import MqttSettings, load_mqtt_settings

DEVICE = "breath1"
BASE = f"breathring/{DEVICE}"
SENSOR_TOPIC = "sensors/bedroom/breath"
NURSERY_TOPIC = "sensors/nursery/breath"
STATE = f"{BASE}/breath_rate/state"
CONFIG = f"homeassistant/sensor/{DEVICE}/breath_rate/config"
AVAILABILITY = f"{BASE}/availability"


@pytest.fixture
def start_bridge(broker: Broker, service: FakeService) -> Iterator[Callable[..., Bridge]]:
    started: list[tuple[Bridge, threading.Thread]] = []

    def start(**settings: object) -> Bridge:
        bridge = Bridge(
            MqttSettings(host=LOOPBACK, port=broker.port, device_id=DEVICE, **settings),
            service.path,
            sw_version="9.8.7",
            pattern_names=("three-breath", "follow"),
            service_backoff=(0.05, 0.2),
            broker_backoff=(1, 1),
        )
        thread = threading.Thread(target=bridge.run)
        thread.start()
        started.append((bridge, thread))
        return bridge

    yield start
    for bridge, thread in started:
        bridge.stop()
        thread.join(10)
        assert not thread.is_alive()


def online(start_bridge, watcher: Watcher, service: FakeService, **settings: object) -> Bridge:
    bridge = start_bridge(**settings)
    watcher.wait_for(AVAILABILITY, "online")
    wait_until(lambda: service.watcher_count == 1, what="the bridge to watch the service")
    return bridge


MQTT_SENSOR = {"breath_sensor": "mqtt", "breath_topic": SENSOR_TOPIC}


def test_the_breathing_rate_sensor_is_announced_and_follows_the_service(
    start_bridge, service: FakeService, broker: Broker, watcher_factory
) -> None:
    w = watcher_factory(broker.port)
    online(start_bridge, w, service, **MQTT_SENSOR)
    wait_until(lambda: CONFIG in w.configs(), what="the Breathing rate config")
    config = w.configs()[CONFIG]
    assert {
        k: config[k] for k in ("name", "state_topic", "unit_of_measurement", "state_class")
    } == {
        "name": "Breathing rate",
        "state_topic": STATE,
        "unit_of_measurement": "breaths/min",
        "state_class": "measurement",
    }
    assert config["unique_id"] == f"breathring_{DEVICE}_breath_rate"
    w.wait_for(STATE, "None")  # no fresh reading: unknown in Home Assistant
    service.set_breath_rate(13.5)
    w.wait_for(STATE, "13.5")
    late = watcher_factory(broker.port)  # what Home Assistant gets when it connects later
    late.wait_for(STATE, "13.5")
    assert late.seen(STATE)[-1].retain and late.seen(CONFIG)[-1].retain
    service.set_breath_rate(None)
    w.wait_for(STATE, "None")


def test_without_a_breath_sensor_the_sensor_is_taken_away(
    start_bridge, service: FakeService, broker: Broker, watcher_factory
) -> None:
    w = watcher_factory(broker.port)
    online(start_bridge, w, service)
    # An empty retained message deletes a config an earlier run may have left.
    wait_until(lambda: w.seen(CONFIG), what="the cleared config")
    assert [m.payload for m in w.seen(CONFIG)] == [""]
    assert CONFIG not in w.configs()
    rate = {"per_min": 12.0, "age_s": 0.0, "source": "simulated"}
    service.set_status(phase="inhale", breath_rate=rate)
    w.wait_for(f"{BASE}/phase/state", "inhale")  # the same status line was handled
    assert w.seen(STATE) == []


def test_a_live_reading_is_passed_to_the_service(
    start_bridge, service: FakeService, broker: Broker, watcher_factory
) -> None:
    w = watcher_factory(broker.port)
    online(start_bridge, w, service, **MQTT_SENSOR)
    w.publish(SENSOR_TOPIC, " 12.5 ")
    wait_until(lambda: service.requests_of("breath_rate"), what="the reading at the service")
    assert service.requests_of("breath_rate") == [
        {"cmd": "breath_rate", "per_min": 12.5, "source": "mqtt"}
    ]
    w.wait_for(STATE, "12.5")


def test_a_retained_reading_is_ignored_until_a_live_one_comes(
    start_bridge, service: FakeService, broker: Broker, watcher_factory, caplog
) -> None:
    w = watcher_factory(broker.port)
    w.client.publish(SENSOR_TOPIC, "17", qos=1, retain=True).wait_for_publish(5)
    caplog.set_level(logging.INFO, "breathring.mqtt")
    online(start_bridge, w, service, **MQTT_SENSOR)
    wait_until(
        lambda: "ignored the retained reading" in caplog.text, what="the retained one logged"
    )
    w.publish(SENSOR_TOPIC, "11")
    wait_until(lambda: service.requests_of("breath_rate"), what="the live reading")
    assert [r["per_min"] for r in service.requests_of("breath_rate")] == [11.0]


def test_what_is_not_a_breathing_rate_is_dropped_with_one_warning(
    start_bridge, service: FakeService, broker: Broker, watcher_factory, caplog
) -> None:
    w = watcher_factory(broker.port)
    online(start_bridge, w, service, **MQTT_SENSOR)
    caplog.set_level(logging.WARNING, "breathring.mqtt")
    for bad in ("abc", "nan", "inf", "12,5", "1_2", "0x10", "", "90", "1.5", '{"rate": 12}'):
        w.publish(SENSOR_TOPIC, bad)
    w.publish(SENSOR_TOPIC, "9.5")  # a good one after them: they were handled first
    wait_until(lambda: service.requests_of("breath_rate"), what="the good reading")
    assert service.requests_of("breath_rate") == [
        {"cmd": "breath_rate", "per_min": 9.5, "source": "mqtt"}
    ]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert warnings == [
        f'ignored payload "abc" on {SENSOR_TOPIC}: not a number; allowed: breaths a minute '
        "as a plain number, 2-60, e.g. 13.5"
    ]


def rates(service: FakeService) -> list[float]:
    return [r["per_min"] for r in service.requests_of("breath_rate")]


def test_a_new_sensor_topic_set_at_the_service_is_followed_and_the_old_one_left(
    start_bridge, service: FakeService, broker: Broker, watcher_factory, caplog
) -> None:
    w = watcher_factory(broker.port)
    caplog.set_level(logging.INFO, "breathring.mqtt")
    online(start_bridge, w, service, **MQTT_SENSOR)
    w.publish(SENSOR_TOPIC, "12")
    wait_until(lambda: rates(service) == [12.0], what="a reading on the config's topic")

    # `breathring set breath_sensor.topic ...` at the service: a settings event.
    service.settings["breath_sensor.topic"] = {"value": NURSERY_TOPIC, "source": "settings"}
    service.push({"kind": "settings"})
    # Until the bridge has subscribed, a reading there reaches no one: send until one does.
    wait_until(
        lambda: w.publish(NURSERY_TOPIC, "15") or 15.0 in rates(service),
        what="a reading on the new topic",
    )
    # One publisher, in order: were the old topic still followed, 18 would come before 16.
    w.publish(SENSOR_TOPIC, "18")
    w.publish(NURSERY_TOPIC, "16")
    wait_until(lambda: 16.0 in rates(service), what="the next reading on the new topic")
    assert 18.0 not in rates(service)
    said = [r.getMessage() for r in caplog.records if "passing breathing rates" in r.getMessage()]
    assert said == [
        f"passing breathing rates on {SENSOR_TOPIC} to the service",
        f"passing breathing rates on {NURSERY_TOPIC} to the service (was {SENSOR_TOPIC})",
    ]


def test_a_reading_goes_stale_at_the_real_service(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory,
) -> None:
    device = start_device(
        f'[breath_sensor]\nkind = "mqtt"\ntopic = "{SENSOR_TOPIC}"\nstale_seconds = 5\n'
    )
    w = watcher_factory(broker.port)
    start_bridge_process(device, DEVICE)
    w.wait_for(AVAILABILITY, "online")
    w.wait_for(STATE, "None")
    w.publish(SENSOR_TOPIC, "14")
    w.wait_for(STATE, "14.0")
    assert device.status()["breath_rate"]["source"] == "mqtt"
    w.wait_for(STATE, "None")  # five seconds without a reading: stale
    assert device.status()["breath_rate"] is None


def test_the_bridge_reads_which_sensor_and_its_topic_from_the_config(tmp_path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f'[breath_sensor]\nkind = "mqtt"\ntopic = "{SENSOR_TOPIC}"\n')
    settings = load_mqtt_settings(path)
    assert (settings.breath_sensor, settings.breath_topic) == ("mqtt", SENSOR_TOPIC)
    path.write_text(f'[breath_sensor]\nkind = "c1001"\ntopic = "{SENSOR_TOPIC}"\n')
    settings = load_mqtt_settings(path)
    assert (settings.breath_sensor, settings.breath_topic) == ("c1001", None)
    path.write_text("")
    settings = load_mqtt_settings(path)
    assert (settings.breath_sensor, settings.breath_topic) == ("none", None)
