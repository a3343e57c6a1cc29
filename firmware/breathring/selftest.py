"""`breathring check`: a self-test for a freshly wired device.

1. ring: each pixel in turn in red, then green, then blue (a wrong colour
   order shows as the wrong colour; a wrong pixel count as a gap or a stop);
2. audio: each cue played once;
3. button: waits up to 30 s for a short press, then up to 30 s for a hold;
4. breath sensor (a radar on a serial port): a reading within a few seconds, or why not;
   and whether the kernel's serial console holds the radar's UART.

Prints a pass/fail table; exit 0 only if everything passed. With mock
hardware the same path runs, and the button is pressed by the test itself.
"""

from __future__ import annotations

import queue
import select
from dataclasses import dataclass
from typing import TextIO

from .breath_rate import SENSOR_WAIT_S
from .clock import Clock, clock_trust
from .config import Config
from .config.values import NO_BUTTON, NO_RING
from .exitcodes import EXIT_FAILURE, EXIT_OK
from .gestures import ButtonEvent, GestureDecoder
from .hw.boot_config import check_spi_timing
from .hw.selection import Hardware
from .sounds import CUE_NAMES

#: Wire value of a test pixel: clearly visible, far inside any power budget.
TEST_LEVEL = 64
COLOURS = (("red", 0), ("green", 1), ("blue", 2))
PIXEL_STEP_S = 0.08
CUE_GAP_S = 1.2
BUTTON_WAIT_S = 30.0
#: Mock hardware: when the scripted press and hold happen.
MOCK_PRESS_AFTER_S = 0.05
MOCK_HOLD_MARGIN_S = 0.3


@dataclass
class Result:
    item: str
    ok: bool
    detail: str


def _pause(seconds: float) -> None:
    if seconds > 0:
        select.select([], [], [], seconds)


def check_ring(hw: Hardware, pixels: int, step_s: float) -> Result:
    frame = bytearray(3 * pixels)
    failures = 0
    sent = 0
    for _name, channel in COLOURS:
        for i in range(pixels):
            frame[:] = bytes(3 * pixels)
            frame[3 * i + channel] = TEST_LEVEL
            try:
                hw.ring.show(bytes(frame))
                sent += 1
            except OSError:
                failures += 1
            _pause(step_s)
    try:
        hw.ring.clear()
    except OSError:
        failures += 1
    if failures:
        return Result("ring", False, f"{failures} of {sent + failures} writes failed")
    return Result(
        "ring",
        True,
        f"{sent} frames sent; each pixel should have lit red, then green, then blue "
        "(other colours: fix ring.order; a gap: fix ring.pixels)",
    )


def check_audio(hw: Hardware, volume: float, gap_s: float) -> Result:
    if not hw.audio.available:
        hw.audio.play("start", volume)  # gives the device one more chance
    if not hw.audio.available:
        return Result(
            "audio", False, "no audio device; see docs/audio.md (audio.driver, audio.device)"
        )
    for cue in CUE_NAMES:
        hw.audio.play(cue, volume)
        _pause(gap_s)
    if not hw.audio.available:
        return Result("audio", False, "the audio device failed while playing")
    return Result("audio", True, f"played {len(CUE_NAMES)} cues: {', '.join(CUE_NAMES)}")


def wait_for_gesture(
    events: queue.SimpleQueue[object],
    decoder: GestureDecoder,
    clock: Clock,
    wanted: str,
    timeout: float,
) -> bool:
    """Wait (real time) until the decoder reports `wanted`; False on timeout."""
    deadline = clock.monotonic() + timeout
    while True:
        now = clock.monotonic()
        if now >= deadline:
            return False
        hold_due = decoder.next_deadline()
        wait = deadline - now if hold_due is None else min(deadline, hold_due) - now
        try:
            item = events.get(timeout=max(wait, 0.0))
        except queue.Empty:
            item = None
        gestures = []
        if isinstance(item, ButtonEvent):
            gestures += decoder.feed(item)
        gestures += decoder.poll(clock.monotonic())
        if wanted in gestures:
            return True


class _MockPresser:
    """Mock hardware: the check presses (or holds) the button itself.

    The edges are queued at once with their own time stamps, on a timeline of
    their own that only moves forward (each gesture starts after the last one
    ended, past the double-press window), so no timer and no real-time race
    decides whether the decoder sees a press or a hold.
    """

    def __init__(self, hw: Hardware, clock: Clock, cfg: Config) -> None:
        self.events = hw.button.events
        self.clock = clock
        self.hold_s = cfg.button.hold_seconds
        self.gap_s = cfg.button.double_seconds + cfg.button.bounce_seconds + MOCK_PRESS_AFTER_S
        self.free_at = float("-inf")

    def __call__(self, which: str) -> None:
        down = max(self.clock.monotonic() + MOCK_PRESS_AFTER_S, self.free_at)
        up = down + (MOCK_PRESS_AFTER_S if which == "press" else self.hold_s + MOCK_HOLD_MARGIN_S)
        self.events.put(ButtonEvent("down", down))
        self.events.put(ButtonEvent("up", up))
        self.free_at = up + self.gap_s


