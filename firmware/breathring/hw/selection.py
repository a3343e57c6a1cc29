"""Choose the hardware: `--hardware auto|pi|mock`, then each part by the configuration.

The device classes are always the real ones; what changes is what lies under them:

- pi: the ring on its driver (SPI, PWM or the Pi 5's PIO), the button on the
  kernel's GPIO character device (hw/gpio_cdev.py; off a Pi, e.g. a VM with a
  simulated GPIO chip, a revision must be given by $BREATHRING_PI_REVISION /
  button.pi_revision), the sound on the configured SDL driver (ALSA).
- mock: the same classes over a captured transmit, gpiozero's MockFactory and
  SDL's dummy audio driver (hw/mock.py).
- auto: pi on a Raspberry Pi, else mock (with one warning).

Per part: ring.driver = "none" (no ring: frames computed, nothing sent),
button.pin = "none" (no button; the control socket still works),
audio.enabled = false (silent).
"""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..clock import Clock
from ..config.values import NO_BUTTON, NO_RING
from . import MODEL_PATH, PI_MARKER, Audio, Button, HardwareUnavailable, Ring, read_model
from .mock import (
    MOCK_AUDIO_DRIVER,
    SIMULATED_AUDIO_DRIVERS,
    MockPins,
    WireCapture,
    mock_button,
    mock_ring,
)

MODES = ("auto", "pi", "mock")
PI = "pi"
MOCK = "mock"


def detect_pi(model_path: str | Path = MODEL_PATH) -> str | None:
    """The board's model string if it names a Raspberry Pi, else None."""
    model = read_model(model_path)
    return model if model is not None and PI_MARKER in model else None


@dataclass
class Hardware:
    """The hardware the service drives, and which kind it is ("pi" or "mock").

    With mock hardware, `wire` is the ring's captured bus (None without a
    ring) and `pins` drives the button's mock pin (None without a button).
    """

    ring: Ring
    button: Button
    audio: Audio
    kind: str
    model: str | None = None
    wire: WireCapture | None = None
    pins: MockPins | None = None

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
    env: Mapping[str, str] = os.environ,
) -> Hardware:
    """Open the ring, button and audio for `mode` and the configuration.

    auto: the Pi when /proc/device-tree/model says Raspberry Pi, else mock
    (with one warning). pi: the real buses, or HardwareUnavailable naming
    what is missing. mock: the real classes over mock buses.
    """
    if mode not in MODES:
        raise ValueError(f"--hardware {mode!r} is not one of {', '.join(MODES)}")
    model = detect_pi(model_path) if mode != MOCK else None
    if mode == "auto" and model is None:
        log.warning("no Raspberry Pi found (%s); running with simulated hardware", model_path)
    if mode == MOCK or (model is None and mode == "auto"):
        return open_mock(cfg, clock, log)
    return open_pi(cfg, clock, log, model, env)


def open_mock(
    cfg: Any, clock: Clock, log: logging.Logger, *, wire: WireCapture | None = None
) -> Hardware:
    """The real device classes over a captured transmit, a mock pin and SDL's dummy driver.

    `wire` lets a caller (the demo, a test harness) bring its own capture.
    """
    ring_cfg, button_cfg = cfg.ring, cfg.button
    if ring_cfg.driver == NO_RING:
        ring: Ring = _no_ring(ring_cfg.pixels)
        wire = None
    else:
        wire = wire if wire is not None else WireCapture(ring_cfg.order)
        ring = mock_ring(ring_cfg.pixels, ring_cfg.order, wire, ring_cfg.pin, ring_cfg.driver)
    pins = None
    try:
        if button_cfg.pin == NO_BUTTON:
            button: Button = _no_button()
        else:
            button, pins = mock_button(button_cfg.pin, button_cfg.bounce_seconds, clock)
        audio = open_audio_for(MOCK, cfg.audio, clock, log)
    except BaseException:
        ring.close()
        raise
    return Hardware(ring, button, audio, MOCK, wire=wire, pins=pins)


