"""`breathring check`'s breath sensor rows: a reading seen within a few seconds, or why not.

`check_sensor` runs the product's reader for a moment and, without a reading, names the most
likely cause from what it saw (no device, no permission, not a byte, bad checksums, frames but
no breathing rate). `console_on_uart` finds a kernel console on the radar's UART in the kernel
command line (it would talk over the radar and read its bytes as keystrokes).
"""

from __future__ import annotations

import errno
import os
import queue
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ...breath_rate import NO_SENSOR, SENSOR_WAIT_S
from ...clock import Clock
from . import PROTOCOLS, baud_for, make_reader
from .reader import ReaderStatus

CMDLINE_PATH = Path("/proc/cmdline")
#: Consoles that are screens, not serial ports.
SCREEN_CONSOLES = ("tty0", "tty1")
WIRING = "docs/wiring.md"


def check_sensor(
    settings: Any,
    clock: Clock,
    timeout: float = SENSOR_WAIT_S,
    make: Callable[..., Any] = make_reader,
) -> tuple[bool, str]:
    """(passed, detail) for a `[breath_sensor]` section."""
    if settings.kind == NO_SENSOR:
        return True, 'not configured ([breath_sensor] kind = "none")'
    if settings.kind not in PROTOCOLS:
        return True, f'kind = "{settings.kind}": readings come through breathring {settings.kind}'
    readings: queue.SimpleQueue[Any] = queue.SimpleQueue()
    reader = make(settings, readings.put, clock)
    started = clock.monotonic()
    reader.start()
    try:
        reading = readings.get(timeout=timeout)
    except queue.Empty:
        reading = None
    finally:
        reader.close()
    if reading is not None:
        return True, (
            f"{reading.per_min:g} breaths a minute from {settings.device} "
            f"after {max(reading.at - started, 0.0):.1f} s"
        )
    return False, why_not(reader.status(), settings, timeout)


def why_not(status: ReaderStatus, settings: Any, timeout: float) -> str:
    """The most likely reason no reading came, and what to do about it."""
    device, kind = settings.device, settings.kind
    if status.open_errno == errno.ENOENT:
        return (
            f"no {device}: wire the radar to the UART and turn the UART on "
            f"(enable_uart=1; {WIRING}), or fix [breath_sensor] device"
        )
    if status.open_errno in (errno.EACCES, errno.EPERM):
        return f"no permission to open {device}: add the user to the dialout group"
    if status.bytes_read == 0:
        if status.trouble and not status.open:
            return f"{status.trouble}"
        return (
            f"not a byte from {device} in {timeout:g} s: check the module's 5 V and GND, and "
            f"that its TX goes to the Pi's RX (GPIO15) and its RX to TX (GPIO14) ({WIRING})"
        )
    if status.frames == 0 and status.checksum_errors:
        return (
            f"{status.checksum_errors} frames with bad checksums and none good: wrong baud rate "
            f"({baud_for(settings)})? a loose wire?"
        )
    if status.frames == 0:
        return (
            f"{status.bytes_read} bytes but no {kind} frame: another module or baud rate "
            f"({baud_for(settings)})? is the serial console on it?"
        )
    if status.dropped:
        return (
            f"{status.frames} frames, but only implausible rates ({status.dropped} dropped): "
            "is someone in front of the radar, still, within about a metre?"
        )
    return (
        f"{status.frames} frames but no breathing rate in {timeout:g} s: sit or lie still in "
        "front of the radar and try again (a longer --sensor-timeout)"
    )


def console_on_uart(
    cmdline: str, device: str, resolve: Callable[[str], str] = os.path.realpath
) -> str | None:
    """The `console=` of the kernel command line that is on `device`, or None."""
    target = resolve(device)
    for word in cmdline.split():
        if not word.startswith("console="):
            continue
        name = word.removeprefix("console=").split(",")[0]
        if not name or name in SCREEN_CONSOLES:
            continue
        path = f"/dev/{name}"
        if path == device or resolve(path) == target:
            return word
    return None


def read_cmdline(path: Path = CMDLINE_PATH) -> str:
    try:
        return path.read_text()
    except OSError:
        return ""
