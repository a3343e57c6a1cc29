"""Changes come from the page itself: a state-changing request whose Origin is another page or
whose Sec-Fetch-Site is not same-origin is refused (403, the reason word for word) before it
reaches the service; reading is allowed from anywhere that has the token."""

from __future__ import annotations

from typing import Any

from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

#: The end of every cross-origin refusal.
PAGE_ITSELF = "; changes come from the page itself"


async def refusal(response: Any) -> str:
    assert response.status == 403
    body = await response.json()
    assert set(body) == {"ok", "error"}
    assert body["ok"] is False
    return body["error"]


@run_async
async def test_a_sec_fetch_site_other_than_same_origin_is_refused_naming_it(
    fake: FakeService,
) -> None:
    async with web_client(fake.path) as client:
        for site in ("cross-site", "same-site", "Cross-Site"):
            response = await client.post("/api/session", headers={**AUTH, "Sec-Fetch-Site": site})
            assert await refusal(response) == (
                f"refused: Sec-Fetch-Site '{site}' is not same-origin{PAGE_ITSELF}"
            )
    assert fake.commands() == []


@run_async
async def test_an_origin_of_another_page_is_refused_naming_this_one(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        own = f"http://127.0.0.1:{client.port}"
        for origin in ("http://evil.example", f"https://127.0.0.1:{client.port}", "null"):
            response = await client.delete("/api/session", headers={**AUTH, "Origin": origin})
            assert await refusal(response) == (
                f"refused: Origin '{origin}' is not this page ({own}){PAGE_ITSELF}"
            )
    assert fake.commands() == []


@run_async
async def test_the_fetch_site_is_checked_before_the_origin(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        headers = {**AUTH, "Sec-Fetch-Site": "cross-site", "Origin": "http://evil.example"}
        response = await client.put("/api/reminders", headers=headers, json={"enabled": True})
        assert await refusal(response) == (
            f"refused: Sec-Fetch-Site 'cross-site' is not same-origin{PAGE_ITSELF}"
        )
    assert fake.commands() == []


@run_async
async def test_the_page_itself_a_typed_request_and_curl_may_change(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        own = f"http://127.0.0.1:{client.port}"
        for headers in (
            {"Origin": own, "Sec-Fetch-Site": "same-origin"},
            {"Origin": own.upper(), "Sec-Fetch-Site": "Same-Origin"},  # either in any case
            {"Sec-Fetch-Site": "none"},  # typed in or bookmarked
            {"Sec-Fetch-Site": "NONE"},
            {},  # curl, Home Assistant's REST: neither header
        ):
            response = await client.post("/api/session", headers={**AUTH, **headers})
            assert response.status == 200, headers
    assert fake.commands() == [{"cmd": "start", "trigger": "remote"}] * 5


@run_async
async def test_reading_is_allowed_from_another_origin(fake: FakeService) -> None:
    cross = {**AUTH, "Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}
    async with web_client(fake.path) as client:
        response = await client.get("/api/status", headers=cross)
        assert response.status == 200
    assert fake.commands() == [{"cmd": "status"}]
