"""Error answers word for word: JSON ({"ok": false, "error": ...}) under /api, text or the
login page elsewhere; the missing or wrong token, a path or method that is not served, a
service that is not there, busy, refusing or answering in a form the page cannot use."""

from __future__ import annotations

from typing import Any

import pytest
from testkit import short_dir
from testkit.fake_service import FakeService
from testkit.web import AUTH, WRONG, run_async, web_client

HINT = "send Authorization: Bearer TOKEN (the token: breathring web --url on the device)"


async def json_error(response: Any, status: int) -> dict[str, Any]:
    assert response.status == status
    assert response.content_type == "application/json"
    return await response.json()


# -- the token -----------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/api", "/api/", "/api/status", "/api/nothing"])
@run_async
async def test_the_api_without_the_token_says_how_to_send_it(fake: FakeService, path: str) -> None:
    async with web_client(fake.path) as client:
        missing = await client.get(path)
        assert await json_error(missing, 401) == {
            "ok": False,
            "error": f"this needs the breathring web token; {HINT}",
        }
        wrong = await client.get(path, headers={"Authorization": f"Bearer {WRONG}"})
        assert await json_error(wrong, 401) == {"ok": False, "error": f"wrong token; {HINT}"}
    assert fake.commands() == []


@pytest.mark.parametrize("path", ["/", "/apix", "/nothing.html"])
@run_async
async def test_a_page_without_the_token_is_the_login_page(fake: FakeService, path: str) -> None:
    async with web_client(fake.path) as client:
        response = await client.get(path)
        assert response.status == 401
        assert response.content_type == "text/html"
        assert "breathring web --url" in await response.text()


@run_async
async def test_too_many_wrong_tokens_are_answered_429_with_the_wait(fake: FakeService) -> None:
    wrong = {"Authorization": f"Bearer {WRONG}"}
    async with web_client(fake.path) as client:
        for _ in range(10):
            assert (await client.get("/api/status", headers=wrong)).status == 401
        api = await client.get("/api/status", headers=wrong)
        assert await json_error(api, 429) == {
            "ok": False,
            "error": f"too many wrong tokens; try again in 60 s; {HINT}",
        }
        assert api.headers["Retry-After"] == "60"
        page = await client.get("/", headers=wrong)
        assert page.status == 429
        assert page.content_type == "text/html"
        assert page.headers["Retry-After"] == "60"
        assert page.headers["Cache-Control"] == "no-store"


# -- paths and methods ---------------------------------------------------------------------------


@run_async
async def test_a_path_not_served_is_named(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for path in ("/api", "/api/", "/api/nothing"):
            response = await client.get(path, headers=AUTH)
            assert await json_error(response, 404) == {
                "ok": False,
                "error": f"no such path: {path}",
            }
        for path in ("/apix", "/nothing.html"):
            response = await client.get(path, headers=AUTH)
            assert response.status == 404
            assert response.content_type == "text/plain"
            assert await response.text() == f"no such path: {path}\n"


@run_async
async def test_a_method_not_served_is_named_with_the_allowed_ones(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        api = await client.put("/api/status", headers=AUTH)
        assert await json_error(api, 405) == {
            "ok": False,
            "error": "method PUT not allowed on /api/status; allowed: GET, HEAD",
        }
        assert api.headers["Allow"] == "GET,HEAD"
        page = await client.post("/", headers=AUTH)
        assert page.status == 405
        assert await page.text() == "method POST not allowed on /; allowed: GET, HEAD\n"
        assert page.headers["Allow"] == "GET,HEAD"
    assert fake.commands() == []


# -- the service -----------------------------------------------------------------------------


@run_async
async def test_a_service_that_is_not_there_is_503_saying_how_to_start_it() -> None:
    with short_dir() as tmp:
        path = tmp / "control.sock"
        async with web_client(path) as client:
            response = await client.get("/api/status", headers=AUTH)
            assert await json_error(response, 503) == {
                "ok": False,
                "error": f"breathring is not running (no socket at {path}); start it with: "
                "sudo systemctl start breathring",
            }


@pytest.mark.parametrize("code", ["busy", "timeout", "stopping"])
@run_async
async def test_a_service_that_cannot_answer_now_is_503_try_again(
    fake: FakeService, code: str
) -> None:
    fake.forced["stop"] = {"ok": False, "code": code, "error": "not now"}
    async with web_client(fake.path) as client:
        response = await client.delete("/api/session", headers=AUTH)
        assert await json_error(response, 503) == {
            "ok": False,
            "error": "breathring cannot answer now (not now); try again",
        }


@run_async
async def test_a_refusal_is_409_with_the_services_words(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        fake.forced["stop"] = {"ok": False, "code": "bad-request", "error": "nothing to stop"}
        said = await client.delete("/api/session", headers=AUTH)
        assert await json_error(said, 409) == {"ok": False, "error": "nothing to stop"}
        fake.forced["stop"] = {"ok": False, "code": "bad-request"}
        silent = await client.delete("/api/session", headers=AUTH)
        assert await json_error(silent, 409) == {"ok": False, "error": "the service refused"}


@run_async
async def test_answers_are_utf8_json_not_escaped(fake: FakeService) -> None:
    long_name = "ä" * 65
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=AUTH, json={"pattern": long_name})
        assert response.status == 400
        raw = await response.read()
    shown = '"' + "ä" * 38 + "…"  # cut to 40 characters
    assert raw.decode("utf-8") == (
        '{"ok": false, "error": "\\"pattern\\" must be a pattern name, not '
        + shown.replace('"', '\\"')
        + '", "key": "pattern"}'
    )
    assert fake.commands() == []


@pytest.mark.parametrize("stats", [None, [], "14 days", 3])
@run_async
async def test_history_in_an_unexpected_form_is_502(fake: FakeService, stats: Any) -> None:
    fake.forced["stats"] = {"ok": True} if stats is None else {"ok": True, "stats": stats}
    async with web_client(fake.path) as client:
        response = await client.get("/api/history", headers=AUTH)
        assert await json_error(response, 502) == {
            "ok": False,
            "error": "breathring sent history in an unexpected form",
        }
    assert fake.commands() == [{"cmd": "stats", "days": 14}]


@run_async
async def test_a_service_without_history_is_409_with_its_words(fake: FakeService) -> None:
    fake.forced["stats"] = {"ok": False, "code": "no-history", "error": "no history kept"}
    async with web_client(fake.path) as client:
        response = await client.get("/api/history?days=7", headers=AUTH)
        assert await json_error(response, 409) == {"ok": False, "error": "no history kept"}
    assert fake.commands() == [{"cmd": "stats", "days": 7}]
