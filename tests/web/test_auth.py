"""Token, cookie, rate limit, body cap, security headers, no CORS."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit.fake_service import FakeService
from testkit.web import AUTH, TOKEN, WRONG, run_async, web_client

from breathring.clock import FakeClock
from breathring.web.auth import TokenError, bearer_token, read_token, token_matches

EXPECTED_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}

#: A body sent as the page sends it (anything else is 415).
JSON_AUTH = {**AUTH, "Content-Type": "application/json"}


def _assert_hardened(headers) -> None:
    for name, value in EXPECTED_HEADERS.items():
        assert headers.get(name) == value, name
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert not [h for h in headers if h.lower().startswith("access-control-")]
    assert "aiohttp" not in headers.get("Server", "")


@run_async
async def test_api_without_token_is_401_json_and_never_reaches_the_service(
    fake: FakeService,
) -> None:
    async with web_client(fake.path) as client:
        for method, path in (
            ("GET", "/api/status"),
            ("POST", "/api/session"),
            ("DELETE", "/api/session"),
            ("PUT", "/api/reminders"),
            ("GET", "/api/settings"),
            ("PATCH", "/api/settings"),
            ("GET", "/api/history"),
            ("GET", "/api/events"),
            ("GET", "/api/nothing"),
        ):
            response = await client.request(method, path)
            assert response.status == 401, (method, path)
            body = await response.json()
            assert body["ok"] is False
            assert "token" in body["error"]
            _assert_hardened(response.headers)
        # The token in the query string counts only for opening the page.
        query = await client.get(f"/api/status?token={TOKEN}")
        assert query.status == 401
    assert fake.commands() == []


@run_async
async def test_bearer_token(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        right = await client.get("/api/status", headers=AUTH)
        assert right.status == 200
        _assert_hardened(right.headers)
        wrong = await client.get("/api/status", headers={"Authorization": f"Bearer {WRONG}"})
        assert wrong.status == 401
        basic = await client.get("/api/status", headers={"Authorization": f"Basic {TOKEN}"})
        assert basic.status == 401
    assert fake.commands() == [{"cmd": "status"}]


@run_async
async def test_page_without_token_shows_what_to_do(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/")
        assert response.status == 401
        assert response.content_type == "text/html"
        text = await response.text()
        assert "breathring web --url" in text
        _assert_hardened(response.headers)
        # Its style sheet is served without the token (it holds nothing private).
        css = await client.get("/style.css")
        assert css.status == 200
        assert css.content_type == "text/css"


@run_async
async def test_cookie_flow(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        opened = await client.get(f"/?token={TOKEN}", allow_redirects=False)
        assert opened.status == 303
        assert opened.headers["Location"] == "/"
        assert TOKEN not in opened.headers["Location"]
        cookie = opened.headers["Set-Cookie"]
        assert cookie.startswith(f"breathring_token={TOKEN};")
        flags = {part.strip().lower() for part in cookie.split(";")}
        assert "httponly" in flags
        assert "samesite=strict" in flags
        assert "path=/" in flags
        _assert_hardened(opened.headers)
        # The client's cookie jar now holds it: the page and the API work without a header.
        page = await client.get("/")
        assert page.status == 200
        text = await page.text()
        assert '<script src="/app.js"' in text
        assert TOKEN not in text
        status = await client.get("/api/status")
        assert status.status == 200


@run_async
async def test_wrong_query_token_gets_the_login_message(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get(f"/?token={WRONG}", allow_redirects=False)
        assert response.status == 401
        assert "Set-Cookie" not in response.headers
        assert "breathring web --url" in await response.text()


@run_async
async def test_wrong_cookie_is_401(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        client.session.cookie_jar.update_cookies({"breathring_token": WRONG})
        response = await client.get("/api/status")
        assert response.status == 401


@run_async
async def test_wrong_tokens_are_rate_limited_but_a_right_one_always_works(
    fake: FakeService,
) -> None:
    clock = FakeClock(datetime(2025, 3, 14, 12, 0, tzinfo=UTC), mono=1000.0)
    wrong = {"Authorization": f"Bearer {WRONG}"}
    async with web_client(fake.path, clock=clock) as client:
        for _ in range(10):
            assert (await client.get("/api/status", headers=wrong)).status == 401
            clock.advance(1.0)
        limited = await client.get("/api/status", headers=wrong)
        assert limited.status == 429
        # The first failure was at 1000 s, the window is 60 s, now is 1010 s: 50 s to wait.
        assert limited.headers["Retry-After"] == "50"
        assert "too many wrong tokens" in (await limited.json())["error"]
        _assert_hardened(limited.headers)
        wrong_link = await client.get(f"/?token={WRONG}", allow_redirects=False)
        assert wrong_link.status == 429
        assert "breathring web --url" in await wrong_link.text()
        # The right token is never refused: the limit is per address, and strangers can
        # make a phone send wrong tokens from its address.
        assert (await client.get("/api/status", headers=AUTH)).status == 200
        assert (await client.get(f"/?token={TOKEN}", allow_redirects=False)).status == 303
        assert (await client.get("/api/status")).status == 200  # the cookie just set
        # A missing token is 401 (the login page), not 429.
        client.session.cookie_jar.clear()
        page = await client.get("/")
        assert page.status == 401
        assert "breathring web --url" in await page.text()
        # Once the oldest failure leaves the window, one more wrong try is a 401 again.
        clock.advance(50.0)
        assert (await client.get("/api/status", headers=wrong)).status == 401
        assert (await client.get("/api/status", headers=wrong)).status == 429


@run_async
async def test_missing_tokens_are_not_counted_as_failures(fake: FakeService) -> None:
    clock = FakeClock(datetime(2025, 3, 14, 12, 0, tzinfo=UTC), mono=0.0)
    async with web_client(fake.path, clock=clock) as client:
        for _ in range(30):
            assert (await client.get("/")).status == 401
        assert (await client.get("/api/status", headers=AUTH)).status == 200


@run_async
async def test_body_cap(fake: FakeService) -> None:
    big = b'{"ring.color": "' + b"A" * (17 * 1024) + b'"}'
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=JSON_AUTH, data=big)
        assert response.status == 413
        assert "16384" in (await response.json())["error"]

        async def chunks():  # no Content-Length: the cap applies while reading
            for _ in range(20):
                yield b" " * 1024

        chunked = await client.patch("/api/settings", headers=JSON_AUTH, data=chunks())
        assert chunked.status == 413
    assert fake.commands() == []


@run_async
async def test_no_cors_even_when_asked(fake: FakeService) -> None:
    origin = {"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    async with web_client(fake.path) as client:
        # A preflight carries no credentials: 401 (like every request without the token);
        # with the token the method is simply not served (405). No CORS header either way.
        preflight = await client.options("/api/session", headers=origin)
        assert preflight.status == 401
        _assert_hardened(preflight.headers)
        with_token = await client.options("/api/session", headers={**AUTH, **origin})
        assert with_token.status == 405
        assert with_token.headers["Allow"] == "DELETE,POST"
        _assert_hardened(with_token.headers)
        simple = await client.get("/api/status", headers={**AUTH, **origin})
        assert simple.status == 200
        _assert_hardened(simple.headers)


def test_token_compare() -> None:
    assert token_matches(TOKEN, TOKEN)
    assert not token_matches(WRONG, TOKEN)
    assert not token_matches(TOKEN[:-1], TOKEN)
    assert not token_matches("", TOKEN)
    assert not token_matches(None, TOKEN)
    assert not token_matches("é" * 64, TOKEN)
    assert bearer_token(f"Bearer {TOKEN}") == TOKEN
    assert bearer_token(f"bearer  {TOKEN} ") == TOKEN
    assert bearer_token("Bearer") is None
    assert bearer_token(None) is None


def test_read_token(tmp_path: Path) -> None:
    good = tmp_path / "web.token"
    good.write_text(TOKEN + "\n")
    good.chmod(0o640)
    assert read_token(good) == TOKEN
    for name, content, words in (
        ("empty", "", "is empty"),
        ("blank", " \n", "is empty"),
        ("spaces", "two words", "contains ' '"),
        ("binary", b"\xff\xfe", "not ASCII"),
    ):
        path = tmp_path / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
        path.chmod(0o640)
        with pytest.raises(TokenError, match=words):
            read_token(path)
    with pytest.raises(TokenError, match="does not exist"):
        read_token(tmp_path / "missing")
    with pytest.raises(TokenError, match="is a directory"):
        read_token(tmp_path)
