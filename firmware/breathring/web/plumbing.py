"""The web page's HTTP plumbing: shared state, JSON answers and errors, headers, the token check.

Every request except the page's own script, style sheet and icon needs the
token (Bearer header, or the cookie set by opening /?token=TOKEN once); API
errors are JSON (`{"ok": false, "error": ...}`, the offending key named);
request bodies are read as strict JSON; `ask` sends one request to the service.
The handlers are in app.py, the live event stream in events.py.
"""

from __future__ import annotations

import asyncio
import json
import math
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from ..control.async_client import ControlClient, WatchStream
from ..control.protocol import ControlError, is_retryable
from .auth import COOKIE_MAX_AGE_S, COOKIE_NAME, FailureLimiter, any_matches, bearer_token

STATIC_DIR = Path(__file__).resolve().parent / "static"
#: Largest request body accepted (JSON settings are a few hundred bytes).
MAX_BODY_BYTES = 16 * 1024
#: A comment line on the event stream this often keeps proxies and phones from closing it.
HEARTBEAT_S = 15.0

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
    #: Live pages counted from their first moment (before any await), so the limit is exact.
    live_pages: int = 0
    closing: asyncio.Event = field(default_factory=asyncio.Event)


STATE = web.AppKey("breathring_web", WebState)


# -- responses ---------------------------------------------------------------


def dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, allow_nan=False)


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(data, status=status, dumps=dumps, **kwargs)


def error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"ok": False, "error": message, **extra}


def _is_api(request: web.Request) -> bool:
    return request.path == "/api" or request.path.startswith("/api/")


def page_response(
    state: WebState, name: str, status: int, headers: Mapping[str, str] = {}
) -> web.Response:
    return web.Response(
        body=state.files[name],
        status=status,
        content_type="text/html",
        charset="utf-8",
        headers=headers,  # Cache-Control: no-store from add_security_headers, as for all
    )


async def add_security_headers(_request: web.Request, response: web.StreamResponse) -> None:
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
    """Token check (Bearer, cookie, or ?token= on the page); wrong tokens rate-limited.

    A right token is accepted even from an address over the limit of wrong ones, and
    only wrong tokens are answered 429: auth.FailureLimiter says why that hands
    strangers no lock-out and guessers no oracle.
    """
    state = request.app[STATE]
    if request.path in PUBLIC_FILES and request.method in ("GET", "HEAD"):
        return await handler(request)
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
    if not any_matches(offered, state.token):
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


#: Methods that change something: they must come from the page itself (or from no page).
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
#: Sec-Fetch-Site values of a request the page itself made, or a user typed.
SAME_ORIGIN_SITES = frozenset({"same-origin", "none"})
JSON_TYPE = "application/json"


