"""What the service's settings, stats and status become on the broker, odd values included.

A value of the wrong type (a bool for a count, a string for a number, a negative count) is
not published: Home Assistant keeps what it had. The bridge handles the service's lines one
at a time, in order, after it asked for the settings and the stats on connecting: once the
phase of a later status line is seen, everything before it has been handled.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

import pytest
from testkit.fake_service import FakeService
from testkit.mqtt import BridgeThread, Broker, Watcher

BASE = "breathring/bedside1"
AVAILABILITY = f"{BASE}/availability"
PHASE = f"{BASE}/phase/state"
SELECT_CONFIG = "homeassistant/select/bedside1/pattern/config"
PRESETS = ["three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down"]
STATS_STATES = ("sessions_today", "streak", "last_session")


def settle(w: Watcher, service: FakeService, phase: str = "exhale") -> None:
    """A status line with a new phase, seen on the broker: every earlier line is handled."""
    service.set_status(phase=phase)
    w.wait_for(PHASE, phase)


def started(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    **settings: object,
) -> Watcher:
    w = watcher_factory(broker.port)
    start_bridge(broker, **settings)
    w.wait_for(AVAILABILITY, "online")
    settle(w, service)
    return w


def states(w: Watcher, object_id: str) -> list[str]:
    return [m.payload for m in w.seen(f"{BASE}/{object_id}/state")]


def test_the_stats_asked_for_are_of_one_day(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    settle(w, service)
    assert service.requests_of("stats") == [{"cmd": "stats", "days": 1}]


@pytest.mark.parametrize(
    "stats",
    [
        {"today": {"sessions": -1}, "streak_days": -1, "last_session": ""},
        {"today": {"sessions": True}, "streak_days": False, "last_session": None},
        {"today": {"sessions": 1.0}, "streak_days": "3", "last_session": 5},
        {"today": [2], "streak_days": None},
    ],
)
def test_stats_that_are_not_counts_or_times_are_not_published(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    stats: dict[str, Any],
) -> None:
    service.forced["stats"] = {"ok": True, "stats": stats}
    w = started(broker, service, start_bridge, watcher_factory)
    assert {o: states(w, o) for o in STATS_STATES} == {o: [] for o in STATS_STATES}


@pytest.mark.parametrize(
    "reply",
    [
        {"ok": True, "stats": [1, 2]},
        {"ok": True},
        {"ok": False, "code": "no-history", "error": "this service keeps no history"},
    ],
)
def test_a_stats_reply_without_stats_publishes_nothing(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    reply: dict[str, Any],
) -> None:
    service.forced["stats"] = reply
    w = started(broker, service, start_bridge, watcher_factory)
    assert {o: states(w, o) for o in STATS_STATES} == {o: [] for o in STATS_STATES}


def test_zero_sessions_and_a_zero_streak_are_published(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
) -> None:
    service.forced["stats"] = {
        "ok": True,
        "stats": {
            "today": {"sessions": 0},
            "streak_days": 0,
            "last_session": "2026-01-02T03:04:05+01:00",
        },
    }
    w = started(broker, service, start_bridge, watcher_factory)
    assert {o: states(w, o) for o in STATS_STATES} == {
        "sessions_today": ["0"],
        "streak": ["0"],
        "last_session": ["2026-01-02T03:04:05+01:00"],
    }


@pytest.mark.parametrize(
    ("entry", "published"),
    [
        ({"value": 1, "source": "settings"}, ["1.0"]),
        ({"value": 0.25, "source": "settings"}, ["0.25"]),
        ({"value": True, "source": "settings"}, []),
        ({"value": "0.5", "source": "settings"}, []),
        (0.5, []),  # not an entry with a value
    ],
)
def test_the_brightness_setting_is_published_only_as_a_number(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    entry: object,
    published: list[str],
) -> None:
    service.settings["ring.brightness"] = entry  # type: ignore[assignment]
    w = started(broker, service, start_bridge, watcher_factory)
    assert states(w, "brightness") == published


@pytest.mark.parametrize(
    ("reply", "options"),
    [
        ({"ok": True, "settings": [1]}, PRESETS),
        ({"ok": False, "code": "failed", "error": "no settings today"}, PRESETS),
    ],
)
def test_a_settings_reply_without_settings_changes_nothing(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    reply: dict[str, Any],
    options: list[str],
) -> None:
    service.forced["settings"] = reply
    w = started(broker, service, start_bridge, watcher_factory)
    assert states(w, "brightness") == []
    assert w.configs()[SELECT_CONFIG]["options"] == options


@pytest.mark.parametrize(
    ("pattern", "inhale", "exhale", "options"),
    [
        ("custom", 4.0, 6.0, [*PRESETS, "custom"]),
        ("custom", 4.0, None, PRESETS),
        ("custom", None, 6.0, PRESETS),
        ("box", 4.0, 6.0, PRESETS),
    ],
)
def test_custom_is_offered_only_with_its_breaths(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    pattern: str,
    inhale: float | None,
    exhale: float | None,
    options: list[str],
) -> None:
    for key, value in (
        ("session.pattern", pattern),
        ("session.inhale", inhale),
        ("session.exhale", exhale),
    ):
        service.settings[key] = {"value": value, "source": "settings"}
    w = started(broker, service, start_bridge, watcher_factory)
    assert w.configs()[SELECT_CONFIG]["options"] == options


def test_status_values_of_the_wrong_type_are_not_published(
    online: tuple[BridgeThread, Watcher], service: FakeService
) -> None:
    _, w = online
    w.wait_for(f"{BASE}/pattern/state", "three-breath")
    w.wait_for(f"{BASE}/reminders/state", "ON")
    w.clear()
    service.push({"kind": "status", "status": {"phase": 3, "next_pattern": None, "reminders": 1}})
    service.push({"kind": "status", "status": "exhale"})
    settle(w, service)
    assert states(w, "phase") == ["exhale"]
    assert (states(w, "pattern"), states(w, "reminders")) == ([], [])


@pytest.mark.parametrize(
    ("rate", "state"),
    [
        ({"per_min": 12, "age_s": 0.0, "source": "mqtt"}, "12.0"),
        ({"per_min": 9.96, "age_s": 0.0, "source": "mqtt"}, "10.0"),
        ({"per_min": True, "age_s": 0.0, "source": "mqtt"}, "None"),
        ({"per_min": "12", "age_s": 0.0, "source": "mqtt"}, "None"),
        (12.5, "None"),
    ],
)
def test_the_breathing_rate_is_shown_to_a_tenth(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
    rate: object,
    state: str,
) -> None:
    w = started(
        broker, service, start_bridge, watcher_factory, breath_sensor="mqtt", breath_topic="b/r"
    )
    w.wait_for(f"{BASE}/breath_rate/state", "None")
    service.set_status(breath_rate={"per_min": 20.0, "age_s": 0.0, "source": "mqtt"})
    w.wait_for(f"{BASE}/breath_rate/state", "20.0")
    service.set_status(breath_rate=rate)
    w.wait_for(f"{BASE}/breath_rate/state", state)


def test_a_status_without_a_breathing_rate_leaves_the_sensor_alone(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
) -> None:
    w = started(
        broker, service, start_bridge, watcher_factory, breath_sensor="mqtt", breath_topic="b/r"
    )
    w.wait_for(f"{BASE}/breath_rate/state", "None")
    w.clear()
    service.push({"kind": "status", "status": {"phase": "inhale"}})
    settle(w, service)
    assert states(w, "breath_rate") == []


def test_unknown_gestures_and_events_are_ignored(
    online: tuple[BridgeThread, Watcher],
    service: FakeService,
    caplog: pytest.LogCaptureFixture,
) -> None:
    _, w = online
    caplog.set_level(logging.DEBUG, logger="breathring.mqtt")
    w.wait_for(PHASE, "idle")
    w.clear()
    service.push({"kind": "weather", "status": {"phase": "hold-in"}})  # a status of no status line
    service.gesture("triple")
    service.push({"kind": "gesture", "source": "button"})
    service.push({"kind": "weather", "sky": "clear"})
    settle(w, service)
    assert w.seen(f"{BASE}/button/event") == []
    assert states(w, "phase") == ["exhale"]
    debug = [r.getMessage() for r in caplog.records if r.levelno == logging.DEBUG]
    assert "ignored watch event {'kind': 'weather', 'sky': 'clear'}" in debug


def test_custom_among_the_pattern_names_is_offered_only_with_its_breaths(
    broker: Broker,
    service: FakeService,
    start_bridge: Callable[..., BridgeThread],
    watcher_factory: Callable[..., Watcher],
) -> None:
    w = watcher_factory(broker.port)
    start_bridge(broker, pattern_names=("three-breath", "custom", "box"))
    w.wait_for(AVAILABILITY, "online")
    settle(w, service)
    assert w.configs()[SELECT_CONFIG]["options"] == ["three-breath", "box"]


def test_commands_are_sent_from_a_daemon_thread_of_their_own(
    online: tuple[BridgeThread, Watcher],
) -> None:
    workers = [t for t in threading.enumerate() if t.name == "breathring-mqtt-commands"]
    assert workers and all(t.daemon for t in workers)
