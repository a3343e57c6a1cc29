"""Choose real or simulated hardware: `--hardware auto|pi|mock`."""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from breathring.clock import Clock
from breathring.hw import Audio, Button, HardwareUnavailable, Ring
from breathring.hw.mock import MockAudio, MockButton, MockRing

MODEL_PATH = "/proc/device-tree/model"
PI_MARKER = "Raspberry Pi"
MODES = ("auto", "pi", "mock")
PI = "pi"
MOCK = "mock"

NOT_A_PI = (
    "this is not a Raspberry Pi (no 'Raspberry Pi' in /proc/device-tree/model); "
    "use --hardware mock to run with simulated hardware"
)


def detect_pi(model_path: str | Path = MODEL_PATH) -> str | None:
    """The board's model string if it names a Raspberry Pi, else None."""
    try:
        raw = Path(model_path).read_bytes()
    except OSError:
        return None
    model = raw.replace(b"\x00", b"").decode("utf-8", "replace").strip()
    return model if PI_MARKER in model else None


@dataclass
class Hardware:
    """The hardware the service drives, and which kind it is ("pi" or "mock")."""

    ring: Ring
    button: Button
    audio: Audio
    kind: str
    model: str | None = None

    def close(self) -> None:
        """Close audio, button and ring (ring last: it goes dark); never raises."""
        for part in (self.audio, self.button, self.ring):
            try:
                part.close()
            except Exception:  # closing must reach every part
                logging.getLogger("breathring.hw").exception("closing %s failed", part)


def open_hardware(
    cfg: Any,
    mode: str,
    clock: Clock,
    log: logging.Logger,
    *,
    model_path: str | Path = MODEL_PATH,
) -> Hardware:
    """Open the ring, button and audio for `mode`.

    auto: the Pi when /proc/device-tree/model says Raspberry Pi, else mock
    (with one warning). pi: the Pi or HardwareUnavailable. mock: simulated.
    """
    if mode not in MODES:
        raise ValueError(f"--hardware {mode!r} is not one of {', '.join(MODES)}")
    model = detect_pi(model_path) if mode != MOCK else None
    if mode == PI and model is None:
        raise HardwareUnavailable(NOT_A_PI)
    if mode == "auto" and model is None:
        log.warning("no Raspberry Pi found (%s); running with simulated hardware", model_path)
    if model is None:
        return open_mock(cfg, clock)
    return _open_pi(cfg, clock, log, model)


#: `--hardware mock`: if set, every frame the mock ring shows is appended to this
#: file as one hex line (RGB, pixel 0 first), so tests of the real process can see it.
MOCK_TRACE_ENV = "BREATHRING_MOCK_TRACE"


def open_mock(cfg: Any, clock: Clock, env: Mapping[str, str] = os.environ) -> Hardware:
    """Simulated hardware shaped by the configuration."""
    trace = env.get(MOCK_TRACE_ENV)
    return Hardware(
        ring=MockRing(cfg.ring.pixels, cfg.ring.order, trace=Path(trace) if trace else None),
        button=MockButton(clock),
        audio=MockAudio(clock),
        kind=MOCK,
    )


def _open_pi(cfg: Any, clock: Clock, log: logging.Logger, model: str) -> Hardware:
    from breathring.hw.button import GpioButton
    from breathring.hw.ring import NeoPixelRing

    ring = NeoPixelRing(cfg.ring.pixels, cfg.ring.order, cfg.ring.pin, cfg.ring.driver, model=model)
    try:
        button = GpioButton(cfg.button.pin, cfg.button.bounce_seconds, clock)
    except BaseException:
        ring.close()
        raise
    audio = _open_audio(cfg, clock, log)
    log.info("hardware: %s, %d pixels via %s", model, cfg.ring.pixels, cfg.ring.driver)
    return Hardware(ring=ring, button=button, audio=audio, kind=PI, model=model)


def _open_audio(cfg: Any, clock: Clock, log: logging.Logger) -> Audio:
    try:
        from breathring.hw import audio as audio_module
    except ModuleNotFoundError as error:
        if error.name != "breathring.hw.audio":
            raise
        log.warning("breathring.hw.audio is missing; sounds are recorded, not played")
        return MockAudio(clock)
    return audio_module.open_audio(cfg.audio, clock, log)
