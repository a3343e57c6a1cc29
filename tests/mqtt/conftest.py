"""Fixtures for the MQTT bridge: the fake service, the bridge in a thread on it, and the real
service with the real bridge.

Brokers and watchers come from testkit (testkit/plugin.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit import LOOPBACK, wait_until
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher
from testkit.stack import BridgeProcess, Device

from breathring.clock import Clock, FakeClock
from breathring.control.client import send_request
from breathring.mqtt.bridge import Bridge, Request
from breathring.mqtt.settings import MqttSettings

#: The device id of the bridge `start_bridge` runs: its topics are under breathring/bedside1/.
DEVICE = "bedside1"
#: The presets its Pattern select offers.
PRESETS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down")


@pytest.fixture
def service(short_dir: Path) -> Iterator[FakeService]:
    s = FakeService(short_dir / "control.sock").start()
    yield s
    s.stop()


@pytest.fixture
def start_bridge(service: FakeService) -> Iterator[Callable[..., BridgeThread]]:
    """`start_bridge(broker, request=..., pattern_names=..., clock=..., prepare=...,
    **settings)`: a Bridge on `service` in a thread (`request`: how it sends a request to the
    service; `clock`: what times its warnings; `prepare`: called with the bridge before it
    runs); stopped after."""
    running: list[BridgeThread] = []

    def start(
        broker: Broker,
        request: Request = send_request,
        pattern_names: tuple[str, ...] = PRESETS,
        clock: Clock | None = None,
        prepare: Callable[[Bridge], None] | None = None,
        **overrides: object,
    ) -> BridgeThread:
        settings = MqttSettings(host=LOOPBACK, port=broker.port, device_id=DEVICE, **overrides)
        bridge = Bridge(
            settings,
            service.path,
            sw_version="9.8.7",
            pattern_names=pattern_names,
            request=request,
            clock=clock,
            service_backoff=(0.05, 0.2),
            broker_backoff=(1, 1),
        )
        if prepare is not None:
            prepare(bridge)
        r = BridgeThread(bridge)
        running.append(r)
        return r

    yield start
    for r in running:
        if r.thread.is_alive():
            r.stop()


@pytest.fixture
def online(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
) -> tuple[BridgeThread, Watcher]:
    """A bridge connected to both sides, and a watcher that has seen it come online."""
    return _bring_online(broker, service, start_bridge, watcher_factory, clock=None)


@pytest.fixture
def fake_clock() -> FakeClock:
    """The clock `online_on_fake_clock`'s bridge times its warnings by (advanced by hand)."""
    return FakeClock(datetime(2026, 1, 2, 22, 0, tzinfo=UTC))


@pytest.fixture
def online_on_fake_clock(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    fake_clock: FakeClock,
) -> tuple[BridgeThread, Watcher]:
    """As `online`, the bridge's warnings timed by `fake_clock` (a minute passes on advance)."""
    return _bring_online(broker, service, start_bridge, watcher_factory, clock=fake_clock)


def _bring_online(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    clock: Clock | None,
) -> tuple[BridgeThread, Watcher]:
    w = watcher_factory(broker.port)
    r = start_bridge(broker, clock=clock)
    w.wait_for(f"breathring/{DEVICE}/availability", "online")
    wait_until(lambda: service.watcher_count == 1, what="the bridge to watch the service")
    return r, w


@pytest.fixture
def start_device(short_dir: Path) -> Iterator[Callable[..., Device]]:
    """`start_device(config)`: the real service on mock hardware; every one is stopped after."""
    started: list[Device] = []

    def start(config: str = "") -> Device:
        base = short_dir / f"device-{len(started)}"
        base.mkdir()
        started.append(Device(base, config))
        return started[-1]

    yield start
    for device in started:
        device.close()


@pytest.fixture
def start_bridge_process(broker: Broker) -> Iterator[Callable[[Device, str], BridgeProcess]]:
    """`start_bridge_process(device, device_id)`: the real `breathring mqtt` on `broker`."""
    started: list[BridgeProcess] = []

    def start(device: Device, device_id: str) -> BridgeProcess:
        started.append(BridgeProcess(device, broker, device_id=device_id))
        return started[-1]

    yield start
    for bridge in started:
        bridge.close()
