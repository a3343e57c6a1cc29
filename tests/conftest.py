"""Test set-up shared by every test: no hardware, no display, no speaker."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIRMWARE = ROOT / "firmware"
if str(FIRMWARE) not in sys.path:
    sys.path.insert(0, str(FIRMWARE))

# The real neopixel/Blinka libraries off a Pi, pygame without a display.
os.environ.setdefault("BLINKA_OS_AGNOSTIC", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile(
    "ci",
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture
def service_process(tmp_path):
    """Start `breathring run --hardware mock` as systemd would; every one is stopped after.

    Call it as `service_process(config="...", extra_env={...})`; see tests/service_process.py.
    """
    from service_process import ServiceProcess, short_tmp

    started: list[ServiceProcess] = []

    def start(config: str = "", extra_env: dict | None = None) -> ServiceProcess:
        base = short_tmp(tmp_path) / f"service-{len(started)}"
        base.mkdir()
        started.append(ServiceProcess(base, config=config, extra_env=extra_env))
        return started[-1]

    yield start
    for proc in started:
        proc.close()
