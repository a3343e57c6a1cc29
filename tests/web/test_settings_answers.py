"""GET and PATCH /api/settings answer by answer, word for word: the service's listing in a
form the page cannot use (502), its refusals, each key refused before any is set (not a
setting key, unknown, needs a restart), what the service made of each value, and the pickers'
choices with and without the service's own "custom" pattern."""

from __future__ import annotations

from typing import Any

import pytest
from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

from breathring.web.app import choices_for

#: The fake service's presets, in the order the page offers them.
PRESETS = ["three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "follow"]
#: A small listing of the service's settings: two that can be set, one that needs a restart.
LISTING: dict[str, Any] = {
    "ok": True,
    "settings": {
        "ring.brightness": {"value": 0.6, "source": "default"},
        "ring.pixels": {"value": 24, "source": "config"},
        "audio.volume": {"value": 0.6, "source": "default"},
    },
    "restart_keys": ["ring.pixels"],
}


async def answer(response: Any, status: int) -> Any:
    assert response.status == status
    assert response.content_type == "application/json"
    return await response.json()


# -- the listing -------------------------------------------------------------------------------


#: Listings the page cannot use: no settings, settings not a table, restart keys not a list
#: of names.
WRONG_FORMS = [
    {"ok": True},
    *({"ok": True, "settings": settings} for settings in ([], "ring.brightness=0.6", 5)),
    *(
        {**LISTING, "restart_keys": keys}
        for keys in (None, "ring.pixels", ["ring.pixels", 5], {"a": 1})
    ),
]


@pytest.mark.parametrize("listing", WRONG_FORMS)
@run_async
async def test_settings_in_an_unexpected_form_are_502(
    fake: FakeService, listing: dict[str, Any]
) -> None:
    fake.forced["settings"] = listing
    wrong_form = {"ok": False, "error": "breathring sent settings in an unexpected form"}
    async with web_client(fake.path) as client:
        shown = await client.get("/api/settings", headers=AUTH)
        assert await answer(shown, 502) == wrong_form
        changed = await client.patch("/api/settings", headers=AUTH, json={"ring.pixels": 30})
        assert await answer(changed, 502) == wrong_form
    assert fake.commands() == [{"cmd": "settings"}, {"cmd": "settings"}]


@run_async
async def test_a_listing_without_restart_keys_has_none(fake: FakeService) -> None:
    """The web then refuses no key as needing a restart: the service has the last word."""
    fake.forced["settings"] = {k: v for k, v in LISTING.items() if k != "restart_keys"}
    async with web_client(fake.path) as client:
        await client.patch("/api/settings", headers=AUTH, json={"ring.pixels": 30})
    assert fake.commands() == [
        {"cmd": "settings"},
        {"cmd": "set", "values": {"ring.pixels": 30}},
    ]


@run_async
async def test_a_refused_listing_is_409_with_the_services_words(fake: FakeService) -> None:
    fake.forced["settings"] = {"ok": False, "code": "failed", "error": "settings unreadable"}
    async with web_client(fake.path) as client:
        shown = await client.get("/api/settings", headers=AUTH)
        assert await answer(shown, 409) == {"ok": False, "error": "settings unreadable"}
        changed = await client.patch("/api/settings", headers=AUTH, json={"audio.volume": 0.2})
        assert await answer(changed, 409) == {"ok": False, "error": "settings unreadable"}
    assert fake.commands() == [{"cmd": "settings"}, {"cmd": "settings"}]


# -- refused before any key is set --------------------------------------------------------------


@run_async
async def test_no_settings_at_all_is_400_with_an_example(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=AUTH, json={})
        assert await answer(response, 400) == {
            "ok": False,
            "error": 'no settings given; send e.g. {"ring.brightness": 0.3}',
        }
    assert fake.commands() == []


@run_async
async def test_a_name_that_is_no_setting_key_is_400_with_an_example(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "Ring Brightness": 0.3}
        )
        assert await answer(response, 400) == {
            "ok": False,
            "error": '"Ring Brightness" is not a setting key such as "ring.brightness"',
            "key": "Ring Brightness",
        }
    assert fake.commands() == []


@run_async
async def test_an_unknown_key_is_400_listing_the_keys_that_can_be_set(fake: FakeService) -> None:
    fake.forced["settings"] = LISTING
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.sparkle": 1}
        )
        assert await answer(response, 400) == {
            "ok": False,
            "error": "unknown setting ring.sparkle; allowed: ring.brightness, audio.volume",
            "key": "ring.sparkle",
            "code": "unknown",
        }
    assert fake.commands() == [{"cmd": "settings"}]


