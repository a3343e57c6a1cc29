"""Home Assistant over MQTT, real peers: Debian's mosquitto, the service, `breathring mqtt`.

A paho client stands in for Home Assistant: it finds the entities by their
retained discovery configs and drives them as HA does (each entity's
command_topic with the payloads announced in its config). Skips without
mosquitto only outside CI.
"""

from __future__ import annotations

from typing import Any

from testkit import wait_until
from testkit.mqtt import Broker, Watcher
from testkit.stack import BridgeProcess, Device

#: The start button's session shows in `breathring status --json` this soon.
START_WITHIN_S = 2.0
COMPONENTS = {"button", "switch", "select", "number", "sensor", "event"}
#: The one-breath session's phases, in order (SHORT_SESSION in e2e_stack).
#: The session in full, then the reminders switch's confirm blink once it has ended.
SESSION_PHASES = ["lead-in", "inhale", "exhale", "closing", "confirm", "idle"]


def entity(configs: dict[str, dict[str, Any]], component: str, word: str) -> dict[str, Any]:
    """The discovery config of `component` whose name contains `word` (as a user picks it)."""
    found = [
        c
        for topic, c in configs.items()
        if topic.split("/")[1] == component and word in c["name"].lower()
    ]
    assert len(found) == 1, (component, word, [c["name"] for c in configs.values()])
    return found[0]


def availability_topic(config: dict[str, Any]) -> str:
    if "availability_topic" in config:
        return config["availability_topic"]
    (first,) = config["availability"]
    return first["topic"]


def discovered(client: Watcher) -> dict[str, dict[str, Any]]:
    """Wait for every component's retained config under homeassistant/."""
    return wait_until(
        lambda: (c := client.configs()) and {t.split("/")[1] for t in c} >= COMPONENTS and c,
        what="discovery configs for " + ", ".join(sorted(COMPONENTS)),
    )


def test_discovery_and_every_done_when_command(
    device: Device, broker: Broker, home_assistant: Watcher, bridge: BridgeProcess
) -> None:
    configs = discovered(home_assistant)
    for topic, config in configs.items():
        assert topic.startswith("homeassistant/") and topic.endswith("/config")
        assert config["unique_id"], topic
        assert config["device"]["identifiers"], topic
        assert availability_topic(config), topic
    assert len({c["unique_id"] for c in configs.values()}) == len(configs)
    online = availability_topic(entity(configs, "button", "start"))
    home_assistant.wait_for(online, "online")

    # A client that comes later (Home Assistant restarting) gets them retained.
    late = Watcher(broker.port, name="e2e-late")
    try:
        wait_until(lambda: len(late.configs()) == len(configs), what="retained configs")
        # Each config comes first retained (a later one may be live: the select's
        # options follow the settings the bridge reads once the service answers).
        assert all(late.seen(t)[0].retain for t in late.configs())
        late.wait_for(online, "online")
    finally:
        late.close()

    # Sensors and select carry the device's real state.
    phase = entity(configs, "sensor", "phase")
    home_assistant.wait_for(phase["state_topic"], "idle")
    select = entity(configs, "select", "pattern")
    home_assistant.wait_for(select["state_topic"], "custom")
    # The state is one of the options: custom is offered, the service having its breaths.
    wait_until(
        lambda: "custom" in entity(home_assistant.configs(), "select", "pattern")["options"],
        what="custom among the select's options",
    )

    start = entity(configs, "button", "start")
    home_assistant.publish(start["command_topic"], start["payload_press"])
    wait_until(
        lambda: device.status()["state"] == "session",
        START_WITHIN_S,
        "the session in breathring status --json",
    )

    switch = entity(configs, "switch", "reminder")
    home_assistant.publish(switch["command_topic"], switch["payload_off"])
    wait_until(
        lambda: device.status()["reminders"] is False,
        what="reminders false in breathring status --json",
    )
    home_assistant.wait_for(switch["state_topic"], switch["state_off"])

    # The phase sensor followed the session through to its end.
    wait_until(
        lambda: (
            phases(home_assistant, phase["state_topic"])[-1:] == ["idle"]
            and "confirm" in phases(home_assistant, phase["state_topic"])
        ),
        what="the phase sensor back to idle",
    )
    seen = phases(home_assistant, phase["state_topic"])
    start_at = seen.index("lead-in")
    # Every phase in order: the reminders switch did not cut the session short; its
    # confirm blink came after the session's closing.
    assert seen[start_at : start_at + len(SESSION_PHASES)] == SESSION_PHASES
    assert device.cli_json("stats")["today"]["completed"] == 1
    today = entity(configs, "sensor", "today")
    home_assistant.wait_for(today["state_topic"], "1")


def phases(client: Watcher, topic: str) -> list[str]:
    """The phase sensor's values, with repeats folded."""
    out: list[str] = []
    for m in client.seen(topic):
        if not out or out[-1] != m.payload:
            out.append(m.payload)
    return out


def test_sigkill_of_the_bridge_leaves_offline_and_a_restart_brings_online(
    device: Device, home_assistant: Watcher, bridge: BridgeProcess
) -> None:
    configs = discovered(home_assistant)
    topic = availability_topic(entity(configs, "button", "start"))
    home_assistant.wait_for(topic, "online")
    bridge.kill()
    home_assistant.wait_for(topic, "offline")
    bridge.restart()
    home_assistant.wait_for(topic, "online")
    assert bridge.proc.poll() is None, bridge.output()
    assert bridge.output().count("connected to the broker") == 2  # a new process said it

    # The service killed and started again: offline while it is away, online when it is back.
    before = len(home_assistant.seen(topic))
    device.kill_and_restart()
    wait_until(
        lambda: (
            [m.payload for m in home_assistant.seen(topic)[before:]][-2:] == ["offline", "online"]
        ),
        what="offline while the service was away, then online",
    )
