"""The aiohttp application: the JSON API, the live event stream and the static page.

Every request except the page's own script, style sheet and icon needs the
token (Bearer header, or the cookie set by opening /?token=TOKEN once). The
service is reached only through `ControlClient` (the control socket).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..clock import Clock, SystemClock
from ..history import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from ..patterns import CUSTOM
from .auth import COOKIE_MAX_AGE_S, COOKIE_NAME, FailureLimiter, bearer_token, token_matches
from .socket_client import ControlClient, ControlError, WatchStream, is_busy_error

log = logging.getLogger(__name__)

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body accepted (JSON settings are a few hundred bytes).
MAX_BODY_BYTES = 16 * 1024
#: A comment line on the event stream this often keeps proxies and phones from closing it.
HEARTBEAT_S = 15.0
#: EventSource reconnects after this long when the stream ends (ms, sent as "retry:").
EVENTS_RETRY_MS = 3000
#: Live pages at once; each holds one `watch` connection to the service.
MAX_EVENT_STREAMS = 8
#: The first `watch` line (the current status) must arrive within this long.
WATCH_FIRST_LINE_S = 3.0
#: Event kinds relayed from the service's watch stream.
EVENT_KINDS = ("status", "gesture", "history", "settings")
#: Setting keys look like "ring.brightness" (section.name).
SETTING_KEY_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
MAX_PATTERN_CHARS = 64
PATTERN_KEY = "session.pattern"
#: The service's own pattern (patterns.CUSTOM), usable once these keys have values.
CUSTOM_PATTERN_KEYS = ("session.inhale", "session.exhale")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

#: Files served without the token: they hold nothing private and the login page uses them.
PUBLIC_FILES = {
    "/style.css": ("style.css", "text/css"),
    "/app.js": ("app.js", "text/javascript"),
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
}
INDEX_FILE = "index.html"
LOGIN_FILE = "login.html"


class ApiError(Exception):
    """An error answer: HTTP status, one-line message, and the offending key if any."""

    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra


@dataclass
class WebState:
    """What the handlers share: the token, the service client, the limiter, live streams."""

    token: str
    control: ControlClient
    limiter: FailureLimiter
    heartbeat_s: float = HEARTBEAT_S
    choices: dict[str, list[Any]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    streams: set[WatchStream] = field(default_factory=set)
    closing: asyncio.Event = field(default_factory=asyncio.Event)


STATE = web.AppKey("breathring_web", WebState)


def default_choices() -> dict[str, list[Any]]:
    """Allowed values the page offers in its pickers, from the configuration schema."""
    from ..config import REMINDER_PERIODS
    from ..patterns import PRESETS

    return {PATTERN_KEY: list(PRESETS), "reminder.every_minutes": list(REMINDER_PERIODS)}


# -- responses ---------------------------------------------------------------


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps, **kwargs)


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": message, **extra}


def _is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def _page(state: WebState, name: str, status: int, headers: Mapping[str, str] = {}) -> web.Response:
    return web.Response(
        body=state.files[name],
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers={"Cache-Control": "no-store", **headers},
    )


async def _add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers["Server"] = "breathring"  # no version numbers for scanners


# -- middlewares ---------------------------------------------------------------

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def errors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """API errors as JSON ({"ok": false, "error": ...}); HTTP errors keep their status."""
    try:
        return await handler(request)
    except ApiError as exc:
        return json_response(error_body(exc.message, **exc.extra), exc.status)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
        message = _http_error_message(request, exc)
        if _is_api(request):
            return json_response(error_body(message), exc.status, headers=headers)
        return web.Response(text=message + "\n", status=exc.status, headers=headers)


def _http_error_message(request: web.Request, exc: web.HTTPException) -> str:
    if isinstance(exc, web.HTTPNotFound):
        return f"no such path: {request.path}"
    if isinstance(exc, web.HTTPMethodNotAllowed):
        allowed = ", ".join(sorted(exc.allowed_methods))
        return f"method {request.method} not allowed on {request.path}; allowed: {allowed}"
    if isinstance(exc, web.HTTPRequestEntityTooLarge):
        return f"request body too large; allowed: at most {MAX_BODY_BYTES} bytes"
    return exc.reason


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Token check (Bearer, cookie, or ?token= on the page), rate-limited per client address."""
    state = request.app[STATE]
    if request.path in PUBLIC_FILES and request.method in ("GET", "HEAD"):
        return await handler(request)
    client = request.remote or "unknown"
    wait = state.limiter.retry_after(client)
    if wait is not None:
        return _refuse(
            request,
            state,
            429,
            f"too many wrong tokens; try again in {wait} s",
            {"Retry-After": str(wait)},
        )
    query_token = request.query.get("token") if request.path == "/" else None
    offered = [
        t
        for t in (
            bearer_token(request.headers.get("Authorization")),
            request.cookies.get(COOKIE_NAME),
            query_token,
        )
        if t is not None
    ]
    if not offered:
        return _refuse(request, state, 401, "this needs the breathring web token")
    if not any(token_matches(t, state.token) for t in offered):
        state.limiter.failed(client)
        return _refuse(request, state, 401, "wrong token")
    if query_token is not None:
        # Opening /?token=TOKEN once: keep the token in a cookie and drop it from the URL.
        response = web.Response(status=303, headers={"Location": "/"})
        response.set_cookie(
            COOKIE_NAME,
            state.token,
            max_age=COOKIE_MAX_AGE_S,
            path="/",
            httponly=True,
            samesite="Strict",
        )
        return response
    if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
        raise web.HTTPRequestEntityTooLarge(MAX_BODY_BYTES, request.content_length)
    return await handler(request)


