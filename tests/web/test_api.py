"""The JSON API against a fake service: each call sends exactly the right socket request."""

from __future__ import annotations

from pathlib import Path

from testkit import short_dir
from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

#: A body sent as the page sends it (anything else is 415).
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}


@run_async
async def test_status_is_the_service_status(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/api/status", headers=AUTH)
        assert response.status == 200
        body = await response.json()
    assert fake.commands() == [{"cmd": "status"}]
    assert body["ok"] is True
    assert body["phase"] == "idle"
    assert body["reminders"] is True
    assert body["next_pattern"] == "three-breath"


@run_async
async def test_post_session_starts_remote_with_and_without_pattern(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        first = await client.post("/api/session", headers=AUTH)
        second = await client.post("/api/session", headers=AUTH, json={"pattern": "box"})
        third = await client.post("/api/session", headers=AUTH, json={})
        assert (first.status, second.status, third.status) == (200, 200, 200)
    assert fake.commands() == [
        {"cmd": "start", "trigger": "remote"},
        {"cmd": "start", "trigger": "remote", "pattern": "box"},
        {"cmd": "start", "trigger": "remote"},
    ]
    assert fake.status["pattern"] == "three-breath"


@run_async
async def test_post_session_bad_input_is_400_naming_the_key(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        unknown = await client.post("/api/session", headers=AUTH, json={"pattern": "nope"})
        assert unknown.status == 400
        assert (await unknown.json())["key"] == "pattern"
        assert "nope" in (await unknown.json())["error"]
        not_text = await client.post("/api/session", headers=AUTH, json={"pattern": 5})
        assert not_text.status == 400
        assert (await not_text.json())["key"] == "pattern"
        extra = await client.post("/api/session", headers=AUTH, json={"breaths": 9})
        assert extra.status == 400
        assert (await extra.json())["key"] == "breaths"
        not_object = await client.post("/api/session", headers=AUTH, json=["box"])
        assert not_object.status == 400
    # Only the unknown pattern reached the service (it knows the patterns); the rest did not.
    assert fake.commands() == [{"cmd": "start", "trigger": "remote", "pattern": "nope"}]


@run_async
async def test_delete_session_stops(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.delete("/api/session", headers=AUTH)
        assert response.status == 200
    assert fake.commands() == [{"cmd": "stop"}]


@run_async
async def test_put_reminders(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        off = await client.put("/api/reminders", headers=AUTH, json={"enabled": False})
        on = await client.put("/api/reminders", headers=AUTH, json={"enabled": True})
        assert (off.status, on.status) == (200, 200)
        bad = await client.put("/api/reminders", headers=AUTH, json={"enabled": "yes"})
        assert bad.status == 400
        assert (await bad.json())["key"] == "enabled"
        missing = await client.put("/api/reminders", headers=AUTH, json={})
        assert missing.status == 400
        assert (await missing.json())["key"] == "enabled"
    assert fake.commands() == [
        {"cmd": "reminders", "value": "off"},
        {"cmd": "reminders", "value": "on"},
    ]


@run_async
async def test_get_settings_adds_the_choices_the_page_offers(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/api/settings", headers=AUTH)
        assert response.status == 200
        body = await response.json()
    assert fake.commands() == [{"cmd": "settings"}]
    assert body["settings"]["ring.brightness"] == {"value": 0.6, "source": "default"}
    assert "ring.pixels" in body["restart_keys"]
    assert body["choices"]["reminder.every_minutes"][:4] == [1, 2, 3, 4]
    assert 60 in body["choices"]["reminder.every_minutes"]
    assert 7 not in body["choices"]["reminder.every_minutes"]
    assert "box" in body["choices"]["session.pattern"]
    assert "custom" not in body["choices"]["session.pattern"]  # no inhale/exhale set


@run_async
async def test_patch_settings_sets_every_key_in_one_request(fake: FakeService) -> None:
    changes = {"ring.brightness": 0.3, "ring.color": "#FF8C32", "audio.enabled": False}
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=AUTH, json=changes)
        assert response.status == 200
        body = await response.json()
    assert body == {"ok": True, "applied": changes}
    assert fake.commands() == [
        {"cmd": "settings"},
        {
            "cmd": "set",
            "values": {"ring.brightness": 0.3, "ring.color": "#FF8C32", "audio.enabled": False},
        },
    ]
    assert fake.settings["ring.brightness"] == {"value": 0.3, "source": "settings"}


@run_async
async def test_patch_settings_switches_to_a_custom_pattern_with_its_breaths(
    fake: FakeService,
) -> None:
    custom = {"session.pattern": "custom", "session.inhale": 4, "session.exhale": 6}
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=AUTH, json=custom)
        assert response.status == 200
        assert await response.json() == {"ok": True, "applied": custom}
        listing = await (await client.get("/api/settings", headers=AUTH)).json()
    assert listing["settings"]["session.pattern"] == {"value": "custom", "source": "settings"}
    assert listing["settings"]["session.exhale"] == {"value": 6, "source": "settings"}
    assert listing["choices"]["session.pattern"][-1] == "custom"


@run_async
async def test_patch_settings_bad_value_is_400_naming_the_key(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.brightness": 7}
        )
        assert response.status == 400
        body = await response.json()
    assert body["key"] == "ring.brightness"
    assert body["code"] == "invalid"
    assert "ring.brightness" in body["error"]
    # All or none: the key before the refused one is not applied either.
    assert body["applied"] == {}
    assert fake.settings["audio.volume"] == {"value": 0.6, "source": "default"}
    assert fake.settings["ring.brightness"]["value"] == 0.6


@run_async
async def test_patch_settings_unknown_or_restart_key_changes_nothing(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        unknown = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.sparkle": 1}
        )
        assert unknown.status == 400
        assert (await unknown.json())["key"] == "ring.sparkle"
        restart = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.pixels": 12}
        )
        assert restart.status == 400
        restart_body = await restart.json()
    assert restart_body["key"] == "ring.pixels"
    assert restart_body["code"] == "restart"
    assert "restart" in restart_body["error"]
    # Both were refused after one `settings` request, before any `set`.
    assert fake.commands() == [{"cmd": "settings"}, {"cmd": "settings"}]
    assert fake.settings["audio.volume"]["value"] == 0.6


@run_async
async def test_patch_settings_values_that_are_not_scalars(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for body, key in (
            ({"ring.brightness": None}, "ring.brightness"),
            ({"ring.color": [255, 0, 0]}, "ring.color"),
            ({"night.hours": {"from": "22:00"}}, "night.hours"),
            ({"Ring Brightness": 0.3}, "Ring Brightness"),
        ):
            response = await client.patch("/api/settings", headers=AUTH, json=body)
            assert response.status == 400, body
            assert (await response.json())["key"] == key
        empty = await client.patch("/api/settings", headers=AUTH, json={})
        assert empty.status == 400
    assert fake.commands() == []


@run_async
async def test_history_days(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        default = await client.get("/api/history", headers=AUTH)
        seven = await client.get("/api/history?days=7", headers=AUTH)
        assert (default.status, seven.status) == (200, 200)
        default_body = await default.json()
        seven_body = await seven.json()
    assert fake.commands() == [{"cmd": "stats", "days": 14}, {"cmd": "stats", "days": 7}]
    assert len(default_body["days"]) == 14
    assert len(seven_body["days"]) == 7
    assert seven_body["days"][-1]["date"] == "2025-03-14"
    assert seven_body["streak_days"] == 2


@run_async
async def test_history_bad_days_is_400_naming_days(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for days in ("0", "367", "-1", "seven", "1.5", "", "٣"):
            response = await client.get("/api/history", params={"days": days}, headers=AUTH)
            assert response.status == 400, days
            body = await response.json()
            assert body["key"] == "days", days
            assert "1-366" in body["error"]
    assert fake.commands() == []


@run_async
async def test_unknown_path_wrong_method_bad_json(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        missing = await client.get("/api/nothing", headers=AUTH)
        assert missing.status == 404
        assert (await missing.json())["ok"] is False
        wrong = await client.put("/api/status", headers=AUTH)
        assert wrong.status == 405
        assert "GET" in wrong.headers["Allow"]
        assert "GET" in (await wrong.json())["error"]
        bad = await client.patch("/api/settings", headers=JSON_AUTH, data=b'{"ring.brightness": ')
        assert bad.status == 400
        assert "not valid JSON" in (await bad.json())["error"]
        nan = await client.patch("/api/settings", headers=JSON_AUTH, data=b'{"audio.volume": NaN}')
        assert nan.status == 400
        page_missing = await client.get("/nothing.html", headers=AUTH)
        assert page_missing.status == 404
    assert fake.commands() == []


@run_async
async def test_service_not_running_is_503() -> None:
    with short_dir() as tmp:
        async with web_client(tmp / "control.sock") as client:
            response = await client.get("/api/status", headers=AUTH)
            assert response.status == 503
            body = await response.json()
            assert "not running" in body["error"]
            assert "systemctl start breathring" in body["error"]
            events = await client.get("/api/events", headers=AUTH)
            assert events.status == 503


@run_async
async def test_service_refusing_connections_is_503() -> None:
    import socket

    with short_dir() as tmp:
        path = tmp / "control.sock"
        stale = socket.socket(socket.AF_UNIX)
        stale.bind(str(path))  # a socket file nobody listens on: connect() is refused
        stale.close()
        async with web_client(path) as client:
            response = await client.post("/api/session", headers=AUTH)
            assert response.status == 503
            assert "nothing listens" in (await response.json())["error"]


@run_async
async def test_service_busy_is_503(fake: FakeService) -> None:
    fake.forced["status"] = {"ok": False, "code": "timeout", "error": "service busy"}
    async with web_client(fake.path) as client:
        response = await client.get("/api/status", headers=AUTH)
        assert response.status == 503
        assert "try again" in (await response.json())["error"]


def test_socket_path_is_used_as_given() -> None:
    from breathring.control.protocol import socket_path_from

    assert socket_path_from("/tmp/x.sock", {}) == Path("/tmp/x.sock")
    assert socket_path_from(None, {"RUNTIME_DIRECTORY": "/run/br"}) == Path("/run/br/control.sock")
