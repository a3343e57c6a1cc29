"""The bridge's side of the control socket: one request, or the `watch` stream.

This is the only module of the bridge that imports the socket client.
"""

from __future__ import annotations

import contextlib
import json
import selectors
import socket
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

try:
    from .. import control_socket as _control
except ImportError:  # before the rename of breathring.control
    from .. import control as _control  # type: ignore[no-redef]

ControlError = _control.ControlError
ServiceNotRunning = _control.ServiceNotRunning
socket_path_from = _control.socket_path_from

#: How long one request (start, set, stats, ...) may take.
REQUEST_TIMEOUT_S = 3.0
#: How long connecting to the socket and sending the watch line may take.
CONNECT_TIMEOUT_S = 2.0
#: Bytes read at a time; the longest line the stream accepts.
RECV_CHUNK = 4096
MAX_LINE_BYTES = 1 << 20
_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)

Reply = dict[str, Any]


def request(path: Path, message: Mapping[str, Any]) -> Reply:
    """One request, one reply; raises ControlError (ServiceNotRunning) when nobody answers."""
    return _control.send_request(path, message, timeout=REQUEST_TIMEOUT_S)


class WatchStream:
    """An open `{"cmd": "watch"}` connection; `events()` yields one dict per line.

    Reading blocks without a timeout (the service speaks when something changes), but a
    byte on `wake` (the bridge stopping) ends the iteration at once.
    """

    def __init__(self, path: Path, wake: socket.socket) -> None:
        self.path = path
        self._wake = wake
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        self._sock.settimeout(CONNECT_TIMEOUT_S)
        try:
            self._sock.connect(str(path))
            self._sock.sendall(b'{"cmd": "watch"}\n', _SEND_FLAGS)
        except (FileNotFoundError, ConnectionRefusedError):
            self._sock.close()
            raise ServiceNotRunning(
                f"breathring is not running (nothing listens on {path})"
            ) from None
        except OSError as exc:
            self._sock.close()
            raise ControlError(f"cannot watch breathring at {path}: {exc}") from None
        self._sock.setblocking(False)

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._sock.close()

    def __enter__(self) -> WatchStream:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def events(self) -> Iterator[dict[str, Any] | str]:
        """Parsed JSON objects; a line that is not a JSON object is yielded as its text.

        Ends when the service closes the connection or `wake` becomes readable.
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
                        yield _parse(line)
                if len(buf) > MAX_LINE_BYTES:
                    raise ControlError(f"a watch line from {self.path} is too long")


def _parse(line: bytes) -> dict[str, Any] | str:
    text = line.decode("utf-8", "replace")
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return value if isinstance(value, dict) else text