def _refuse(
    request: web.Request,
    state: WebState,
    status: int,
    message: str,
    headers: Mapping[str, str] = {},
) -> web.Response:
    if _is_api(request):
        hint = "send Authorization: Bearer TOKEN (the token: breathring web --url on the device)"
        return json_response(error_body(f"{message}; {hint}"), status, headers=headers)
    return _page(state, LOGIN_FILE, status, headers)


# -- the service ---------------------------------------------------------------


async def ask(request: web.Request, message: Mapping[str, Any]) -> dict[str, Any]:
    """Send one request to the service; 503 if it is not there or cannot answer now."""
    state = request.app[STATE]
    try:
        reply = await state.control.request(message)
    except ControlError as exc:
        raise ApiError(503, str(exc)) from None
    if is_busy_error(reply):
        raise ApiError(503, f"breathring cannot answer now ({reply['error']}); try again")
    return reply


def _refused(reply: Mapping[str, Any], status: int = 409, **extra: Any) -> ApiError:
    return ApiError(status, str(reply.get("error") or "the service refused"), **extra)


# -- request bodies ------------------------------------------------------------


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not allowed in JSON")


async def read_json(request: web.Request, *, optional: bool = False) -> Any:
    """The body as JSON; None for an empty body when `optional`; 400 naming the problem."""
    body = await request.read()
    if not body.strip():
        if optional:
            return None
        raise ApiError(400, "request body is empty; send a JSON object")
    try:
        return json.loads(body.decode("utf-8"), parse_constant=_no_constants)
    except UnicodeDecodeError:
        raise ApiError(400, "request body is not UTF-8; send a JSON object") from None
    except json.JSONDecodeError as exc:
        raise ApiError(
            400,
            f"request body is not valid JSON ({exc.msg} at line {exc.lineno} "
            f"column {exc.colno}); send a JSON object",
        ) from None
    except (ValueError, RecursionError) as exc:
        raise ApiError(400, f"request body is not valid JSON ({exc}); send a JSON object") from None