def cross_origin_problem(request: web.Request) -> str | None:
    """Why a state-changing request may come from another page, or None if it cannot.

    `Origin`, when sent, must be this server as the browser addressed it
    (scheme://Host); `Sec-Fetch-Site`, when sent, must be same-origin or none. A
    request with neither (curl, Home Assistant's REST) is no browser's cross-site
    request. SameSite=Strict alone is not enough: it ignores ports, so another web
    app on the same machine is "same site" and its pages would send the cookie.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site.lower() not in SAME_ORIGIN_SITES:
        return f"Sec-Fetch-Site {site!r} is not same-origin"
    origin = request.headers.get("Origin")
    if origin is not None:
        own = f"{request.scheme}://{request.host}"
        if origin.lower() != own.lower():
            return f"Origin {origin!r} is not this page ({own})"
    return None


@web.middleware
async def origin_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """State-changing requests: 403 from another origin, 415 with a body that is not JSON.

    Requiring JSON closes the door cross-origin forms and no-cors fetches use: they can
    only send text/plain, form or multipart bodies without a CORS preflight.
    """
    if request.method in STATE_CHANGING:
        problem = cross_origin_problem(request)
        if problem is not None:
            raise ApiError(403, f"refused: {problem}; changes come from the page itself")
        if request.body_exists and request.content_type != JSON_TYPE:
            raise ApiError(
                415,
                f"Content-Type {request.content_type!r} is not allowed for a body; "
                f"send Content-Type: {JSON_TYPE}",
            )
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
    return page_response(state, LOGIN_FILE, status, headers)


# -- the service ---------------------------------------------------------------


async def ask(request: web.Request, message: Mapping[str, Any]) -> dict[str, Any]:
    """Send one request to the service; 503 if it is not there or cannot answer now."""
    state = request.app[STATE]
    try:
        reply = await state.control.request(message)
    except ControlError as exc:
        raise ApiError(503, str(exc)) from None
    if is_retryable(reply):
        raise ApiError(503, f"breathring cannot answer now ({reply['error']}); try again")
    return reply


def refused(reply: Mapping[str, Any], status: int = 409, **extra: Any) -> ApiError:
    return ApiError(status, str(reply.get("error") or "the service refused"), **extra)


# -- request bodies ------------------------------------------------------------

#: Deepest nesting of arrays and objects accepted in a body (the API's bodies are flat).
MAX_JSON_DEPTH = 8
#: Largest integer accepted: the largest a JavaScript page holds exactly (2**53 - 1).
MAX_JSON_INT = 2**53 - 1
#: Digits read as an integer at most (longer ones are refused before Python converts them).
MAX_INT_DIGITS = len(str(MAX_JSON_INT))
#: Characters of a value quoted in an error message at most.
MAX_SHOWN_CHARS = 40


class BadNumber(str):
    """A number as written in the body that JSON cannot carry on (inf, NaN, out of range)."""


def _parse_float(text: str) -> float | BadNumber:
    value = float(text)
    return value if math.isfinite(value) else BadNumber(text)


def _parse_int(text: str) -> int | BadNumber:
    if len(text.lstrip("-")) > MAX_INT_DIGITS or abs(int(text)) > MAX_JSON_INT:
        return BadNumber(text)
    return int(text)


def _bad_number_name(name: str) -> BadNumber:
    return BadNumber(name)  # NaN, Infinity, -Infinity


def show(value: Any) -> str:
    """`value` as JSON for an error message, cut to MAX_SHOWN_CHARS."""
    text = str(value) if isinstance(value, BadNumber) else dumps(value)
    return text if len(text) <= MAX_SHOWN_CHARS else text[: MAX_SHOWN_CHARS - 1] + "…"


def check_values(data: Any) -> None:
    """400 naming the top-level key of a value nested too deep or a number out of range.

    The body is walked without recursion, so no nesting can exhaust the stack.
    """
    pending: list[tuple[Any, str | None, int]] = [(data, None, 0)]
    while pending:
        value, key, depth = pending.pop()
        where = f"{key}: " if key is not None else ""
        extra = {"key": key} if key is not None else {}
        if isinstance(value, BadNumber):
            raise ApiError(
                400,
                f"{where}{show(value)} is not allowed; numbers must be finite and at most "
                f"{MAX_JSON_INT} in size",
                **extra,
            )
        if isinstance(value, (dict, list)):
            if depth >= MAX_JSON_DEPTH:
                raise ApiError(
                    400, f"{where}nested deeper than {MAX_JSON_DEPTH} levels; not allowed", **extra
                )
            items = value.items() if isinstance(value, dict) else ((None, v) for v in value)
            for name, item in items:
                top = name if key is None and isinstance(value, dict) else key
                pending.append((item, top, depth + 1))


async def read_json(request: web.Request, *, optional: bool = False) -> Any:
    """The body as JSON; None for an empty body when `optional`; 400 naming the problem.

    Infinity, NaN, 1e999 (inf once parsed), integers beyond 2**53 and values nested
    deeper than MAX_JSON_DEPTH are refused here, naming their key, so that no handler
    ever holds a value it cannot quote back or send on to the service.
    """
    body = await request.read()
    if not body.strip():
        if optional:
            return None
        raise ApiError(400, "request body is empty; send a JSON object")
    try:
        data = json.loads(
            body.decode("utf-8"),
            parse_constant=_bad_number_name,
            parse_float=_parse_float,
            parse_int=_parse_int,
        )
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
    check_values(data)
    return data


def json_object(data: Any, example: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ApiError(400, f"request body must be a JSON object such as {example}")
    return data


def only_keys(data: Mapping[str, Any], allowed: tuple[str, ...]) -> None:
    extra = sorted(k for k in data if k not in allowed)
    if extra:
        names = ", ".join(f'"{k}"' for k in allowed)
        raise ApiError(400, f'unexpected key "{extra[0]}"; allowed: {names}', key=extra[0])
