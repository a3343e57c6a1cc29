"""The control protocol as the companions use it: the real service and the fake answer alike.

Each test runs against `breathring run --hardware mock` (a real process) and against the fake
service the web and MQTT tests use (testkit/fake_service.py), so the fake cannot drift from the
service unnoticed.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.control import ask, watching
from testkit.fake_service import FakeService, running
from testkit.status import STATUS_KEYS

#: The keys `set` refuses until a restart (the real service's settings.RESTART_KEYS).
RESTART_KEYS = [
    "ring.pixels",
    "ring.order",
    "ring.pin",
    "ring.driver",
    "button.pin",
    "button.pi_revision",
    "audio.driver",
    "audio.device",
    "audio.cues_dir",
    "audio.buffer_samples",
    "breath_sensor.kind",
    "breath_sensor.device",
    "breath_sensor.baud",
]
STATS_KEYS = {"today", "streak_days", "days", "pulses", "last_session", "breath_rates"}
#: Watchers each companion may have at once (the real service's protocol.WATCH_SHARES).
WATCH_SHARES = {"web": 8, "mqtt": 2, "other": 4}
#: stats' last_session: an ISO 8601 time with its UTC offset, to the second.
LAST_SESSION = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")

SERVICES = ("real", "fake")


@pytest.fixture
def control(request, service_process, short_dir: Path) -> Iterator[Path]:
    """The control socket of the service kind the test is parametrised with."""
    if request.param == "real":
        proc = service_process()
        proc.wait_ready()
        yield proc.socket_path
        return
    fake = FakeService(short_dir / "control.sock").start()
    try:
        yield fake.path
    finally:
        fake.stop()


def assert_status(reply: dict[str, Any]) -> None:
    assert set(reply) >= STATUS_KEYS, STATUS_KEYS - set(reply)
    assert reply["state"] in ("idle", "session", "pulse", "confirm")
    assert isinstance(reply["reminders"], bool) and isinstance(reply["breath"], int)


parametrised = pytest.mark.parametrize("control", SERVICES, indirect=True)


@parametrised
def test_status_has_every_protocol_key(control: Path) -> None:
    reply = ask(control, cmd="status")
    assert reply["ok"] is True
    assert_status(reply)
    assert reply["state"] == "idle" and reply["hardware"] == "mock"


@parametrised
def test_start_answers_with_the_status_of_a_session_in_its_lead_in(control: Path) -> None:
    reply = ask(control, cmd="start", pattern="box")
    assert reply["ok"] is True
    assert_status(reply)
    assert (reply["state"], reply["phase"], reply["pattern"]) == ("session", "lead-in", "box")


@parametrised
def test_stop_answers_with_the_status(control: Path) -> None:
    ask(control, cmd="start")
    reply = ask(control, cmd="stop")
    assert reply["ok"] is True
    assert_status(reply)


@parametrised
def test_reminders_off_answers_with_the_status(control: Path) -> None:
    reply = ask(control, cmd="reminders", value="off")
    assert reply["ok"] is True
    assert_status(reply)
    assert reply["reminders"] is False


@parametrised
def test_settings_lists_every_value_with_its_source(control: Path) -> None:
    reply = ask(control, cmd="settings")
    assert reply["ok"] is True
    assert reply["settings"]["ring.brightness"]["source"] == "default"
    for key, entry in reply["settings"].items():
        assert set(entry) == {"value", "source"}, key
        assert entry["source"] in ("default", "config", "settings"), key


@parametrised
def test_settings_names_the_keys_that_need_a_restart(control: Path) -> None:
    assert ask(control, cmd="settings")["restart_keys"] == RESTART_KEYS


@parametrised
def test_set_answers_key_and_value_and_settings_shows_it(control: Path) -> None:
    reply = ask(control, cmd="set", key="ring.brightness", value=0.3)
    assert reply == {"ok": True, "key": "ring.brightness", "value": 0.3}
    entry = ask(control, cmd="settings")["settings"]["ring.brightness"]
    assert entry == {"value": 0.3, "source": "settings"}


@parametrised
def test_a_refused_set_carries_key_code_and_a_message(control: Path) -> None:
    bad = ask(control, cmd="set", key="ring.brightness", value=7)
    assert (bad["ok"], bad["key"], bad["code"]) == (False, "ring.brightness", "invalid")
    assert isinstance(bad["error"], str) and "ring.brightness" in bad["error"]
    restart = ask(control, cmd="set", key="ring.pixels", value=30)
    assert (restart["ok"], restart["key"], restart["code"]) == (False, "ring.pixels", "restart")
    unknown = ask(control, cmd="set", key="ring.brightnes", value=0.3)
    assert (unknown["ok"], unknown["key"], unknown["code"]) == (False, "ring.brightnes", "unknown")


#: A custom pattern and the breaths it needs: only valid together.
CUSTOM = {"session.pattern": "custom", "session.inhale": 4, "session.exhale": 6}


@parametrised
def test_a_custom_pattern_is_set_with_its_breaths_in_one_request(control: Path) -> None:
    alone = ask(control, cmd="set", key="session.pattern", value="custom")
    assert (alone["ok"], alone["key"], alone["code"]) == (False, "session.pattern", "invalid")
    reply = ask(control, cmd="set", values=CUSTOM)
    assert reply == {"ok": True, "values": CUSTOM}
    listing = ask(control, cmd="settings")["settings"]
    assert {k: listing[k] for k in CUSTOM} == {
        k: {"value": v, "source": "settings"} for k, v in CUSTOM.items()
    }
    assert ask(control, cmd="status")["next_pattern"] == "custom"


@parametrised
def test_leaving_the_custom_pattern_drops_its_breaths(control: Path) -> None:
    ask(control, cmd="set", values=CUSTOM)
    reply = ask(control, cmd="set", key="session.pattern", value="box")
    assert reply == {"ok": True, "key": "session.pattern", "value": "box"}
    listing = ask(control, cmd="settings")["settings"]
    assert listing["session.inhale"] == {"value": None, "source": "default"}
    assert listing["session.exhale"] == {"value": None, "source": "default"}
    stray = ask(control, cmd="set", key="session.inhale", value=4)
    assert (stray["ok"], stray["key"], stray["code"]) == (False, "session.inhale", "invalid")


@parametrised
def test_unset_of_a_custom_pattern_takes_its_breaths_with_it(control: Path) -> None:
    ask(control, cmd="set", values=CUSTOM)
    stuck = ask(control, cmd="unset", key="session.inhale")  # custom would lack its in-breath
    assert (stuck["ok"], stuck["key"], stuck["code"]) == (False, "session.inhale", "invalid")
    reply = ask(control, cmd="unset", key="session.pattern")
    assert reply == {"ok": True, "key": "session.pattern", "value": "three-breath"}
    listing = ask(control, cmd="settings")["settings"]
    assert [listing[k] for k in CUSTOM] == [
        {"value": "three-breath", "source": "default"},
        {"value": None, "source": "default"},
        {"value": None, "source": "default"},
    ]


@parametrised
def test_several_keys_are_set_all_or_none(control: Path) -> None:
    before = ask(control, cmd="settings")
    bad = ask(control, cmd="set", values={"audio.volume": 0.2, "ring.brightness": 7})
    assert (bad["ok"], bad["key"], bad["code"]) == (False, "ring.brightness", "invalid")
    unknown = ask(control, cmd="set", values={"audio.volume": 0.2, "ring.brightnes": 0.3})
    assert (unknown["ok"], unknown["key"], unknown["code"]) == (False, "ring.brightnes", "unknown")
    assert ask(control, cmd="settings") == before


@parametrised
def test_set_takes_a_key_or_values_not_both(control: Path) -> None:
    both = ask(control, cmd="set", key="ring.brightness", value=0.3, values={"audio.volume": 0.2})
    empty = ask(control, cmd="set", values={})
    listed = ask(control, cmd="set", values=[["ring.brightness", 0.3]])
    assert [r["code"] for r in (both, empty, listed)] == ["bad-request"] * 3


@parametrised
def test_unset_goes_back_to_the_default(control: Path) -> None:
    ask(control, cmd="set", key="ring.brightness", value=0.3)
    reply = ask(control, cmd="unset", key="ring.brightness")
    assert reply["ok"] is True and reply["key"] == "ring.brightness"
    assert isinstance(reply["value"], float)
    entry = ask(control, cmd="settings")["settings"]["ring.brightness"]
    assert entry == {"value": reply["value"], "source": "default"}


@parametrised
def test_stats_has_today_streak_days_and_pulses(control: Path) -> None:
    reply = ask(control, cmd="stats", days=3)
    assert reply["ok"] is True
    stats = reply["stats"]
    assert set(stats) == STATS_KEYS
    assert {"date", "sessions", "completed", "breaths", "minutes"} <= set(stats["today"])
    assert set(stats["pulses"]) == {"shown", "answered"}
    assert len(stats["days"]) == 3


@parametrised
def test_a_breath_rate_is_taken_shown_and_a_bad_one_refused(control: Path) -> None:
    assert ask(control, cmd="status")["breath_rate"] is None
    reply = ask(control, cmd="breath_rate", per_min=13.46, source="mqtt")
    assert reply["ok"] is True
    assert reply["breath_rate"] == {"per_min": 13.5, "age_s": 0.0, "source": "mqtt"}
    assert ask(control, cmd="status")["breath_rate"]["per_min"] == 13.5
    for bad in (70, "13", True):
        refused = ask(control, cmd="breath_rate", per_min=bad, source="mqtt")
        assert (refused["ok"], refused["code"], refused["key"]) == (False, "invalid", "per_min")
        assert "allowed a number 2-60 (breaths a minute)" in refused["error"]
    no_source = ask(control, cmd="breath_rate", per_min=12)
    assert (no_source["ok"], no_source["code"]) == (False, "bad-request")
    assert 'allowed: "mqtt", "simulated"' in no_source["error"]
    no_rate = ask(control, cmd="breath_rate", source="mqtt")
    assert (no_rate["ok"], no_rate["code"]) == (False, "bad-request")
    assert 'needs "per_min"' in no_rate["error"]
    stats = ask(control, cmd="stats", days=2)["stats"]
    assert all("breath_rate" in day for day in stats["days"])
    assert isinstance(stats["breath_rates"], list)


@parametrised
def test_stats_carry_last_session_null_before_any_session(control: Path) -> None:
    stats = ask(control, cmd="stats")["stats"]
    assert "last_session" in stats
    assert stats["last_session"] is None


@pytest.mark.parametrize(
    ("when", "expected"),
    [
        ("2026-12-04T16:05:09+00:00", "2026-12-04T16:05:09+00:00"),
        ("2026-01-15T22:31:04+01:00", "2026-01-15T22:31:04+01:00"),
    ],
)
def test_the_fakes_recorded_session_is_its_last_session(
    short_dir: Path, when: str, expected: str
) -> None:
    with running(short_dir / "control.sock") as fake:
        fake.record_session(when)
        stats = ask(fake.path, cmd="stats")["stats"]
    assert stats["last_session"] == expected
    assert stats["today"]["sessions"] == 3


def test_the_fakes_session_without_a_time_ends_now_in_utc(short_dir: Path) -> None:
    with running(short_dir / "control.sock") as fake:
        fake.record_session()
        last = ask(fake.path, cmd="stats")["stats"]["last_session"]
    assert LAST_SESSION.match(last), last
    assert last.endswith("+00:00")


@parametrised
def test_watch_starts_with_a_status_line(control: Path) -> None:
    with watching(control) as next_line:
        first = next_line()
    assert first["kind"] == "status"
    assert_status(first["status"])


@parametrised
def test_each_companion_has_its_own_watcher_share(control: Path) -> None:
    with contextlib.ExitStack() as stack:
        for _ in range(WATCH_SHARES["web"]):
            next_line = stack.enter_context(watching(control, "web"))
            assert next_line()["kind"] == "status"
        with watching(control, "web") as next_line:
            refused = next_line()
        # Every page open: the bridge (and a plain client) can still watch.
        with watching(control, "mqtt") as bridge, watching(control) as other:
            assert bridge()["kind"] == "status"
            assert other()["kind"] == "status"
    assert (refused["ok"], refused["code"]) == (False, "too-many-watchers")
    assert "web" in refused["error"]


@parametrised
def test_an_unknown_command_gets_an_error_reply(control: Path) -> None:
    reply = ask(control, cmd="nope")
    assert reply["ok"] is False
    assert reply["error"].startswith('unknown cmd "nope"')
    assert reply["code"] == "bad-request"
    assert set(reply) == {"ok", "code", "error"}


@parametrised
def test_refusals_carry_their_code(control: Path) -> None:
    custom = ask(control, cmd="start", pattern="custom")
    assert (custom["ok"], custom["code"]) == (False, "not-configured")
    unknown = ask(control, cmd="unset", key="ring.brightnes")
    assert (unknown["ok"], unknown["key"], unknown["code"]) == (False, "ring.brightnes", "unknown")
    for bad in (
        {"cmd": "start", "pattern": "nope"},
        {"cmd": "reminders", "value": "maybe"},
        {"cmd": "stats", "days": 0},
        {"cmd": "watch", "client": "browser"},
        {"cmd": "status", "extra": 1},
    ):
        reply = ask(control, **bad)
        assert (reply["ok"], reply["code"]) == (False, "bad-request"), bad
        assert isinstance(reply["error"], str) and reply["error"], bad
