"""The control protocol: requests, replies, error codes and limits, for the server and every client.

A client connects to a unix stream socket, writes one JSON object on one UTF-8
line ending in "\\n", reads one JSON line back, and the server closes. Requests:

    {"cmd": "press"}                      the button's short press
    {"cmd": "hold"}                       the button's hold (reminders on/off)
    {"cmd": "start", "pattern": "box"}    start a session (pattern optional)
    {"cmd": "stop"}                       fade out a running session
    {"cmd": "status"}                     what the device is doing
    {"cmd": "reminders", "value": "on"}   hourly reminders "on" or "off"
    {"cmd": "set", "key": K, "value": V}  change a setting at run time (kept in settings.toml)
    {"cmd": "set", "values": {K: V, ...}} several at once, all or none (e.g. a custom
                                          pattern with its breaths)
    {"cmd": "unset", "key": K}            back to the config file's value
    {"cmd": "settings"}                   every key: value and source
    {"cmd": "stats", "days": 14}          the history (1-366 days)
    {"cmd": "history-clear"}              erase the history
    {"cmd": "watch", "client": "web"}     stay connected: status, gesture, history and
                                          settings lines as they happen (feed.py); each
                                          client kind ("web", "mqtt", "other") has its share
    {"cmd": "breath_rate", "per_min": 13.5, "source": "mqtt"}
                                          a measured breathing rate (breaths a minute),
                                          stamped when the service receives it

Replies are {"ok": true, ...} or {"ok": false, "code": "<code>", "error": "<message>"}.
`code` is one of `ErrorCode` and is what a client acts on; `error` is for people.
"""

from __future__ import annotations

import json
import logging
import os
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from ..breath_rate import MQTT, SIMULATED
from ..history import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS
from ..patterns import PATTERN_NAMES

log = logging.getLogger("breathring.control")

DEFAULT_SOCKET = Path("/run/breathring/control.sock")
SOCKET_NAME = "control.sock"
RUNTIME_DIRECTORY_ENV = "RUNTIME_DIRECTORY"
#: The service owner and the breathring group may talk to the service; nobody else.
SOCKET_MODE = 0o660

COMMANDS = (
    "press",
    "hold",
    "start",
    "stop",
    "status",
    "reminders",
    "set",
    "unset",
    "settings",
    "stats",
    "history-clear",
    "watch",
    "breath_rate",
)
REMINDER_VALUES = ("on", "off")
#: What a `start` over the socket may say started it (the history's trigger).
START_TRIGGERS = ("remote",)
#: Who may `watch`, and how many of each at once: every companion has its own share, so
#: open pages never lock the Home Assistant bridge out. `{"cmd": "watch", "client": "web"}`.
WATCH_SHARES = {"web": 8, "mqtt": 2, "other": 4}
WATCH_CLIENT_DEFAULT = "other"
#: Where a `breath_rate` reading over the socket may come from (breath_rate.py's names):
#: the MQTT bridge relaying a topic, or a simulation (tests, a script).
BREATH_RATE_SOURCES = (MQTT, SIMULATED)
#: Keys each command accepts besides "cmd".
_EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "watch": ("client",),
    "start": ("pattern", "trigger"),
    "reminders": ("value",),
    "set": ("key", "value", "values"),
    "unset": ("key",),
    "stats": ("days",),
    "breath_rate": ("per_min", "source"),
}

#: The longest request line the server reads.
MAX_REQUEST_BYTES = 4096
#: The longest reply or watch line a client accepts.
MAX_LINE_BYTES = 1 << 20
#: Bytes read from a socket at a time.
RECV_CHUNK = 4096
#: Flags for send(): a peer that has gone away is an error, not a SIGPIPE.
SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)

#: How to start the service, as every client says when it is not running.
START_HINT = "start it with: sudo systemctl start breathring"


