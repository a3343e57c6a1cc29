"""A broker that restarts without persistence gets every state again when the bridge reconnects.

Real peers: Debian's mosquitto (restarted, forgetting every retained message), the real
service on mock hardware, `breathring mqtt`.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable
from typing import Any

from testkit import DEADLINE_S, wait_until
from testkit.mqtt import Broker, Watcher
from testkit.stack import SHORT_SESSION, BridgeProcess, Device

DEVICE_ID = "restart1"
BASE = f"breathring/{DEVICE_ID}"
AVAILABILITY = f"{BASE}/availability"
#: Every state topic and its value after one finished session with SHORT_SESSION's config.
EXPECTED = {
    f"{BASE}/phase/state": "idle",
    f"{BASE}/pattern/state": "custom",
    f"{BASE}/reminders/state": "ON",
    f"{BASE}/brightness/state": "0.5",
    f"{BASE}/sessions_today/state": "1",
    f"{BASE}/streak/state": "1",
}
LAST_SESSION = f"{BASE}/last_session/state"
#: "2026-12-04T16:05:09+00:00": ISO 8601 to the second, with the UTC offset.
ISO_SECONDS_WITH_OFFSET_CHARS = 25


def ended_session(stats: dict[str, Any]) -> str | None:
    """The stats' last session once today's one session is recorded as completed."""
    return stats["last_session"] if stats["today"]["completed"] == 1 else None


def states(watcher: Watcher) -> dict[str, str | None]:
    return {topic: watcher.last(topic) for topic in EXPECTED}


def assert_states(watcher: Watcher, timeout: float = DEADLINE_S) -> None:
    """Every state topic reaches its EXPECTED value before `timeout` (else: the difference)."""
    with contextlib.suppress(AssertionError):
        wait_until(lambda: states(watcher) == EXPECTED, timeout, "every state")
    assert states(watcher) == EXPECTED


def test_every_state_is_published_again_after_the_broker_forgot_it(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    device = start_device(SHORT_SESSION)
    w = watcher_factory(broker.port)
    bridge = start_bridge_process(device, DEVICE_ID)
    w.wait_for(AVAILABILITY, "online")
    assert device.cli("start").returncode == 0
    wait_until(lambda: device.status()["state"] == "session", what="the session")
    assert_states(w, 30)
    # While a session runs its start is the last session; once it is recorded, its end.
    # So wait for the service's own answer to be the ended session's, then for the topic.
    wait_until(lambda: device.status()["state"] == "idle", 30, "the session to end")
    last = wait_until(
        lambda: ended_session(device.cli_json("stats")), what="the session's end in the history"
    )
    assert len(last) == ISO_SECONDS_WITH_OFFSET_CHARS and last[10] == "T", last
    w.wait_for(LAST_SESSION, last)
    w.close()

    broker.stop()  # no persistence: every retained message is gone
    broker.start()
    fresh = watcher_factory(broker.port)
    fresh.wait_for(AVAILABILITY, "online", timeout=30)
    assert_states(fresh)
    fresh.wait_for(LAST_SESSION, last)
    assert_retained(broker, watcher_factory, {**EXPECTED, LAST_SESSION: last})
    assert bridge.proc.poll() is None, bridge.output()


def test_a_state_changed_while_the_broker_hung_is_not_overwritten_by_an_older_one(
    start_device: Callable[..., Device],
    start_bridge_process: Callable[[Device, str], BridgeProcess],
    broker: Broker,
    watcher_factory: Callable[..., Watcher],
) -> None:
    """The broker hangs (no acks), dies, and comes back while the state has moved on."""
    device = start_device(SHORT_SESSION)
    w = watcher_factory(broker.port)
    start_bridge_process(device, DEVICE_ID)
    w.wait_for(f"{BASE}/phase/state", "idle")
    w.close()
    assert broker.process is not None
    broker.process.send_signal(signal.SIGSTOP)  # hung: the bridge's messages wait for acks
    assert device.cli("start").returncode == 0
    wait_until(lambda: device.status()["state"] == "session", what="the session")
    broker.stop()  # the bridge sees the connection drop; its unacknowledged messages stay
    wait_until(lambda: device.status()["state"] == "idle", 30, "the session to end")

    broker.start()
    fresh = watcher_factory(broker.port)
    fresh.wait_for(AVAILABILITY, "online", timeout=30)
    assert_states(fresh)
    assert_retained(broker, watcher_factory, EXPECTED)


def assert_retained(
    broker: Broker, watcher_factory: Callable[..., Watcher], expected: dict[str, str]
) -> None:
    """A client that subscribes now gets exactly `expected`, retained."""
    late = watcher_factory(broker.port)
    wait_until(lambda: all(late.seen(t) for t in expected), what="the retained states")
    assert {t: late.last(t) for t in expected} == expected
    assert all(m.retain for t in expected for m in late.seen(t))