@run_async
async def test_a_restart_key_is_400_saying_where_to_change_it(fake: FakeService) -> None:
    fake.forced["settings"] = LISTING
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.pixels": 12}
        )
        assert await answer(response, 400) == {
            "ok": False,
            "error": "ring.pixels needs a restart of the service; change it in "
            "/etc/breathring/config.toml and restart breathring",
            "key": "ring.pixels",
            "code": "restart",
        }
    assert fake.commands() == [{"cmd": "settings"}]


# -- what the service says about each key -------------------------------------------------------


@run_async
async def test_applied_shows_the_value_the_service_took(fake: FakeService) -> None:
    fake.forced["set"] = {"ok": True, "values": {"ring.color": "#ff8c32"}}
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=AUTH, json={"ring.color": "#FF8C32"})
        assert await answer(response, 200) == {"ok": True, "applied": {"ring.color": "#ff8c32"}}


@run_async
async def test_applied_shows_the_value_sent_when_the_service_names_none(
    fake: FakeService,
) -> None:
    fake.forced["set"] = {"ok": True}
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.25, "audio.enabled": False}
        )
        assert await answer(response, 200) == {
            "ok": True,
            "applied": {"audio.volume": 0.25, "audio.enabled": False},
        }
    assert fake.requests_of("set") == [
        {"cmd": "set", "values": {"audio.volume": 0.25, "audio.enabled": False}}
    ]


@run_async
async def test_a_refusal_names_the_key_the_service_names(fake: FakeService) -> None:
    fake.forced["set"] = {
        "ok": False,
        "code": "invalid",
        "error": "session.inhale must be set before session.pattern = custom",
        "key": "session.inhale",
    }
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"session.pattern": "custom"}
        )
        assert await answer(response, 400) == {
            "ok": False,
            "error": "session.inhale must be set before session.pattern = custom",
            "key": "session.inhale",
            "code": "invalid",
            "applied": {},
        }


@run_async
async def test_a_refusal_without_a_key_names_the_key_sent(fake: FakeService) -> None:
    fake.forced["set"] = {"ok": False, "code": "storage", "error": "the settings file is full"}
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=AUTH, json={"audio.volume": 0.2})
        assert await answer(response, 400) == {
            "ok": False,
            "error": "the settings file is full",
            "key": "audio.volume",
            "code": "storage",
            "applied": {},
        }


@run_async
async def test_a_refusal_not_about_the_setting_is_409_with_nothing_applied(
    fake: FakeService,
) -> None:
    fake.forced["set"] = {"ok": False, "code": "failed", "error": "the loop stopped"}
    async with web_client(fake.path) as client:
        response = await client.patch(
            "/api/settings", headers=AUTH, json={"audio.volume": 0.2, "ring.brightness": 0.3}
        )
        assert await answer(response, 409) == {
            "ok": False,
            "error": "the loop stopped",
            "applied": {},
        }
    # Both keys went in the one request the service refused.
    assert fake.requests_of("set") == [
        {"cmd": "set", "values": {"audio.volume": 0.2, "ring.brightness": 0.3}}
    ]


# -- the pickers' choices ------------------------------------------------------------------------


@run_async
async def test_custom_is_offered_after_every_preset_once_its_breaths_are_set(
    fake: FakeService,
) -> None:
    fake.settings["session.inhale"] = {"value": 4.0, "source": "config"}
    fake.settings["session.exhale"] = {"value": 6.0, "source": "config"}
    async with web_client(fake.path) as client:
        response = await client.get("/api/settings", headers=AUTH)
        body = await answer(response, 200)
    assert body["choices"]["session.pattern"] == [*PRESETS, "custom"]


CUSTOM_SET = {
    "session.inhale": {"value": 4.0, "source": "config"},
    "session.exhale": {"value": 6.0, "source": "config"},
}


def test_custom_alone_is_offered_when_there_are_no_pattern_choices() -> None:
    choices = {"reminder.every_minutes": [30, 60]}
    assert choices_for(choices, CUSTOM_SET) == {
        "reminder.every_minutes": [30, 60],
        "session.pattern": ["custom"],
    }
    assert choices == {"reminder.every_minutes": [30, 60]}  # the app's own choices unchanged


def test_no_pattern_choices_without_custom_stay_none() -> None:
    assert choices_for({}, {"session.inhale": {"value": 4.0}}) == {}