def _object(data: Any, example: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object such as {example}")
    return data


def _only_keys(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in data if k not in allowed)
    if extra:
        names = ", ".join(f'"{k}"' for k in allowed)
        raise ApiError(400, f'unexpected key "{extra[0]}"; allowed: {names}', key=extra[0])


# -- handlers --------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    return _page(request.app[STATE], INDEX_FILE, 200)


async def public_file(request: web.Request) -> web.Response:
    name, content_type = PUBLIC_FILES[request.path]
    return web.Response(
        body=request.app[STATE].files[name],
        content_type=content_type,
        headers={"Cache-Control": "no-cache"},
    )


async def get_status(request: web.Request) -> web.Response:
    return json_response(await ask(request, {"cmd": "status"}))


async def start_session(request: web.Request) -> web.Response:
    body = await read_json(request, optional=True)
    message: dict[str, Any] = {"cmd": "start", "trigger": "remote"}
    pattern = None
    if body is not None:
        data = _object(body, '{"pattern": "box"} (or no body)')
        _only_keys(data, ("pattern",))
        pattern = data.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not 0 < len(pattern) <= MAX_PATTERN_CHARS:
                raise ApiError(
                    400, f'"pattern" must be a pattern name, not {_dumps(pattern)}', key="pattern"
                )
            message["pattern"] = pattern
    reply = await ask(request, message)
    if not reply["ok"]:
        if pattern is not None:
            raise _refused(reply, 400, key="pattern")
        raise _refused(reply)
    return json_response(reply)


async def stop_session(request: web.Request) -> web.Response:
    reply = await ask(request, {"cmd": "stop"})
    if not reply["ok"]:
        raise _refused(reply)
    return json_response(reply)


async def put_reminders(request: web.Request) -> web.Response:
    data = _object(await read_json(request), '{"enabled": true}')
    _only_keys(data, ("enabled",))
    enabled = data.get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(
            400, f'"enabled" must be true or false, not {_dumps(enabled)}', key="enabled"
        )
    reply = await ask(request, {"cmd": "reminders", "value": "on" if enabled else "off"})
    if not reply["ok"]:
        raise _refused(reply)
    return json_response(reply)


async def _settings(request: web.Request) -> dict[str, Any]:
    reply = await ask(request, {"cmd": "settings"})
    if not reply["ok"]:
        raise _refused(reply)
    if not isinstance(reply.get("settings"), dict):
        raise ApiError(502, "breathring sent settings in an unexpected form")
    return reply


def choices_for(choices: Mapping[str, list[Any]], settings: Mapping[str, Any]) -> dict[str, Any]:
    """The pickers' values; "custom" joins the patterns once the service has its breaths set."""
    out = dict(choices)
    patterns = list(out.get(PATTERN_KEY, []))
    custom_set = all(
        isinstance(settings.get(k), dict) and settings[k].get("value") is not None
        for k in CUSTOM_PATTERN_KEYS
    )
    if custom_set and CUSTOM not in patterns:
        out[PATTERN_KEY] = [*patterns, CUSTOM]
    return out


async def get_settings(request: web.Request) -> web.Response:
    reply = await _settings(request)
    return json_response(
        {**reply, "choices": choices_for(request.app[STATE].choices, reply["settings"])}
    )


def _setting_value_ok(value: Any) -> bool:
    return isinstance(value, (bool, int, float, str))


async def patch_settings(request: web.Request) -> web.Response:
    """Change settings; see docs/api.md for what happens when one of several is refused."""
    data = _object(await read_json(request), '{"ring.brightness": 0.3}')
    if not data:
        raise ApiError(400, 'no settings given; send e.g. {"ring.brightness": 0.3}')
    for key, value in data.items():
        if not SETTING_KEY_RE.match(key):
            raise ApiError(400, f'"{key}" is not a setting key such as "ring.brightness"', key=key)
        if not _setting_value_ok(value):
            raise ApiError(
                400,
                f"{key}: {_dumps(value)} is not allowed; send a number, true/false or a string",
                key=key,
            )
    current = await _settings(request)
    known = current["settings"]
    restart = set(current.get("restart_keys") or ())
    for key in data:
        if key not in known:
            allowed = ", ".join(k for k in known if k not in restart)
            raise ApiError(
                400, f"unknown setting {key}; allowed: {allowed}", key=key, code="unknown"
            )
        if key in restart:
            raise ApiError(
                400,
                f"{key} needs a restart of the service; change it in "
                "/etc/breathring/config.toml and restart breathring",
                key=key,
                code="restart",
            )
    applied: dict[str, Any] = {}
    for key, value in data.items():
        reply = await ask(request, {"cmd": "set", "key": key, "value": value})
        if not reply["ok"]:
            raise _refused(
                reply,
                400,
                key=reply.get("key", key),
                code=reply.get("code", "invalid"),
                applied=applied,
            )
        applied[key] = reply.get("value", value)
    return json_response({"ok": True, "applied": applied})


def parse_days(text: str | None) -> int:
    """?days=N: a whole number MIN_DAYS..MAX_DAYS (default DEFAULT_DAYS); 400 naming `days`."""
    if text is None:
        return DEFAULT_DAYS
    if not text.isascii() or not text.isdigit() or not MIN_DAYS <= int(text) <= MAX_DAYS:
        raise ApiError(
            400,
            f"days={text!r} is not allowed; allowed: a whole number {MIN_DAYS}-{MAX_DAYS}",
            key="days",
        )
    return int(text)


async def get_history(request: web.Request) -> web.Response:
    days = parse_days(request.query.get("days"))
    reply = await ask(request, {"cmd": "stats", "days": days})
    if not reply["ok"]:
        raise _refused(reply)
    if not isinstance(reply.get("stats"), dict):
        raise ApiError(502, "breathring sent history in an unexpected form")
    return json_response(reply["stats"])


# -- server-sent events ----------------------------------------------------------


def sse_event(message: Mapping[str, Any]) -> bytes | None:
    """One watch line as an SSE event (`event: KIND`, `data: JSON`); None to skip it."""
    kind = message.get("kind")
    if kind not in EVENT_KINDS:
        return None
    if kind == "status":
        data: Any = message.get("status", {})
    else:
        data = {k: v for k, v in message.items() if k != "kind"}
    return f"event: {kind}\ndata: {_dumps(data)}\n\n".encode()


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
    if len(state.streams) >= MAX_EVENT_STREAMS:
        raise ApiError(503, f"too many live pages open (at most {MAX_EVENT_STREAMS}); close one")
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


async def _on_shutdown(app: web.Application) -> None:
    """End every event stream so that the server stops at once, not after a timeout."""
    state = app[STATE]
    state.closing.set()
    for stream in list(state.streams):
        await stream.close()


# -- the application ---------------------------------------------------------------


def load_files(static_dir: Path = STATIC_DIR) -> dict[str, bytes]:
    """The page's files, read once (a few tens of KB) so that serving never touches the disk."""
    names = [INDEX_FILE, LOGIN_FILE, *(name for name, _type in PUBLIC_FILES.values())]
    return {name: (static_dir / name).read_bytes() for name in names}


def create_app(
    token: str,
    control: ControlClient,
    *,
    clock: Clock | None = None,
    heartbeat_s: float = HEARTBEAT_S,
    static_dir: Path = STATIC_DIR,
) -> web.Application:
    """The web application; `clock` is read only by the failed-token limiter."""
    app = web.Application(
        middlewares=[errors_middleware, auth_middleware], client_max_size=MAX_BODY_BYTES
    )
    app[STATE] = WebState(
        token=token,
        control=control,
        limiter=FailureLimiter(clock if clock is not None else SystemClock()),
        heartbeat_s=heartbeat_s,
        choices=default_choices(),
        files=load_files(static_dir),
    )
    app.on_response_prepare.append(_add_security_headers)
    app.on_shutdown.append(_on_shutdown)
    app.router.add_get("/", index)
    for path in PUBLIC_FILES:
        app.router.add_get(path, public_file)
    app.router.add_get("/api/status", get_status)
    app.router.add_post("/api/session", start_session)
    app.router.add_delete("/api/session", stop_session)
    app.router.add_put("/api/reminders", put_reminders)
    app.router.add_get("/api/settings", get_settings)
    app.router.add_patch("/api/settings", patch_settings)
    app.router.add_get("/api/history", get_history)
    app.router.add_get("/api/events", events)
    return app
