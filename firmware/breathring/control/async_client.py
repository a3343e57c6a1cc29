"""The control socket's asyncio client, for the web: one request and its reply, or `watch`.

The same protocol (protocol.py) as the synchronous client.py: one JSON line each
way (the server closes after its reply), except `watch`, which keeps the
connection open and streams JSON lines.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .protocol import (
    MAX_LINE_BYTES,
    ControlError,
    Reply,
    connect_error,
    decode_line,
    decode_reply,
    encode_line,
)

#: How long one request may take, connect to reply.
REQUEST_TIMEOUT_S = 3.0
#: Who may connect, as the web's unit arranges it.
ACCESS_HINT = (
    "run breathring web as a member of the breathring group "
    "(the unit does: SupplementaryGroups=breathring)"
)


async def _connect(path: Path) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    try:
        return await asyncio.open_unix_connection(str(path), limit=MAX_LINE_BYTES)
    except OSError as exc:
        raise connect_error(path, exc, ACCESS_HINT) from None


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, asyncio.CancelledError):
        await writer.wait_closed()


async def _read_line(reader: asyncio.StreamReader, path: Path) -> bytes:
    try:
        return await reader.readline()
    except (asyncio.LimitOverrunError, ValueError):
        raise ControlError(f"reply from {path} is too long (over {MAX_LINE_BYTES} bytes)") from None
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
            writer.write(encode_line(request))
            # The server may already have answered and closed (e.g. "busy"): read anyway.
            with contextlib.suppress(ConnectionError):
                await writer.drain()
            line = await _read_line(reader, self.path)
        finally:
            await _close(writer)
        return decode_reply(line, self.path)

    async def watch(self, client: str = "web") -> WatchStream:
        """Open a `watch` stream; raises ServiceNotRunning/ControlError if it cannot."""
        reader, writer = await asyncio.wait_for(_connect(self.path), self.timeout)
        writer.write(encode_line({"cmd": "watch", "client": client}))
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
                return decode_line(line, self.path)

    async def close(self) -> None:
        await _close(self._writer)
