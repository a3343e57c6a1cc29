"""GET /api/events: the service's watch stream relayed as server-sent events."""

from __future__ import annotations

import asyncio

from aiohttp import ClientResponse
from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

from breathring.web.events import sse_event

#: Long enough for a loaded 2-core machine, short against the 15 s heartbeat.
READ_TIMEOUT_S = 5.0


async def read_block(response: ClientResponse) -> str:
    """One SSE block (lines up to a blank line)."""
    lines: list[str] = []
    while True:
        raw = await asyncio.wait_for(response.content.readline(), READ_TIMEOUT_S)
        if not raw:
            return "\n".join(lines)
        line = raw.decode().rstrip("\n")
        if not line:
            if lines:
                return "\n".join(lines)
            continue
        lines.append(line)


async def wait_for_watchers(fake: FakeService, count: int) -> None:
    async with asyncio.timeout(READ_TIMEOUT_S):
        while fake.watcher_count() != count:
            await asyncio.sleep(0.01)


@run_async
async def test_events_relay_watch_lines(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/api/events", headers=AUTH)
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/event-stream")
        assert response.headers["Cache-Control"] == "no-store"
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert await read_block(response) == "retry: 3000"
        first = await read_block(response)
        assert first.startswith("event: status\ndata: {")
        assert '"phase": "idle"' in first
        assert '"ok"' not in first
        assert fake.commands() == [{"cmd": "watch", "client": "web"}]

        start = await client.post("/api/session", headers=AUTH, json={"pattern": "box"})
        assert start.status == 200
        changed = await read_block(response)
        assert changed.startswith("event: status\n")
        assert '"phase": "lead-in"' in changed
        assert '"breath": 0, "breaths": 3' in changed

        fake.push({"kind": "gesture", "gesture": "double", "source": "button"})
        assert await read_block(response) == (
            'event: gesture\ndata: {"gesture": "double", "source": "button"}'
        )
        fake.push({"kind": "history"})
        assert await read_block(response) == "event: history\ndata: {}"
        fake.push({"kind": "someday-new"})  # unknown kinds are skipped
        fake.push({"kind": "settings"})
        assert await read_block(response) == "event: settings\ndata: {}"
        response.close()
    # The web side closed its watch connection when the page went away.
    await wait_for_watchers(fake, 0)


@run_async
async def test_heartbeat_comment(fake: FakeService) -> None:
    async with web_client(fake.path, heartbeat_s=0.05) as client:
        response = await client.get("/api/events", headers=AUTH)
        await read_block(response)  # retry
        await read_block(response)  # status
        assert await read_block(response) == ": keep-alive"
        response.close()


@run_async
async def test_stream_ends_when_the_service_stops(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/api/events", headers=AUTH)
        await read_block(response)
        await read_block(response)
        fake.stop()
        assert await read_block(response) == ""  # end of stream, not a hang


@run_async
async def test_shutdown_closes_streams_cleanly(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.get("/api/events", headers=AUTH)
        await read_block(response)
        await read_block(response)
        await wait_for_watchers(fake, 1)
        async with asyncio.timeout(READ_TIMEOUT_S):
            await client.server.close()  # runs on_shutdown, waits for handlers
        assert await read_block(response) == ""
    await wait_for_watchers(fake, 0)


@run_async
async def test_watch_refused_is_503(fake: FakeService) -> None:
    fake.forced["watch"] = {"ok": False, "error": 'unknown cmd "watch"'}
    async with web_client(fake.path) as client:
        response = await client.get("/api/events", headers=AUTH)
        assert response.status == 503
        assert "watch" in (await response.json())["error"]


@run_async
async def test_too_many_streams_is_503(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        streams = []
        for _ in range(8):
            response = await client.get("/api/events", headers=AUTH)
            assert response.status == 200
            streams.append(response)
        ninth = await client.get("/api/events", headers=AUTH)
        assert ninth.status == 503
        assert "at most 8" in (await ninth.json())["error"]
        for response in streams:
            response.close()


def test_sse_event_format() -> None:
    status = {"kind": "status", "status": {"phase": "exhale", "note": "a\nb"}}
    assert sse_event(status) == b'event: status\ndata: {"phase": "exhale", "note": "a\\nb"}\n\n'
    assert sse_event({"kind": "nope"}) is None
    assert sse_event({"ok": False, "error": "x"}) is None
