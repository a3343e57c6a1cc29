"""Talking to a control socket as a companion does: one request and its reply, or a watch."""

from __future__ import annotations

import contextlib
import json
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

#: A request, or a watch line, gets this long (a loaded CI machine).
TIMEOUT_S = 5.0


def ask(path: Path, **request: Any) -> dict[str, Any]:
    """One request line on `path`, and the one reply line."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        return json.loads(sock.makefile("rb").readline())


@contextlib.contextmanager
def watching(path: Path, client: str | None = None) -> Iterator[Callable[[], dict[str, Any]]]:
    """A watch connection (as `client`, if given); yields a function that reads its next line."""
    request: dict[str, str] = {"cmd": "watch"}
    if client is not None:
        request["client"] = client
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(TIMEOUT_S)
        sock.connect(str(path))
        sock.sendall((json.dumps(request) + "\n").encode())
        lines = sock.makefile("rb")
        yield lambda: json.loads(lines.readline())
