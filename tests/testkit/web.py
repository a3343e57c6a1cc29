"""The web page's test set-up: the app over the fake service, in-process or as `breathring web`."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Iterator
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient, TestServer
from testkit.fake_service import FakeService, running
from testkit.paths import ROOT, short_dir

from breathring.control.async_client import ControlClient
from breathring.web.app import create_app

#: Start-up on a loaded 2-core machine: generous, the real figure is in the report.
START_TIMEOUT_S = 20.0

TOKEN = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"
WRONG = "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f1"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


#: The device the web tests' fake service starts as: its brightness, a 2-day streak.
WEB_DEVICE: dict[str, Any] = {"settings": {"ring.brightness": 0.6}, "streak_days": 2}


@contextlib.contextmanager
def fake_service() -> Iterator[FakeService]:
    """The fake service as the web tests' device (WEB_DEVICE), on a short socket path."""
    with short_dir("brw-") as tmp, running(tmp / "control.sock", **WEB_DEVICE) as service:
        yield service


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