def check_button(
    hw: Hardware, cfg: Config, clock: Clock, out: TextIO, timeout: float
) -> list[Result]:
    decoder = GestureDecoder(
        cfg.button.hold_seconds, cfg.button.double_seconds, cfg.button.bounce_seconds
    )
    script = _MockPresser(hw, clock, cfg) if hw.kind == "mock" else None
    results = []
    for wanted, prompt in (
        ("press", f"press the button once (waiting {timeout:.0f} s)"),
        ("hold", f"now hold it for {cfg.button.hold_seconds:g} s (waiting {timeout:.0f} s)"),
    ):
        print(f"  {prompt}…", file=out, flush=True)
        if script is not None:
            script(wanted)
        ok = wait_for_gesture(hw.button.events, decoder, clock, wanted, timeout)
        detail = (
            "seen"
            if ok
            else f"not seen in {timeout:.0f} s: check the wiring and button.pin = {cfg.button.pin}"
        )
        results.append(Result(f"button {wanted}", ok, detail))
        if not ok:
            break
    return results


def check_boot_and_clock(cfg: Config, hw: Hardware, clock: Clock) -> list[Result]:
    """SPI timing in the boot files (a ring on SPI), and whether pulses can follow the clock."""
    results = []
    spi = check_spi_timing(hw.model, cfg.ring)
    if spi is not None:
        results.append(Result("spi timing", *spi))
    trust = clock_trust(clock.synchronized(), cfg.reminder.trust_clock, clock.has_rtc())
    if trust.synchronized:
        results.append(Result("clock", True, "synchronised"))
    else:
        pulses_wait = cfg.reminder.enabled and not trust.trusted
        results.append(Result("clock", not pulses_wait, f"not synchronised: {trust.reason}"))
    return results


def check_breath_sensor(
    cfg: Config, clock: Clock, out: TextIO, timeout: float, cmdline: str | None = None
) -> list[Result]:
    """The breath sensor row, and a serial console row when the console holds its UART."""
    from .hw.breath_sensor import SERIAL_KINDS
    from .hw.breath_sensor.check import check_sensor, console_on_uart, read_cmdline

    settings = cfg.breath_sensor
    results = []
    if settings.kind in SERIAL_KINDS:
        print(
            f"  breath sensor: {settings.kind} on {settings.device}, "
            f"waiting up to {timeout:g} s for a reading…",
            file=out,
            flush=True,
        )
        console = console_on_uart(read_cmdline() if cmdline is None else cmdline, settings.device)
        if console is not None:
            results.append(
                Result(
                    "serial console",
                    False,
                    f"{console} in the kernel command line holds {settings.device}: free it "
                    "(sudo raspi-config nonint do_serial_cons 1, or remove it from cmdline.txt) "
                    "and reboot",
                )
            )
    ok, detail = check_sensor(settings, clock, timeout)
    results.insert(0, Result("breath sensor", ok, detail))
    return results


def run_check(
    cfg: Config,
    hw: Hardware,
    clock: Clock,
    out: TextIO,
    button_timeout: float = BUTTON_WAIT_S,
    sensor_timeout: float = SENSOR_WAIT_S,
) -> int:
    """Run every check, print the table; 0 if all passed, else 1."""
    mock = hw.kind == "mock"
    print(f"breathring check on {hw.model or hw.kind} hardware", file=out)
    print(f"  ring: {cfg.ring.pixels} pixels, red, green, blue in turn…", file=out, flush=True)
    if cfg.ring.driver == NO_RING:
        results = [Result("ring", True, 'not wired (ring.driver = "none"): skipped')]
    else:
        results = [check_ring(hw, cfg.ring.pixels, 0.0 if mock else PIXEL_STEP_S)]
    print("  audio: every cue once…", file=out, flush=True)
    results.append(check_audio(hw, cfg.audio.volume, 0.0 if mock else CUE_GAP_S))
    if cfg.button.pin == NO_BUTTON:
        results.append(Result("button", True, 'not wired (button.pin = "none"): skipped'))
    else:
        results += check_button(hw, cfg, clock, out, button_timeout)
    results += check_breath_sensor(cfg, clock, out, sensor_timeout)
    results += check_boot_and_clock(cfg, hw, clock)
    width = max(len(r.item) for r in results)
    print("", file=out)
    for r in results:
        print(f"  {r.item:<{width}}  {'PASS' if r.ok else 'FAIL'}  {r.detail}", file=out)
    failed = [r.item for r in results if not r.ok]
    print("", file=out)
    print("all checks passed" if not failed else f"failed: {', '.join(failed)}", file=out)
    return EXIT_OK if not failed else EXIT_FAILURE
