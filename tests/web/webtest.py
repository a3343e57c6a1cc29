"""Shared set-up for the web tests: a fake service, the app on loopback, a client."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import socket
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from fake_service import FakeService

from breathring.control.async_client import ControlClient
from breathring.web.app import create_app

ROOT = Path(__file__).resolve().parents[2]
#: Start-up on a loaded 2-core machine: generous, the real figure is in the report.
START_TIMEOUT_S = 20.0

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
WRONG = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


@contextlib.contextmanager
def short_tmp() -> Iterator[Path]:
    """A short directory for unix sockets (their paths are limited to ~100 bytes)."""
    with tempfile.TemporaryDirectory(prefix="brw-", dir="/tmp") as name:
        yield Path(name)


@contextlib.contextmanager
def fake_service() -> Iterator[FakeService]:
    with short_tmp() as tmp:
        service = FakeService(tmp / "control.sock").start()
        try:
            yield service
        finally:
            service.stop()


@contextlib.asynccontextmanager
async def web_client(socket_path: Path, **kwargs: Any) -> AsyncIterator[TestClient]:
    """aiohttp's test client for the app on 127.0.0.1, talking to `socket_path`."""
    app = create_app(TOKEN, ControlClient(socket_path), **kwargs)
    async with TestClient(TestServer(app, host="127.0.0.1")) as client:
        yield client


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an async test function in a fresh event loop (no pytest plugin needed)."""

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        asyncio.run(test(*args, **kwargs))

    return wrapper


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_web(port: int, token_file: Path, socket_path: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "firmware")}
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "breathring.web",
            "--listen",
            f"127.0.0.1:{port}",
            "--token-file",
            str(token_file),
            "--socket",
            str(socket_path),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def wait_ready(proc: subprocess.Popen[str]) -> None:
    """The process logs its listening line once the socket is bound."""
    assert proc.stderr is not None
    for line in proc.stderr:
        if "listening on" in line:
            return
    raise AssertionError(f"breathring web exited {proc.wait()} before listening")
