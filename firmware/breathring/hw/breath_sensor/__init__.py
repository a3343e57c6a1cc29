"""Breath radars on a serial port: the MR60BHA2 and the C1001 (MR60BHA1) family.

`open_sensor` starts a reader thread for `[breath_sensor] kind = "mr60bha2"` or `"c1001"` (None
for any other kind: "none" has no sensor, "mqtt" comes through `breathring mqtt`). The reader
hands each plausible `BreathReading` to `deliver` (the service's queue) and survives every fault
by itself (reader.py). protocol.py, mr60bha2.py and c1001.py are pure: bytes in, rates out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ...breath_rate import C1001, MR60BHA2, BreathReading
from ...clock import Clock
from .c1001 import C1001Module
from .mr60bha2 import Mr60bha2
from .protocol import SensorProtocol
from .reader import ReaderStatus, SensorReader

__all__ = [
    "DEFAULT_BAUD",
    "SERIAL_KINDS",
    "ReaderStatus",
    "SensorReader",
    "baud_for",
    "open_sensor",
    "protocol_for",
]

#: Each serial kind's protocol.
PROTOCOLS: dict[str, Callable[[], SensorProtocol]] = {MR60BHA2: Mr60bha2, C1001: C1001Module}
SERIAL_KINDS = tuple(PROTOCOLS)
#: Both modules talk at 115200 baud out of the box (`[breath_sensor] baud = 0`).
DEFAULT_BAUD = 115200
#: `[breath_sensor] baud` meaning "the kind's default".
BAUD_DEFAULT_MARK = 0


def protocol_for(kind: str) -> Callable[[], SensorProtocol]:
    return PROTOCOLS[kind]


def baud_for(settings: Any) -> int:
    """The baud rate of a `[breath_sensor]` section (0: the kind's default)."""
    return settings.baud if settings.baud != BAUD_DEFAULT_MARK else DEFAULT_BAUD


def make_reader(
    settings: Any, deliver: Callable[[BreathReading], object], clock: Clock, **kwargs: Any
) -> SensorReader | None:
    """A (not yet started) reader for a `[breath_sensor]` section; None if it is not serial."""
    if settings.kind not in PROTOCOLS:
        return None
    return SensorReader(
        protocol_for(settings.kind), settings.device, baud_for(settings), deliver, clock, **kwargs
    )


def open_sensor(
    settings: Any, deliver: Callable[[BreathReading], object], clock: Clock
) -> SensorReader | None:
    """The started reader of a serial `[breath_sensor]`, or None (no serial sensor)."""
    reader = make_reader(settings, deliver, clock)
    return reader.start() if reader is not None else None
