"""POST and DELETE /api/session and PUT /api/reminders answer by answer, word for word: the
status the service answers with, the pattern names the page passes on (1 to 64 characters),
its own refusals of a body, and the service's refusals (400 naming the pattern only when a
pattern was asked for, 409 otherwise)."""

from __future__ import annotations

from typing import Any

import pytest
from testkit.fake_service import FakeService
from testkit.status import CONTROLLER_IDLE
from testkit.web import AUTH, run_async, web_client

#: The fake service's idle status as a reply (the controller's keys and the service's).
IDLE_REPLY: dict[str, Any] = {
    "ok": True,
    **CONTROLLER_IDLE,
    "clock_synchronized": True,
    "clock_trusted": True,
    "clock_reason": None,
    "next_pulse": "2025-03-14T15:00:00+01:00",
    "hardware": "mock",
}
#: The service's refusal of a pattern it does not know, as it words it.
ALLOWED_PATTERNS = (
    '"three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "follow", "custom"'
)


async def answer(response: Any, status: int) -> Any:
    assert response.status == status
    assert response.content_type == "application/json"
    return await response.json()


# -- starting ------------------------------------------------------------------------------------


@run_async
async def test_a_start_answers_with_the_status_of_the_new_session(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": "box"})
        assert await answer(response, 200) == {
            **IDLE_REPLY,
            "state": "session",
            "phase": "lead-in",
            "breath": 0,
            "breaths": 3,
            "pattern": "box",
            "elapsed": 0.0,
        }


@pytest.mark.parametrize("length", [1, 64])
@run_async
async def test_a_pattern_name_of_1_to_64_characters_is_asked_of_the_service(
    fake: FakeService, length: int
) -> None:
    name = "x" * length
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": name})
        assert await answer(response, 400) == {
            "ok": False,
            "error": f'unknown pattern "{name}"; allowed: {ALLOWED_PATTERNS}',
            "key": "pattern",
        }
    assert fake.commands() == [{"cmd": "start", "trigger": "remote", "pattern": name}]


@pytest.mark.parametrize(
    ("pattern", "shown"),
    [("", '""'), ("x" * 65, '"' + "x" * 38 + "…"), (["box"], '["box"]'), (4, "4")],
    ids=["empty", "65-characters", "list", "number"],
)
@run_async
async def test_a_pattern_that_is_no_name_is_refused_before_the_service(
    fake: FakeService, pattern: Any, shown: str
) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": pattern})
        assert await answer(response, 400) == {
            "ok": False,
            "error": f'"pattern" must be a pattern name, not {shown}',
            "key": "pattern",
        }
    assert fake.commands() == []


@run_async
async def test_a_null_pattern_is_the_services_next_one(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": None})
        assert (await answer(response, 200))["pattern"] == "three-breath"
    assert fake.commands() == [{"cmd": "start", "trigger": "remote"}]


@run_async
async def test_a_start_body_that_is_no_object_is_400_with_an_example(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json=["box"])
        assert await answer(response, 400) == {
            "ok": False,
            "error": 'request body must be a JSON object such as {"pattern": "box"} (or no body)',
        }
    assert fake.commands() == []


@pytest.mark.parametrize("code", ["not-configured", "bad-request"])
@run_async
async def test_a_start_refused_without_a_pattern_asked_is_409_naming_no_key(
    fake: FakeService, code: str
) -> None:
    fake.forced["start"] = {"ok": False, "code": code, "error": "custom needs its breaths"}
    async with web_client(fake.path) as client:
        no_body = await client.post("/api/session", headers=AUTH)
        assert await answer(no_body, 409) == {"ok": False, "error": "custom needs its breaths"}
        no_pattern = await client.post("/api/session", headers=AUTH, json={})
        assert await answer(no_pattern, 409) == {"ok": False, "error": "custom needs its breaths"}


@run_async
async def test_a_start_refused_for_the_pattern_asked_is_400_naming_it(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": "custom"})
        assert await answer(response, 400) == {
            "ok": False,
            "error": 'pattern "custom" needs session.pattern = "custom"',
            "key": "pattern",
        }


@run_async
async def test_a_start_refused_for_another_reason_is_409(fake: FakeService) -> None:
    fake.forced["start"] = {"ok": False, "code": "failed", "error": "the ring is not there"}
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": "box"})
        assert await answer(response, 409) == {"ok": False, "error": "the ring is not there"}


# -- stopping --------------------------------------------------------------------------------------


@run_async
async def test_a_stop_answers_with_the_idle_status(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        await client.post("/api/session", headers=AUTH, json={"pattern": "box"})
        response = await client.delete("/api/session", headers=AUTH)
        assert await answer(response, 200) == IDLE_REPLY


# -- reminders -------------------------------------------------------------------------------------


@run_async
async def test_reminders_answer_with_the_status_they_leave(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        off = await client.put("/api/reminders", headers=AUTH, json={"enabled": False})
        assert await answer(off, 200) == {**IDLE_REPLY, "reminders": False}
        on = await client.put("/api/reminders", headers=AUTH, json={"enabled": True})
        assert await answer(on, 200) == IDLE_REPLY


@pytest.mark.parametrize(
    ("body", "shown"),
    [({"enabled": "yes"}, '"yes"'), ({"enabled": 1}, "1"), ({}, "null")],
    ids=["text", "number", "missing"],
)
@run_async
async def test_reminders_need_true_or_false(
    fake: FakeService, body: dict[str, Any], shown: str
) -> None:
    async with web_client(fake.path) as client:
        response = await client.put("/api/reminders", headers=AUTH, json=body)
        assert await answer(response, 400) == {
            "ok": False,
            "error": f'"enabled" must be true or false, not {shown}',
            "key": "enabled",
        }
    assert fake.commands() == []


@run_async
async def test_reminders_refused_are_409_with_the_services_words(fake: FakeService) -> None:
    fake.forced["reminders"] = {"ok": False, "code": "failed", "error": "no reminders here"}
    async with web_client(fake.path) as client:
        response = await client.put("/api/reminders", headers=AUTH, json={"enabled": True})
        assert await answer(response, 409) == {"ok": False, "error": "no reminders here"}
