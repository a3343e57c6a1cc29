"""`breathring demo`: the device in a terminal, on the real clock.

A session starts at once. Keys: space = press, d = double press,
h = hold (reminders on/off), q or Ctrl-C = quit (the terminal is restored).
When stdout is not a terminal, plain text lines describe what happens.

The keys do what a hand does: they drive the button's mock pin under the real
GpioButton (gpiozero's MockFactory), whose edges go through the same gesture
decoder as on the device; every frame goes through the real NeoPixelRing and
the neopixel library into a captured transmit, and that is what is drawn.

The ring is drawn in the terminal; the cues and guide tones play through the
computer's speaker with the device's own audio (the pygame mixer, [audio]
settings), so the eyes-closed guidance can be tried too. `--mute` (or
audio.enabled = false) silences it; no speaker: one warning, and on it goes.
"""

from __future__ import annotations

import logging
import os
import select
import sys
import termios
import tty
from contextlib import contextmanager
from typing import TextIO

from .clock import Clock, SystemClock, read
from .config import Config
from .engine import Engine
from .exitcodes import EXIT_OK
from .gestures import DOUBLE, HOLD, PRESS, GestureDecoder
from .hw import Audio
from .hw.mock import WireCapture, mock_button, mock_ring
from .hw.terminal import CSI, TerminalRing
from .service.frames import play_tick
from .simulated_rate import RateFeed

log = logging.getLogger("breathring.demo")

KEYS = {" ": PRESS, "d": DOUBLE, "h": HOLD}
#: The mock pin the keys drive when the config has no button (button.pin = "none").
DEMO_PIN = "GPIO17"
#: A double press as a hand makes it: down, up, down, up (seconds from the key).
DOUBLE_EDGES = ((0.0, True), (0.05, False), (0.1, True), (0.15, False))
#: A hold lasts this much longer than button.hold_seconds.
HOLD_MARGIN_S = 0.2
QUIT_KEYS = {"q", "Q", "\x03", "\x1b"}
#: While idle, wake this often to notice keys and the end of `--seconds`.
IDLE_WAIT_S = 0.25
#: The terminal is redrawn at most this often (the engine still runs at ring.fps).
TERMINAL_FPS = 30

CAPTIONS = {
    "lead-in": "get ready…",
    "inhale": "breathe in",
    "hold-in": "hold",
    "exhale": "breathe out",
    "hold-out": "hold",
    "closing": "well done",
    "pulse": "time for three breaths? press space",
    "confirm": "",
    "idle": "space: start · d: long session · h: reminders on/off · q: quit",
}


@contextmanager
def _raw_terminal(fd: int):
    """cbreak mode, hidden cursor; always restored."""
    saved = termios.tcgetattr(fd)
    try:
        tty.setcbreak(fd)
        sys.stdout.write(f"{CSI}?25l{CSI}2J")
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        sys.stdout.write(f"{CSI}0m{CSI}?25h\n")
        sys.stdout.flush()


def _read_key(fd: int, timeout: float) -> str | None:
    ready, _, _ = select.select([fd], [], [], max(timeout, 0.0))
    if not ready:
        return None
    data = os.read(fd, 8)
    return data[:1].decode("latin-1") if data else "q"


def caption(phase: str, breath: int, breaths: int, reminders: bool) -> str:
    text = CAPTIONS.get(phase, phase)
    if phase in ("inhale", "exhale", "hold-in", "hold-out") and breath:
        text = f"{text}  ({breath}/{breaths})"
    if phase == "idle":
        text += f"   [reminders {'on' if reminders else 'off'}]"
    return text


class Hand:
    """Turns keys into edges on the button's mock pin, in real time, and edges into gestures."""

    def __init__(self, cfg: Config, clock: Clock) -> None:
        pin = cfg.button.pin if cfg.button.pin != "none" else DEMO_PIN
        self.clock = clock
        self.button, self.pins = mock_button(pin, cfg.button.bounce_seconds, clock)
        self.decoder = GestureDecoder(
            cfg.button.hold_seconds, cfg.button.double_seconds, cfg.button.bounce_seconds
        )
        self.hold_edges = ((0.0, True), (cfg.button.hold_seconds + HOLD_MARGIN_S, False))
        self._script: list[tuple[float, bool]] = []

    def key(self, gesture: str) -> None:
        """Start the edges of `gesture` on the pin (the first one at once)."""
        now = self.clock.monotonic()
        edges = {PRESS: ((0.0, True), (0.0, False)), DOUBLE: DOUBLE_EDGES}.get(
            gesture, self.hold_edges
        )
        edges_due = [(now + at, down) for at, down in edges]
        self._script = sorted(self._script + edges_due, key=lambda edge: edge[0])

    def next_due(self) -> float | None:
        """When the next edge or hold decision is due (monotonic), if any."""
        dues = [t for t, _ in self._script[:1]]
        deadline = self.decoder.next_deadline()
        return min(dues + ([deadline] if deadline is not None else []), default=None)

    def gestures(self) -> list[str]:
        """Drive the edges that are due, decode what the button saw, return the gestures."""
        now = self.clock.monotonic()
        while self._script and self._script[0][0] <= now:
            _, down = self._script.pop(0)
            (self.pins.press if down else self.pins.release)()
        out: list[str] = []
        while not self.button.events.empty():
            out += self.decoder.feed(self.button.events.get_nowait())
        return out + self.decoder.poll(now)

    def close(self) -> None:
        self.button.close()


