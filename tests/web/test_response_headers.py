"""Every answer carries the same security headers (word for word), says "breathring" as its
server without a version, and is not cached, except the page's public files (revalidated)."""

from __future__ import annotations

from importlib.resources import files
from typing import Any

from testkit.fake_service import FakeService
from testkit.web import AUTH, TOKEN, WRONG, run_async, web_client

SECURITY = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    "Server": "breathring",
}


def assert_headers(response: Any, cache: str = "no-store") -> None:
    for name, value in SECURITY.items():
        assert response.headers.getall(name) == [value], (response.url, name)
    assert response.headers.getall("Cache-Control") == [cache], response.url
    assert not [h for h in response.headers if h.lower().startswith("access-control-")]


@run_async
async def test_api_answers_carry_the_headers_and_are_not_stored(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for method, path, headers, status in (
            ("GET", "/api/status", AUTH, 200),
            ("GET", "/api/status", {}, 401),
            ("GET", "/api/status", {"Authorization": f"Bearer {WRONG}"}, 401),
            ("GET", "/api/nothing", AUTH, 404),
            ("PUT", "/api/status", AUTH, 405),
            ("POST", "/api/session", {**AUTH, "Origin": "http://evil.example"}, 403),
        ):
            response = await client.request(method, path, headers=headers)
            assert response.status == status, (method, path)
            assert response.content_type == "application/json"
            assert_headers(response)


@run_async
async def test_pages_carry_the_headers_and_are_not_stored(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for path, headers, status in (
            ("/", AUTH, 200),
            ("/", {}, 401),  # the login page
            ("/nothing.html", AUTH, 404),
        ):
            response = await client.get(path, headers=headers)
            assert response.status == status, path
            assert_headers(response)
        page = await client.get("/", headers=AUTH)
        assert page.headers["Content-Type"] == "text/html; charset=utf-8"
        login = await client.get("/")
        assert login.headers["Content-Type"] == "text/html; charset=utf-8"
        assert "<html" in (await login.text()).lower()


@run_async
async def test_opening_the_page_with_the_token_sets_the_cookie_with_the_headers(
    fake: FakeService,
) -> None:
    async with web_client(fake.path) as client:
        response = await client.get(f"/?token={TOKEN}", allow_redirects=False)
        assert response.status == 303
        assert response.headers["Location"] == "/"
        assert_headers(response)


@run_async
async def test_the_public_files_are_served_as_shipped_and_revalidated(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        for path, content_type in (
            ("/style.css", "text/css"),
            ("/app.js", "text/javascript"),
            ("/favicon.svg", "image/svg+xml"),
        ):
            response = await client.get(path)  # no token needed
            assert response.status == 200, path
            assert response.content_type == content_type
            assert_headers(response, cache="no-cache")
            # The file as the package ships it, byte for byte.
            shipped = files("breathring.web").joinpath("static", path.lstrip("/")).read_bytes()
            assert await response.read() == shipped