class ErrorCode(StrEnum):
    """Why a request was refused; clients switch on these, never on the message."""

    #: The line is not a valid request (the message names what is wrong and what is allowed).
    BAD_REQUEST = "bad-request"
    #: Too many clients at once; try again.
    BUSY = "busy"
    #: The service's loop did not answer in time; try again.
    TIMEOUT = "timeout"
    #: The service is stopping; it takes no more requests.
    STOPPING = "stopping"
    #: The watcher limit is reached; close one.
    TOO_MANY_WATCHERS = "too-many-watchers"
    #: `set`/`unset`: the key is not a config key.
    UNKNOWN_KEY = "unknown"
    #: `set`/`unset`: the value is not allowed (the message names the key and what is allowed).
    INVALID = "invalid"
    #: `set`/`unset`: the key needs a restart of the service.
    RESTART = "restart"
    #: `set`/`unset`: the settings file could not be written; nothing changed.
    STORAGE = "storage"
    #: `start`: the pattern asked for is not configured (e.g. "custom" without its breaths).
    NOT_CONFIGURED = "not-configured"
    #: `stats`, `history-clear`: this service keeps no history.
    NO_HISTORY = "no-history"
    #: The request was valid but carrying it out failed (the message says how).
    FAILED = "failed"
    #: The reply could not be encoded (a bug; logged by the service).
    INTERNAL = "internal"


#: Refusals that mean "the service cannot answer now", not "the request is wrong".
RETRY_CODES = frozenset({ErrorCode.BUSY, ErrorCode.TIMEOUT, ErrorCode.STOPPING})
#: Refusals of `set`/`unset` that name a key.
SETTING_CODES = frozenset(
    {ErrorCode.UNKNOWN_KEY, ErrorCode.INVALID, ErrorCode.RESTART, ErrorCode.STORAGE}
)

Reply = dict[str, Any]


class ControlError(Exception):
    """The control socket cannot be used; the message says why and what to do."""


class ServiceNotRunning(ControlError):
    """Nothing listens on the control socket."""


class ControlAccessDenied(ControlError):
    """The control socket exists but we may not connect to it."""


class RequestError(ValueError):
    """A request line is not a valid request; the message names what is wrong."""


@dataclass(frozen=True)
class Request:
    """One parsed request.

    `pattern`, `trigger`: "start"; `value`: "reminders" ("on"/"off"), "set" (any JSON
    scalar, checked by the service) and "breath_rate" (its `per_min`, checked by the
    service); `key`: "set", "unset"; `values`: "set" of several keys (key -> value);
    `days`: "stats"; `client`: "watch"; `source`: "breath_rate".
    """

    cmd: str
    pattern: str | None = None
    value: Any = None
    key: str | None = None
    values: dict[str, Any] | None = None
    days: int = DEFAULT_DAYS
    trigger: str = "remote"
    client: str = WATCH_CLIENT_DEFAULT
    source: str = MQTT


def ok_reply(**fields: Any) -> Reply:
    """A success reply carrying `fields`."""
    return {"ok": True, **fields}


def error_reply(code: ErrorCode, message: str, **fields: Any) -> Reply:
    """A refusal: its code, a one-line message, and any fields (e.g. the `key`)."""
    return {"ok": False, "code": str(code), "error": message, **fields}


def error_code(reply: Mapping[str, Any]) -> ErrorCode | None:
    """The code of a refusal (None for a success, or a code this side does not know)."""
    if reply.get("ok") is not False:
        return None
    try:
        return ErrorCode(reply.get("code"))
    except ValueError:
        return None


def is_retryable(reply: Mapping[str, Any]) -> bool:
    """True if a refusal means "the service cannot answer now" rather than "bad request"."""
    return error_code(reply) in RETRY_CODES


def socket_path_from(arg: str | None, env: Mapping[str, str] = os.environ) -> Path:
    """The socket path: --socket, else $RUNTIME_DIRECTORY/control.sock, else the default."""
    if arg is not None:
        if not arg:
            raise ValueError("--socket needs a path, e.g. --socket /run/breathring/control.sock")
        return Path(arg)
    runtime = env.get(RUNTIME_DIRECTORY_ENV, "").split(":")[0]
    if runtime:
        return Path(runtime) / SOCKET_NAME
    return DEFAULT_SOCKET


