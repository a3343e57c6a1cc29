"""Seeed's MR60BHA2 (60 GHz breathing and heartbeat radar) over its UART, 115200 8N1.

Its frames (Seeed's MR60BHA2 documentation; ESPHome's `seeed_mr60bha2` reads the same):

    SOF 0x01 | ID (2) | LEN (2, BE) | TYPE (2, BE) | HEAD_CKSUM | DATA (LEN) | DATA_CKSUM

Each checksum is the inverted XOR of the bytes it covers (the seven header bytes; the data).
The module reports by itself about once a second while someone is in front of it; type 0x0A14
carries the breathing rate as a little-endian float32 (breaths a minute). Nothing is sent to it.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import reduce

from ...breath_rate import MR60BHA2
from .protocol import ChecksumError, FrameError, FrameParser

SOF = 0x01
HEADER_BYTES = 8  # SOF, ID, LEN, TYPE, HEAD_CKSUM
#: The longest data part we accept (the module's longest report, a point cloud, is shorter).
MAX_DATA_BYTES = 256
TYPE_BREATH_RATE = 0x0A14
TYPE_HEART_RATE = 0x0A15
TYPE_DISTANCE = 0x0A16
FLOAT32 = struct.Struct("<f")


def checksum(data: bytes) -> int:
    """The inverted XOR of `data` (one byte)."""
    return ~reduce(lambda a, b: a ^ b, data, 0) & 0xFF


@dataclass(frozen=True)
class Mr60Frame:
    frame_id: int
    type: int
    data: bytes


class Mr60Parser(FrameParser[Mr60Frame]):
    """MR60BHA2 frames out of a byte stream."""

    start = bytes([SOF])

    def _try_frame(self, buf: bytes) -> tuple[Mr60Frame, int] | None:
        if len(buf) < HEADER_BYTES:
            return None
        frame_id, length, kind = struct.unpack_from(">HHH", buf, 1)
        if length > MAX_DATA_BYTES:
            raise FrameError(f"data length {length} > {MAX_DATA_BYTES}")
        if checksum(buf[: HEADER_BYTES - 1]) != buf[HEADER_BYTES - 1]:
            raise ChecksumError("header checksum")
        total = HEADER_BYTES + length + 1
        if len(buf) < total:
            return None
        data = buf[HEADER_BYTES : HEADER_BYTES + length]
        if checksum(data) != buf[total - 1]:
            raise ChecksumError("data checksum")
        return Mr60Frame(frame_id, kind, data), total


class Mr60bha2:
    """The MR60BHA2's side of the conversation: it talks, we listen."""

    kind = MR60BHA2
    query_interval_s: float | None = None

    def __init__(self) -> None:
        self.parser = Mr60Parser()

    def greeting(self) -> bytes:
        return b""

    def query(self) -> bytes:
        return b""

    def rate(self, frame: object) -> float | None:
        if not isinstance(frame, Mr60Frame) or frame.type != TYPE_BREATH_RATE:
            return None
        if len(frame.data) < FLOAT32.size:
            return None
        return float(FLOAT32.unpack_from(frame.data)[0])

    def answer(self, frame: object) -> bytes:
        return b""
