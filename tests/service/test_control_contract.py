"""The control protocol as the companions use it: the real service and the fakes answer alike.

Each test runs against `breathring run --hardware mock` (a real process) and against each fake
service the web and MQTT tests use. Where a fake differs from the real service today, the case
is marked xfail(strict=True) for that fake only: it fails loudly once the fake is fixed.
"""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit import fake_service as web_fake
from testkit import mqtt_fake

TIMEOUT_S = 5.0
#: Every key a status reply (and a watch status line) carries (PROTOCOL.md).
STATUS_KEYS = {
    "state",
    "phase",
    "breath",
    "breaths",
    "pattern",
    "next_pattern",
    "reminders",
    "clock_synchronized",
    "clock_trusted",
    "clock_reason",
    "next_pulse",
    "elapsed",
    "remaining",
    "night",
    "hardware",
}
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
]
STATS_KEYS = {"today", "streak_days", "days", "pulses", "last_session"}
#: Watchers each companion may have at once (the real service's protocol.WATCH_SHARES).
WATCH_SHARES = {"web": 8, "mqtt": 2, "other": 4}

SERVICES = ("real", "web-fake", "mqtt-fake")


def drift(*fakes: str, reason: str) -> list[Any]:
    """The service kinds, with the named fakes marked as known drifts (strict xfail)."""
    return [
        pytest.param(kind, marks=pytest.mark.xfail(strict=True, reason=f"fake drift: {reason}"))
        if kind in fakes
        else kind
        for kind in SERVICES
    ]


@pytest.fixture
def control(request, service_process, short_dir: Path) -> Iterator[Path]:
    """The control socket of the service kind the test is parametrised with."""
    kind = request.param
    if kind == "real":
        proc = service_process()
        proc.wait_ready()
        yield proc.socket_path
        return
    path = short_dir / "control.sock"
    fake = (web_fake if kind == "web-fake" else mqtt_fake).FakeService(path).start()
    request.node.fake = fake  # for a test that drives the fake as a user would the device
    try:
        yield path
    finally:
        fake.stop()


def ask(path: Path, **request: Any) -> dict[str, Any]:
    """One request line, one reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        return json.loads(sock.makefile("rb").readline())


@contextlib.contextmanager
def watching(path: Path, client: str | None = None) -> Iterator[Callable[[], dict[str, Any]]]:
    """A watch connection (as `client`, if given); yields a function that reads its next line."""
    request: dict[str, str] = {"cmd": "watch"}
    if client is not None:
        request["client"] = client
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        lines = sock.makefile("rb")
        yield lambda: json.loads(lines.readline())


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


@pytest.mark.parametrize(
    "control",
    drift("web-fake", "mqtt-fake", reason="RESTART_KEYS lacks button.pi_revision"),
    indirect=True,
)
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


@pytest.mark.parametrize("control", drift("mqtt-fake", reason="no unset command"), indirect=True)
def test_unset_goes_back_to_the_default(control: Path) -> None:
    ask(control, cmd="set", key="ring.brightness", value=0.3)
    reply = ask(control, cmd="unset", key="ring.brightness")
    assert reply["ok"] is True and reply["key"] == "ring.brightness"
    assert isinstance(reply["value"], float)
    entry = ask(control, cmd="settings")["settings"]["ring.brightness"]
    assert entry == {"value": reply["value"], "source": "default"}


@pytest.mark.parametrize(
    "control",
    drift("web-fake", "mqtt-fake", reason="no last_session (null) before any session"),
    indirect=True,
)
def test_stats_has_today_streak_days_and_pulses(control: Path) -> None:
    reply = ask(control, cmd="stats", days=3)
    assert reply["ok"] is True
    stats = reply["stats"]
    assert set(stats) == STATS_KEYS
    assert {"date", "sessions", "completed", "breaths", "minutes"} <= set(stats["today"])
    assert set(stats["pulses"]) == {"shown", "answered"}


@pytest.mark.parametrize(
    "control",
    drift("web-fake", reason="stats lack the last_session field"),
    indirect=True,
)
def test_stats_after_a_session_has_no_other_fields(control: Path, request) -> None:
    """The mqtt fake's record_session() stands for a finished session on the real device."""
    if request.node.callspec.params["control"] == "mqtt-fake":
        request.node.fake.record_session("2026-01-15T12:00:00+01:00")
    stats = ask(control, cmd="stats")["stats"]
    assert set(stats) == STATS_KEYS


@parametrised
def test_watch_starts_with_a_status_line(control: Path) -> None:
    with watching(control) as next_line:
        first = next_line()
    assert first["kind"] == "status"
    assert_status(first["status"])


@pytest.mark.parametrize(
    "control", drift("web-fake", "mqtt-fake", reason="no limit on watchers"), indirect=True
)
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