def connect_error(path: Path, exc: OSError, access_hint: str) -> ControlError:
    """The error every client raises when connecting fails; `access_hint` says who may connect."""
    if isinstance(exc, FileNotFoundError):
        return ServiceNotRunning(f"breathring is not running (no socket at {path}); {START_HINT}")
    if isinstance(exc, ConnectionRefusedError):
        return ServiceNotRunning(
            f"breathring is not running (nothing listens on {path}); {START_HINT}"
        )
    if isinstance(exc, PermissionError):
        return ControlAccessDenied(f"permission denied on {path}; {access_hint}")
    return ControlError(f"cannot connect to breathring at {path}: {exc}")


def _allowed(options: tuple[str, ...]) -> str:
    return ", ".join(f'"{o}"' for o in options)


def parse_request(line: bytes) -> Request:
    """Parse one request line; raise RequestError naming what is wrong and what is allowed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"request is not UTF-8 (byte {exc.start}); send one JSON line") from None
    if not text.strip():
        raise RequestError('empty request; send one JSON object such as {"cmd": "status"}')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"request is not valid JSON ({exc.msg} at column {exc.colno}); "
            'send one JSON object such as {"cmd": "status"}'
        ) from None
    except RecursionError:
        raise RequestError(
            'request is nested too deeply; send one flat JSON object such as {"cmd": "status"}'
        ) from None
    if not isinstance(data, dict):
        raise RequestError(
            f'request must be a JSON object such as {{"cmd": "status"}}, not {type(data).__name__}'
        )
    cmd = data.get("cmd")
    if cmd is None:
        raise RequestError(f'request has no "cmd"; allowed commands: {_allowed(COMMANDS)}')
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        raise RequestError(f"unknown cmd {json.dumps(cmd)}; allowed: {_allowed(COMMANDS)}")
    allowed_keys = ("cmd", *_EXTRA_KEYS.get(cmd, ()))
    extra = sorted(k for k in data if k not in allowed_keys)
    if extra:
        raise RequestError(
            f'unexpected key {json.dumps(extra[0])} for cmd "{cmd}"; allowed keys: '
            f"{_allowed(allowed_keys)}"
        )
    parse = _PARSERS.get(cmd)
    return parse(cmd, data) if parse is not None else Request(cmd)


def _parse_start(cmd: str, data: dict[str, Any]) -> Request:
    trigger = data.get("trigger", "remote")
    if not isinstance(trigger, str) or trigger not in START_TRIGGERS:
        raise RequestError(
            f'bad "trigger" {json.dumps(trigger)} for cmd "start"; '
            f"allowed: {_allowed(START_TRIGGERS)}"
        )
    return Request(cmd, pattern=_pattern(data.get("pattern")), trigger=trigger)


def _parse_key(cmd: str, data: dict[str, Any]) -> Request:
    key = data.get("key")
    if not isinstance(key, str) or not key:
        raise RequestError(
            f'bad "key" {json.dumps(key)} for cmd "{cmd}"; '
            'allowed: a config key such as "ring.brightness"'
        )
    if cmd == "unset":
        return Request(cmd, key=key)
    if "value" not in data:
        raise RequestError(f'cmd "set" needs a "value" for {json.dumps(key)}')
    return Request(cmd, key=key, value=data["value"])


def _parse_set(cmd: str, data: dict[str, Any]) -> Request:
    if "values" not in data:
        return _parse_key(cmd, data)
    if "key" in data or "value" in data:
        raise RequestError('cmd "set" takes "key" and "value", or "values"; not both')
    values = data["values"]
    if not isinstance(values, dict) or not values or "" in values:
        raise RequestError(
            f'bad "values" {json.dumps(values)} for cmd "set"; allowed: an object of config '
            'keys and their values, such as {"session.pattern": "custom", "session.inhale": 4}'
        )
    return Request(cmd, values=dict(values))


def _parse_stats(cmd: str, data: dict[str, Any]) -> Request:
    days = data.get("days", DEFAULT_DAYS)
    if not isinstance(days, int) or isinstance(days, bool) or not MIN_DAYS <= days <= MAX_DAYS:
        raise RequestError(
            f'bad "days" {json.dumps(days)} for cmd "stats"; '
            f"allowed: a whole number {MIN_DAYS}-{MAX_DAYS}"
        )
    return Request(cmd, days=days)


def _parse_reminders(cmd: str, data: dict[str, Any]) -> Request:
    value = data.get("value")
    if not isinstance(value, str) or value not in REMINDER_VALUES:
        raise RequestError(
            f'bad "value" {json.dumps(value)} for cmd "reminders"; '
            f"allowed: {_allowed(REMINDER_VALUES)}"
        )
    return Request(cmd, value=value)


def _parse_watch(cmd: str, data: dict[str, Any]) -> Request:
    client = data.get("client", WATCH_CLIENT_DEFAULT)
    if not isinstance(client, str) or client not in WATCH_SHARES:
        raise RequestError(
            f'bad "client" {json.dumps(client)} for cmd "watch"; '
            f"allowed: {_allowed(tuple(WATCH_SHARES))}"
        )
    return Request(cmd, client=client)


def _parse_breath_rate(cmd: str, data: dict[str, Any]) -> Request:
    if "per_min" not in data:
        raise RequestError(
            'cmd "breath_rate" needs "per_min": breaths a minute, e.g. {"cmd": "breath_rate", '
            '"per_min": 13.5, "source": "mqtt"}'
        )
    source = data.get("source")
    if not isinstance(source, str) or source not in BREATH_RATE_SOURCES:
        raise RequestError(
            f'bad "source" {json.dumps(source)} for cmd "breath_rate"; '
            f"allowed: {_allowed(BREATH_RATE_SOURCES)}"
        )
    return Request(cmd, value=data["per_min"], source=source)


_PARSERS = {
    "watch": _parse_watch,
    "start": _parse_start,
    "set": _parse_set,
    "unset": _parse_key,
    "stats": _parse_stats,
    "reminders": _parse_reminders,
    "breath_rate": _parse_breath_rate,
}


def _pattern(pattern: object) -> str | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str) or pattern not in PATTERN_NAMES:
        raise RequestError(
            f"unknown pattern {json.dumps(pattern)}; allowed: {_allowed(PATTERN_NAMES)}"
        )
    return pattern


def encode_line(message: Mapping[str, Any]) -> bytes:
    """One JSON line (a request, a reply or a watch message); raises ValueError/TypeError."""
    return (json.dumps(dict(message), ensure_ascii=False, allow_nan=False) + "\n").encode("utf-8")


def encode_reply(reply: Reply) -> bytes:
    """One JSON line; a reply that cannot be encoded becomes an `internal` refusal."""
    try:
        return encode_line(reply)
    except (TypeError, ValueError) as exc:
        log.error("cannot encode control reply %r: %s", reply, exc)
        return encode_line(
            error_reply(ErrorCode.INTERNAL, "internal error: reply could not be encoded")
        )


def decode_line(line: bytes, path: Path) -> dict[str, Any]:
    """A reply or watch line as a dict; ControlError if it is not a JSON object."""
    try:
        value = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlError(f"breathring sent a line that is not JSON on {path}") from None
    if not isinstance(value, dict):
        raise ControlError(f"breathring sent a line that is not a JSON object on {path}")
    return value


def decode_reply(line: bytes, path: Path) -> Reply:
    """A reply line: a JSON object with a boolean "ok"; ControlError otherwise."""
    if not line.strip():
        raise ControlError(f"breathring closed the connection on {path} without a reply")
    reply = decode_line(line, path)
    if not isinstance(reply.get("ok"), bool):
        raise ControlError(f'breathring sent a reply without "ok" on {path}')
    return reply
