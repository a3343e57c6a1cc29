"""The live event stream of the web page: the service's watch stream as server-sent events.

`GET /api/events` holds one `watch` connection to the service per open page
(at most MAX_EVENT_STREAMS) and relays each status, gesture, history and
settings change as one SSE event, with a heartbeat comment while nothing moves.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from ..control.async_client import WatchStream
from ..control.protocol import WATCH_SHARES, ControlError
from .plumbing import STATE, ApiError, WebState, dumps

log = logging.getLogger(__name__)

#: EventSource reconnects after this long when the stream ends (ms, sent as "retry:").
EVENTS_RETRY_MS = 3000
#: Live pages at once; each holds one `watch` connection to the service.
MAX_EVENT_STREAMS = WATCH_SHARES["web"]
#: The first `watch` line (the current status) must arrive within this long.
WATCH_FIRST_LINE_S = 3.0
#: Event kinds relayed from the service's watch stream.
EVENT_KINDS = ("status", "gesture", "history", "settings")


def sse_event(message: Mapping[str, Any]) -> bytes | None:
    """One watch line as an SSE event (`event: KIND`, `data: JSON`); None to skip it."""
    kind = message.get("kind")
    if kind not in EVENT_KINDS:
        return None
    if kind == "status":
        data: Any = message.get("status", {})
    else:
        data = {k: v for k, v in message.items() if k != "kind"}
    return f"event: {kind}\ndata: {dumps(data)}\n\n".encode()


async def _open_watch(state: WebState) -> tuple[WatchStream, dict[str, Any]]:
    try:
        stream = await state.control.watch()
    except (ControlError, TimeoutError) as exc:
        raise ApiError(503, str(exc) or "breathring did not accept the watch request") from None
    try:
        first = await asyncio.wait_for(stream.next(), WATCH_FIRST_LINE_S)
    except (ControlError, TimeoutError) as exc:
        await stream.close()
        raise ApiError(503, str(exc) or "breathring did not start the live stream") from None
    if first is None or first.get("ok") is False:
        await stream.close()
        why = first.get("error") if first else "it closed the connection"
        raise ApiError(503, f"breathring refused the live stream ({why})")
    return stream, first


async def events(request: web.Request) -> web.StreamResponse:
    """Relay the service's watch stream as server-sent events until either side leaves."""
    state = request.app[STATE]
    if state.closing.is_set():
        raise ApiError(503, "breathring web is shutting down")
    if state.live_pages >= MAX_EVENT_STREAMS:
        raise ApiError(503, f"too many live pages open (at most {MAX_EVENT_STREAMS}); close one")
    state.live_pages += 1
    try:
        return await _relay_events(request, state)
    finally:
        state.live_pages -= 1


async def _relay_events(request: web.Request, state: WebState) -> web.StreamResponse:
    stream, first = await _open_watch(state)
    state.streams.add(stream)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream; charset=utf-8", "X-Accel-Buffering": "no"}
    )
    try:
        await response.prepare(request)
        await response.write(f"retry: {EVENTS_RETRY_MS}\n\n".encode())
        message: dict[str, Any] | None = first
        while message is not None and not state.closing.is_set():
            event = sse_event(message)
            if event is not None:
                await response.write(event)
            message = await _next_or_heartbeat(state, stream, response)
    except (ConnectionError, ControlError) as exc:
        log.debug("event stream ended: %s", exc)
    finally:
        state.streams.discard(stream)
        await stream.close()
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


async def _next_or_heartbeat(
    state: WebState, stream: WatchStream, response: web.StreamResponse
) -> dict[str, Any] | None:
    """The next watch message, writing a heartbeat comment every `heartbeat_s` meanwhile."""
    while not state.closing.is_set():
        try:
            return await asyncio.wait_for(stream.next(), state.heartbeat_s)
        except TimeoutError:
            await response.write(b": keep-alive\n\n")
    return None


async def close_streams(app: web.Application) -> None:
    """End every event stream so that the server stops at once, not after a timeout."""
    state = app[STATE]
    state.closing.set()
    for stream in list(state.streams):
        await stream.close()
