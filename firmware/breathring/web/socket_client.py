"""The web process's one door to the LED service: the control socket, asynchronously.

This is the only module of `breathring.web` that imports the control-socket
module. The protocol is one JSON line each way (the server closes after its
reply), except `watch`, which keeps the connection open and streams JSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..control_socket import (
    ERROR_BUSY,
    ERROR_SERVICE_BUSY,
    ERROR_STOPPING,
    MAX_REPLY_BYTES,
    ControlAccessDenied,
    ControlError,
    ServiceNotRunning,
    socket_path_from,
)

__all__ = [
    "ControlAccessDenied",
    "ControlClient",
    "ControlError",
    "ServiceNotRunning",
    "WatchStream",
    "is_busy_error",
    "socket_path_from",
]

#: How long one request may take, connect to reply.
REQUEST_TIMEOUT_S = 3.0
#: Replies the service gives when it cannot take a request now (not the client's fault).
BUSY_ERRORS = (ERROR_BUSY, ERROR_SERVICE_BUSY, ERROR_STOPPING)

Reply = dict[str, Any]


def is_busy_error(reply: Mapping[str, Any]) -> bool:
    """True if a refusal means "the service cannot answer now" rather than "bad request"."""
    return not reply.get("ok") and reply.get("error") in BUSY_ERRORS


def _not_running(path: Path, why: str) -> ServiceNotRunning:
    return ServiceNotRunning(
        f"breathring is not running ({why} {path}); start it with: sudo systemctl start breathring"
    )


async def _connect(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.open_unix_connection(str(path), limit=MAX_REPLY_BYTES)
    except FileNotFoundError:
        raise _not_running(path, "no socket at") from None
    except ConnectionRefusedError:
        raise _not_running(path, "nothing listens on") from None
    except PermissionError:
        raise ControlAccessDenied(
            f"permission denied on {path}; run breathring web as a member of the breathring "
            "group (the unit does: SupplementaryGroups=breathring)"
        ) from None
    except OSError as exc:
        raise ControlError(f"cannot connect to breathring at {path}: {exc}") from None


def _encode(request: Mapping[str, Any]) -> bytes:
    return (json.dumps(dict(request), allow_nan=False) + "\n").encode("utf-8")


def _decode(line: bytes, path: Path) -> Reply:
    try:
        reply = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlError(f"breathring sent a line that is not JSON on {path}") from None
    if not isinstance(reply, dict):
        raise ControlError(f"breathring sent a line that is not a JSON object on {path}")
    return reply


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()


async def _read_line(reader: asyncio.StreamReader, path: Path) -> bytes:
    try:
        return await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise ControlError(
            f"reply from {path} is too long (over {MAX_REPLY_BYTES} bytes)"
        ) from None
    except OSError as exc:
        raise ControlError(f"lost the connection to breathring at {path}: {exc}") from None


@dataclass(frozen=True)
class ControlClient:
    """Sends requests to the service at `path`; every call opens its own connection."""

    path: Path
    timeout: float = REQUEST_TIMEOUT_S

    async def request(self, request: Mapping[str, Any]) -> Reply:
        """One request, one reply (a dict with "ok"); raises ControlError if there is none."""
        try:
            return await asyncio.wait_for(self._request(request), self.timeout)
        except TimeoutError:
            raise ControlError(
                f"breathring did not answer within {self.timeout:g} s on {self.path}"
            ) from None

    async def _request(self, request: Mapping[str, Any]) -> Reply:
        reader, writer = await _connect(self.path)
        try:
            writer.write(_encode(request))
            # The server may already have answered and closed (e.g. "busy"): read anyway.
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            line = await _read_line(reader, self.path)
        finally:
            await _close(writer)
        if not line.strip():
            raise ControlError(f"breathring closed the connection on {self.path} without a reply")
        reply = _decode(line, self.path)
        if not isinstance(reply.get("ok"), bool):
            raise ControlError(f'breathring sent a reply without "ok" on {self.path}')
        return reply

    async def watch(self) -> WatchStream:
        """Open a `watch` stream; raises ServiceNotRunning/ControlError if it cannot."""
        reader, writer = await asyncio.wait_for(_connect(self.path), self.timeout)
        writer.write(_encode({"cmd": "watch"}))
        try:
            await writer.drain()
        except ConnectionError as exc:
            await _close(writer)
            raise ControlError(f"lost the connection to breathring at {self.path}: {exc}") from None
        return WatchStream(self.path, reader, writer)


class WatchStream:
    """The lines of one `watch` connection, as dicts; ends when either side closes."""

    def __init__(
        self, path: Path, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self.path = path
        self._reader = reader
        self._writer = writer

    async def next(self) -> Reply | None:
        """The next message, or None when the service closed the stream."""
        while True:
            line = await _read_line(self._reader, self.path)
            if not line:
                return None
            if line.strip():
                return _decode(line, self.path)

    async def close(self) -> None:
        await _close(self._writer)
