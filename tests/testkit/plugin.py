"""Fixtures shared across test directories (registered by tests/conftest.py as a plugin)."""

from __future__ import annotations

import contextlib
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.browser import phone_browser
from testkit.mqtt import PASSWORD, USERNAME, Broker, Watcher, make_certificates, mosquitto_binary
from testkit.paths import short_dir as _short_dir
from testkit.paths import short_tmp
from testkit.process import CliService, ServiceProcess


@pytest.fixture
def short_dir() -> Iterator[Path]:
    """A new directory with a short path, for unix sockets (108-byte paths)."""
    with _short_dir() as path:
        yield path


@pytest.fixture
def service_process(tmp_path: Path) -> Iterator[Callable[..., ServiceProcess]]:
    """Start `breathring run --hardware mock` as systemd would; every one is stopped after.

    Call it as `service_process(config="...", extra_env={...})`; see testkit/process.py.
    """
    started: list[ServiceProcess] = []

    def start(config: str = "", extra_env: dict | None = None) -> ServiceProcess:
        base = short_tmp(tmp_path) / f"service-{len(started)}"
        base.mkdir()
        started.append(ServiceProcess(base, config=config, extra_env=extra_env))
        return started[-1]

    yield start
    for proc in started:
        proc.close()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """Debian's mosquitto on a free loopback port, anonymous."""
    b = Broker(tmp_path).start()
    yield b
    b.stop()


@pytest.fixture
def password_broker(tmp_path: Path) -> Iterator[Broker]:
    """mosquitto that accepts only USERNAME / PASSWORD."""
    passwd = mosquitto_binary("mosquitto_passwd")
    password_file = tmp_path / "passwd"
    subprocess.run(
        [passwd, "-b", "-c", str(password_file), USERNAME, PASSWORD],
        check=True,
        capture_output=True,
    )
    b = Broker(tmp_path, password_file=password_file).start()
    yield b
    b.stop()


@pytest.fixture
def tls_broker(tmp_path: Path) -> Iterator[Broker]:
    """mosquitto over TLS with a throw-away CA (openssl)."""
    files = make_certificates(tmp_path)
    b = Broker(tmp_path, tls=files).start()
    yield b
    b.stop()


@pytest.fixture
def watcher_factory() -> Iterator[Callable[..., Watcher]]:
    """Make MQTT watchers (paho clients on `#`); every one is closed after."""
    made: list[Watcher] = []

    def make(port: int, **kw: Any) -> Watcher:
        w = Watcher(port, **kw)
        made.append(w)
        return w

    yield make
    for w in made:
        with contextlib.suppress(Exception):
            w.close()


@pytest.fixture
def cli_service(tmp_path: Path) -> Iterator[CliService]:
    """`breathring run --hardware mock` driven through the CLI (start() it); killed after."""
    d = CliService(tmp_path)
    yield d
    d.close()


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[Any]:
    """Headless chromium the size of a phone (testkit/browser.py); skips outside CI if absent."""
    yield from phone_browser(tmp_path / "profile")