class WiredTerminal:
    """The real NeoPixelRing into a captured transmit, drawn on the terminal ring."""

    def __init__(self, cfg: Config, screen: TerminalRing) -> None:
        self.screen = screen
        self.wire = WireCapture(cfg.ring.order, keep=1)
        self.device = mock_ring(cfg.ring.pixels, cfg.ring.order, self.wire)
        self.pixels = screen.pixels
        self.out = screen.out

    @property
    def caption(self) -> str:
        return self.screen.caption

    @caption.setter
    def caption(self, text: str) -> None:
        self.screen.caption = text

    def show(self, rgb: bytes) -> None:
        self.device.show(rgb)
        last = self.wire.last
        self.screen.show(self.wire.rgb(last) if last is not None else bytes(rgb))

    def clear(self) -> None:
        self.show(bytes(3 * self.pixels))


def open_demo_audio(cfg: Config, clock: SystemClock, mute: bool) -> Audio:
    """The device's audio path on this computer's speaker; silent when muted."""
    from .hw.audio import SilentAudio, open_audio

    if mute:
        log.info("sound muted (--mute)")
        return SilentAudio()
    audio = open_audio(cfg.audio, clock, log)
    if audio.available:
        log.info("audio: cues and guide tones through the speaker (pygame mixer)")
    elif not cfg.audio.enabled:
        log.info("sound off (audio.enabled = false)")
    return audio


def run_demo(
    cfg: Config,
    seconds: float | None = None,
    out: TextIO | None = None,
    audio: Audio | None = None,
    mute: bool = False,
    rates: RateFeed | None = None,
) -> int:
    """Run until q (or `seconds`); returns the exit code. Closes `audio` at the end.

    `rates`: what a breath sensor measures (a `follow` session starts from it).
    """
    out = out or sys.stdout
    interactive = out.isatty() and sys.stdin.isatty()
    clock = SystemClock()
    engine = Engine(cfg)
    ring = WiredTerminal(cfg, TerminalRing(cfg.ring.pixels, out, cfg.ring.start_pixel))
    hand = Hand(cfg, clock)
    sound = audio if audio is not None else open_demo_audio(cfg, clock, mute)
    start = clock.monotonic()
    feed = _Feed(engine, rates, start)
    try:
        hand.key(PRESS)
        feed(start)
        for gesture in hand.gestures():
            engine.gesture(gesture, read(clock))
        if interactive:
            with _raw_terminal(sys.stdin.fileno()):
                _loop(engine, ring, hand, sound, clock, feed, seconds, sys.stdin.fileno())
        else:
            _loop(engine, ring, hand, sound, clock, feed, seconds, None)
    finally:
        hand.close()
        ring.device.close()
        sound.close()
    return EXIT_OK


def _loop(
    engine: Engine,
    ring: WiredTerminal,
    hand: Hand,
    audio: Audio,
    clock: SystemClock,
    feed: _Feed,
    seconds: float | None,
    fd: int | None,
) -> None:
    start = feed.start
    interval = engine.frame_interval
    next_frame = clock.monotonic()
    last_draw = -1.0
    last_line = ""
    try:
        while seconds is None or clock.monotonic() - start < seconds:
            now = read(clock)
            feed(now.mono)
            for gesture in hand.gestures():
                engine.gesture(gesture, now)
                last_line = ""
                next_frame = now.mono
            if engine.active:
                rendered = engine.render(now)
                tick = rendered.tick
                play_tick(audio, engine.controller, tick, now, engine.cfg.audio.guide_tone)
                info = engine.controller.status(now)
                breaths = int(info.get("breaths", 0) or 0)
                text = caption(
                    tick.phase, tick.breath, breaths, engine.controller.reminders_enabled
                )
                if fd is None:
                    if text != last_line:
                        elapsed = now.mono - start
                        print(f"{elapsed:6.1f}s  {text}", file=ring.out, flush=True)
                        last_line = text
                elif now.mono - last_draw >= 1.0 / TERMINAL_FPS or not engine.active:
                    ring.caption = text
                    ring.show(rendered.wire)
                    last_draw = now.mono
                next_frame = max(next_frame + interval, now.mono)
                timeout = next_frame - clock.monotonic()
            else:
                if fd is None:
                    if seconds is None:
                        return  # not interactive: one session, then done
                elif last_line != "idle":
                    ring.caption = caption("idle", 0, 0, engine.controller.reminders_enabled)
                    ring.show(bytes(3 * ring.pixels))
                    last_line = "idle"
                timeout = IDLE_WAIT_S
            due = hand.next_due()
            if due is not None:
                timeout = min(timeout, due - clock.monotonic())
            if fd is None:
                _wait(clock, timeout)
                continue
            key = _read_key(fd, timeout)
            if key in QUIT_KEYS:
                return
            if key in KEYS:
                hand.key(KEYS[key])
    except KeyboardInterrupt:
        return
    finally:
        if fd is not None:
            ring.clear()


class _Feed:
    """Hands the engine the breathing rates measured by a moment (none without `rates`)."""

    def __init__(self, engine: Engine, rates: RateFeed | None, start: float) -> None:
        self.engine = engine
        self.rates = rates
        self.start = start

    def __call__(self, mono: float) -> None:
        if self.rates is not None:
            for reading in self.rates.due(mono, self.start):
                self.engine.controller.breath_reading(reading)


def _wait(clock: SystemClock, seconds: float) -> None:
    """Pause without a terminal to read (select on nothing)."""
    if seconds > 0:
        select.select([], [], [], seconds)
