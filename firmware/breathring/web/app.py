"""The aiohttp application of `breathring web`: the JSON API's handlers and the static page.

The handlers reach the service only through `ControlClient` (the control
socket), via plumbing.ask; the token check, errors and headers are plumbing.py's,
the live event stream events.py's. docs/api.md describes the API.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from aiohttp import web

from ..clock import Clock, SystemClock
from ..control.async_client import ControlClient
from ..control.protocol import SETTING_CODES, ErrorCode, error_code
from ..history import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from ..patterns import CUSTOM
from .auth import FailureLimiter
from .events import close_streams, events
from .plumbing import (
    HEARTBEAT_S,
    INDEX_FILE,
    LOGIN_FILE,
    MAX_BODY_BYTES,
    PUBLIC_FILES,
    STATE,
    STATIC_DIR,
    ApiError,
    WebState,
    add_security_headers,
    ask,
    auth_middleware,
    errors_middleware,
    json_object,
    json_response,
    only_keys,
    origin_middleware,
    page_response,
    read_json,
    refused,
    show,
)

#: Setting keys look like "ring.brightness" (section.name).
SETTING_KEY_RE = re.compile(r"^[a-z_]+(\.[a-z_]+)+$")
MAX_PATTERN_CHARS = 64
PATTERN_KEY = "session.pattern"
#: The service's own pattern (patterns.CUSTOM), usable once these keys have values.
CUSTOM_PATTERN_KEYS = ("session.inhale", "session.exhale")


def default_choices() -> dict[str, list[Any]]:
    """Allowed values the page offers in its pickers, from the configuration schema."""
    from ..config import REMINDER_PERIODS
    from ..patterns import PRESETS

    return {PATTERN_KEY: list(PRESETS), "reminder.every_minutes": list(REMINDER_PERIODS)}


# -- handlers --------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    return page_response(request.app[STATE], INDEX_FILE, 200)


async def public_file(request: web.Request) -> web.Response:
    name, content_type = PUBLIC_FILES[request.path]
    return web.Response(
        body=request.app[STATE].files[name],
        content_type=content_type,
        headers={"Cache-Control": "no-cache"},
    )


async def get_status(request: web.Request) -> web.Response:
    return json_response(await ask(request, {"cmd": "status"}))


#: Refusals of `start` that are about the pattern asked for (400 naming it).
PATTERN_CODES = frozenset({ErrorCode.BAD_REQUEST, ErrorCode.NOT_CONFIGURED})


async def start_session(request: web.Request) -> web.Response:
    body = await read_json(request, optional=True)
    message: dict[str, Any] = {"cmd": "start", "trigger": "remote"}
    pattern = None
    if body is not None:
        data = json_object(body, '{"pattern": "box"} (or no body)')
        only_keys(data, ("pattern",))
        pattern = data.get("pattern")
        if pattern is not None:
            if not isinstance(pattern, str) or not 0 < len(pattern) <= MAX_PATTERN_CHARS:
                raise ApiError(
                    400, f'"pattern" must be a pattern name, not {show(pattern)}', key="pattern"
                )
            message["pattern"] = pattern
    reply = await ask(request, message)
    if not reply["ok"]:
        if pattern is not None and error_code(reply) in PATTERN_CODES:
            raise refused(reply, 400, key="pattern")
        raise refused(reply)
    return json_response(reply)


async def stop_session(request: web.Request) -> web.Response:
    reply = await ask(request, {"cmd": "stop"})
    if not reply["ok"]:
        raise refused(reply)
    return json_response(reply)


async def put_reminders(request: web.Request) -> web.Response:
    data = json_object(await read_json(request), '{"enabled": true}')
    only_keys(data, ("enabled",))
    enabled = data.get("enabled")
    if not isinstance(enabled, bool):
        raise ApiError(400, f'"enabled" must be true or false, not {show(enabled)}', key="enabled")
    reply = await ask(request, {"cmd": "reminders", "value": "on" if enabled else "off"})
    if not reply["ok"]:
        raise refused(reply)
    return json_response(reply)


async def _settings(request: web.Request) -> dict[str, Any]:
    reply = await ask(request, {"cmd": "settings"})
    if not reply["ok"]:
        raise refused(reply)
    restart_keys = reply.get("restart_keys", [])
    if not isinstance(reply.get("settings"), dict) or not (
        isinstance(restart_keys, list) and all(isinstance(k, str) for k in restart_keys)
    ):
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
    """Change one setting or several at once (all or none); see docs/api.md."""
    data = json_object(await read_json(request), '{"ring.brightness": 0.3}')
    if not data:
        raise ApiError(400, 'no settings given; send e.g. {"ring.brightness": 0.3}')
    for key, value in data.items():
        if not SETTING_KEY_RE.match(key):
            raise ApiError(400, f'"{key}" is not a setting key such as "ring.brightness"', key=key)
        if not _setting_value_ok(value):
            raise ApiError(
                400,
                f"{key}: {show(value)} is not allowed; send a number, true/false or a string",
                key=key,
            )
    current = await _settings(request)
    known = current["settings"]
    restart = set(current.get("restart_keys", []))
    for key in data:
        if key not in known:
            allowed = ", ".join(k for k in known if k not in restart)
            raise ApiError(
                400,
                f"unknown setting {key}; allowed: {allowed}",
                key=key,
                code=ErrorCode.UNKNOWN_KEY,
            )
        if key in restart:
            raise ApiError(
                400,
                f"{key} needs a restart of the service; change it in "
                "/etc/breathring/config.toml and restart breathring",
                key=key,
                code=ErrorCode.RESTART,
            )
    # One request for all the keys: the service takes them all or none.
    reply = await ask(request, {"cmd": "set", "values": data})
    code = error_code(reply)
    if code in SETTING_CODES:
        named = reply.get("key") or (next(iter(data)) if len(data) == 1 else None)
        where = {"key": named} if named else {}
        raise refused(reply, 400, **where, code=code, applied={})
    if not reply["ok"]:
        raise refused(reply, applied={})
    taken = reply.get("values")
    taken = taken if isinstance(taken, dict) else {}
    return json_response({"ok": True, "applied": {k: taken.get(k, v) for k, v in data.items()}})


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
        raise refused(reply)
    if not isinstance(reply.get("stats"), dict):
        raise ApiError(502, "breathring sent history in an unexpected form")
    return json_response(reply["stats"])


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
        middlewares=[errors_middleware, auth_middleware, origin_middleware],
        client_max_size=MAX_BODY_BYTES,
    )
    app[STATE] = WebState(
        token=token,
        control=control,
        limiter=FailureLimiter(clock if clock is not None else SystemClock()),
        heartbeat_s=heartbeat_s,
        choices=default_choices(),
        files=load_files(static_dir),
    )
    app.on_response_prepare.append(add_security_headers)
    app.on_shutdown.append(close_streams)
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