def pi_revision(cfg: Any, env: Mapping[str, str]) -> tuple[str, str] | None:
    """The Pi revision given for gpiozero, and where it came from; None if not given."""
    from .button import PI_REVISION_ENV

    text = env.get(PI_REVISION_ENV, "").strip()
    if text:
        return text, PI_REVISION_ENV
    if cfg.button.pi_revision:
        return cfg.button.pi_revision, "button.pi_revision"
    return None


def open_pi(
    cfg: Any, clock: Clock, log: logging.Logger, model: str | None, env: Mapping[str, str]
) -> Hardware:
    """The real buses, each part as the configuration says; `model` None: not a Pi."""
    ring_cfg, button_cfg = cfg.ring, cfg.button
    if ring_cfg.driver == NO_RING:
        ring: Ring = _no_ring(ring_cfg.pixels)
    else:
        from .ring import NeoPixelRing

        ring = NeoPixelRing(
            ring_cfg.pixels, ring_cfg.order, ring_cfg.pin, ring_cfg.driver, model=model
        )
    try:
        button = _open_pi_button(cfg, clock, model, env)
        # In the background: the service is ready (and lights up) while pygame loads.
        audio = _open_audio(cfg.audio, clock, log, background=True)
    except BaseException:
        ring.close()
        raise
    parts = [
        f"{ring_cfg.pixels} pixels via {ring_cfg.driver}"
        if ring_cfg.driver != NO_RING
        else 'no ring (ring.driver = "none")',
        f"button on {button_cfg.pin}"
        if button_cfg.pin != NO_BUTTON
        else 'no button (button.pin = "none")',
        "audio" if cfg.audio.enabled else "no audio (audio.enabled = false)",
    ]
    log.info("hardware: %s; %s", model or "not a Raspberry Pi", ", ".join(parts))
    return Hardware(ring=ring, button=button, audio=audio, kind=PI, model=model)


def _open_pi_button(cfg: Any, clock: Clock, model: str | None, env: Mapping[str, str]) -> Button:
    """The button on the kernel's GPIO character device (hw/gpio_cdev.py: no polling thread).

    Off a Pi a revision must be given (as for gpiozero's pin names): it is checked and names
    the board, whose header pins are on gpiochip0 (gpiochip4 on a Pi 5 that has it).
    """
    from .button import NO_REVISION, parse_revision
    from .gpio_cdev import CdevButton, chip_for

    button_cfg = cfg.button
    if button_cfg.pin == NO_BUTTON:
        return _no_button()
    given = pi_revision(cfg, env)
    revision = None
    if given is not None:
        revision = parse_revision(*given)
    elif model is None:
        raise HardwareUnavailable(NO_REVISION.format(pin=button_cfg.pin))
    offset = int(str(button_cfg.pin).removeprefix("GPIO"))
    return CdevButton(chip_for(model, revision), offset, button_cfg.bounce_seconds, clock)


def _no_ring(pixels: int) -> Ring:
    from .ring import NoRing

    return NoRing(pixels)


def _no_button() -> Button:
    from .button import NoButton

    return NoButton()


def open_audio_for(kind: str, settings: Any, clock: Clock, log: logging.Logger) -> Audio:
    """The audio of `kind` hardware for an [audio] section (at start and on a reload).

    mock: the real mixer on SDL's dummy driver, unless the section names a simulated one.
    """
    if kind == MOCK and settings.driver not in SIMULATED_AUDIO_DRIVERS:
        settings = dataclasses.replace(settings, driver=MOCK_AUDIO_DRIVER)
    return _open_audio(settings, clock, log)


def _open_audio(
    settings: Any, clock: Clock, log: logging.Logger, *, background: bool = False
) -> Audio:
    from .audio import open_audio

    return open_audio(settings, clock, log, background=background)
