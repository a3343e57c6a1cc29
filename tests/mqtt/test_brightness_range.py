"""The Brightness number: 0.01-1, as the config schema allows; outside it, refused by the bridge.

A value outside the range is refused with one warning naming the range, and never sent
to the service as something else. Real peers: Debian's mosquitto, the real service on
mock hardware, `breathring mqtt`.
"""

from __future__ import annotations

from collections.abc import Callable

from testkit import wait_until
from testkit.mqtt import Broker, Watcher
from testkit.stack import BridgeProcess, Device

DEVICE_ID = "bright1"
BASE = f"breathring/{DEVICE_ID}"
COMMAND = f"{BASE}/brightness/set"
STATE = f"{BASE}/brightness/state"


def brightness(device: Device) -> float:
    return device.cli_json("settings")["settings"]["ring.brightness"]["value"]


def test_out_of_range_brightness_is_refused_by_the_bridge(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device()
    w = watcher_factory(broker.port)
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(STATE, "0.5")
    config = wait_until(
        lambda: w.configs().get(f"homeassistant/number/{DEVICE_ID}/brightness/config")
    )
    assert (config["min"], config["max"]) == (0.01, 1.0)

    for payload in ("0.001", "0.0001", "5e-324", "0", "1.01"):
        w.publish(COMMAND, payload)
    w.publish(COMMAND, "0.01")  # the lowest allowed, after the others: they have been handled
    w.wait_for(STATE, "0.01")
    assert brightness(device) == 0.01

    refusals = [line for line in bridge.output().splitlines() if COMMAND in line]
    assert len(refusals) == 1, refusals  # one warning (a minute) for the topic
    assert refusals[0].startswith("WARNING") and "0.01-1" in refusals[0]
    assert "refused set" not in bridge.output()  # never sent: the service had nothing to refuse
