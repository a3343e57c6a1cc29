"""The control socket's synchronous client: one request and its reply, or the `watch` stream.

Used by the CLI, the MQTT bridge and the benchmarks; the web's asyncio client is
async_client.py. Both speak protocol.py and raise its ControlError family.
"""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from .protocol import (
    MAX_LINE_BYTES,
    RECV_CHUNK,
    SEND_FLAGS,
    WATCH_CLIENT_DEFAULT,
    ControlError,
    Reply,
    connect_error,
    decode_line,
    decode_reply,
    encode_line,
)

DEFAULT_REQUEST_TIMEOUT_S = 3.0
#: How long connecting to the socket and sending the watch line may take.
CONNECT_TIMEOUT_S = 2.0
#: The client retries a full listen queue this often, waiting a little longer each time.
CONNECT_RETRIES = 5
CONNECT_RETRY_S = 0.05

#: What to do about a denied connection, by who is asking.
ACCESS_HINT = (
    "add yourself to the breathring group (sudo usermod -aG breathring $USER, then log in "
    "again) or use sudo"
)


def send_request(
    path: Path, request: Mapping[str, Any], timeout: float = DEFAULT_REQUEST_TIMEOUT_S
) -> Reply:
    """Send one request to the running service and return its reply.

    A full listen queue (EAGAIN: many clients at once) is retried a few times,
    a little later each time, before it counts as an error.
    """
    for attempt in range(CONNECT_RETRIES):
        try:
            return _send_once(path, request, timeout)
        except _QueueFull as exc:
            if attempt == CONNECT_RETRIES - 1:
                raise ControlError(
                    f"breathring is too busy to accept the connection on {path}: {exc.reason}; "
                    "try again"
                ) from None
            _pause(CONNECT_RETRY_S * (attempt + 1))
    raise AssertionError("unreachable")


class _QueueFull(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pause(seconds: float) -> None:
    """Wait without reading any clock (select on nothing)."""
    select.select([], [], [], seconds)


def _send_once(path: Path, request: Mapping[str, Any], timeout: float) -> Reply:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except TimeoutError:
            raise ControlError(
                f"breathring did not accept the connection within {timeout:g} s on {path}"
            ) from None
        except BlockingIOError as exc:  # EAGAIN: the listen queue is full
            raise _QueueFull(exc.strerror or str(exc)) from None
        except OSError as exc:
            raise connect_error(path, exc, ACCESS_HINT) from None
        # The server may already have answered and closed (e.g. "busy"): read the reply anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(encode_line(request), SEND_FLAGS)
        return _read_reply(sock, path, timeout)


def _read_reply(sock: socket.socket, path: Path, timeout: float) -> Reply:
    buf = bytearray()
    while b"\n" not in buf:
        try:
            chunk = sock.recv(RECV_CHUNK)
        except TimeoutError:
            raise ControlError(
                f"breathring did not answer within {timeout:g} s on {path}"
            ) from None
        except OSError as exc:
            raise ControlError(f"lost the connection to breathring at {path}: {exc}") from None
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_LINE_BYTES:
            raise ControlError(f"reply from {path} is too long (over {MAX_LINE_BYTES} bytes)")
    return decode_reply(buf.split(b"\n", 1)[0], path)


class WatchStream:
    """An open `{"cmd": "watch", "client": ...}` connection; `events()` yields one dict per line.

    Reading blocks without a timeout (the service speaks when something changes), but a
    byte on `wake` (the caller stopping) ends the iteration at once.
    """

    def __init__(self, path: Path, wake: socket.socket, client: str = WATCH_CLIENT_DEFAULT) -> None:
        self.path = path
        self._wake = wake
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            self._sock.connect(str(path))
            self._sock.sendall(encode_line({"cmd": "watch", "client": client}), SEND_FLAGS)
        except OSError as exc:
            self._sock.close()
            raise connect_error(path, exc, ACCESS_HINT) from None
        self._sock.setblocking(False)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def events(self) -> Iterator[dict[str, Any]]:
        """The stream's messages; the first is the reply to `watch` (a refusal ends it).

        Ends when the service closes the connection or `wake` becomes readable; a line
        that is not a JSON object raises ControlError.
        """
        buf = bytearray()
        with selectors.DefaultSelector() as selector:
            selector.register(self._sock, selectors.EVENT_READ)
            selector.register(self._wake, selectors.EVENT_READ)
            while True:
                ready = {key.fileobj for key, _ in selector.select()}
                if self._wake in ready:
                    return
                try:
                    chunk = self._sock.recv(RECV_CHUNK)
                except (BlockingIOError, InterruptedError):
                    continue
                except OSError as exc:
                    raise ControlError(f"lost the watch connection to {self.path}: {exc}") from None
                if not chunk:
                    return
                buf += chunk
                while (end := buf.find(b"\n")) >= 0:
                    line = bytes(buf[:end])
                    del buf[: end + 1]
                    if line.strip():
                        yield decode_line(line, self.path)
                if len(buf) > MAX_LINE_BYTES:
                    raise ControlError(f"a watch line from {self.path} is too long")
