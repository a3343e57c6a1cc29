"""Fixtures for the web tests: a fake control service on a short socket path, and
`breathring web` as a process in front of it (for the real-browser tests)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import free_port
from testkit.fake_service import FakeService
from testkit.web import TOKEN, fake_service, start_web, wait_ready


@pytest.fixture
def fake() -> Iterator[FakeService]:
    with fake_service() as service:
        yield service


@pytest.fixture
def web_url(fake: FakeService, tmp_path: Path) -> Iterator[str]:
    token_file = tmp_path / "web.token"
    token_file.write_text(TOKEN + "\n")
    token_file.chmod(0o640)  # as install.sh makes it; others may not read it
    port = free_port()
    proc = start_web(port, token_file, fake.path)
    try:
        wait_ready(proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(10)
