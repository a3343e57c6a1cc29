"""DFRobot's C1001 (SEN0623) and Seeed's MR60BHA1: 60 GHz radars with `53 59 ... 54 43` frames.

Their frames (DFRobot's C1001 protocol and its MIT library DFRobot_HumanDetection; Seeed's
MR60BHA1 manual), 115200 8N1:

    0x53 0x59 | control | command | LEN (2, big-endian) | DATA (LEN) | SUM | 0x54 0x43

SUM is the low byte of the sum of every byte before it. Control 0x81 is breathing: command
0x82 answers the query `53 59 81 82 00 01 0F BF 54 43` with the rate in one byte (breaths a
minute); command 0x02 is the same value reported by the module itself (MR60BHA1, and the
C1001 in real-time reporting). The C1001 measures breathing only in its sleep mode: when the
work-mode query (control 0x02, command 0xA8) answers another mode, it is switched to sleep
mode (control 0x02, command 0x08, data 0x02) once; the module restarts in it.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...breath_rate import C1001
from .protocol import ChecksumError, FrameError, FrameParser

HEAD = b"\x53\x59"
TAIL = b"\x54\x43"
#: HEAD, control, command, LEN (2) before the data; SUM and TAIL after it.
BEFORE_DATA = 6
AFTER_DATA = 3
MAX_DATA_BYTES = 256
#: The data byte of a query ("tell me").
QUERY_DATA = b"\x0f"

CONTROL_SYSTEM = 0x02
CMD_SET_MODE = 0x08
CMD_QUERY_MODE = 0xA8
MODE_SLEEP = 0x02
CONTROL_BREATH = 0x81
CMD_BREATH_VALUE = 0x02
CMD_QUERY_BREATH_VALUE = 0x82
#: Seconds between two rate queries.
QUERY_INTERVAL_S = 3.0


def frame_sum(data: bytes) -> int:
    """The low byte of the sum of `data`."""
    return sum(data) & 0xFF


def encode(control: int, command: int, data: bytes) -> bytes:
    """One frame to send."""
    body = HEAD + bytes([control, command]) + len(data).to_bytes(2, "big") + data
    return body + bytes([frame_sum(body)]) + TAIL


@dataclass(frozen=True)
class C1001Frame:
    control: int
    command: int
    data: bytes


class C1001Parser(FrameParser[C1001Frame]):
    """`53 59 ... 54 43` frames out of a byte stream."""

    start = HEAD

    def _try_frame(self, buf: bytes) -> tuple[C1001Frame, int] | None:
        if len(buf) < BEFORE_DATA:
            return None
        length = int.from_bytes(buf[4:6], "big")
        if length > MAX_DATA_BYTES:
            raise FrameError(f"data length {length} > {MAX_DATA_BYTES}")
        total = BEFORE_DATA + length + AFTER_DATA
        if len(buf) < total:
            return None
        if buf[total - 2 : total] != TAIL:
            raise FrameError("no 54 43 at the end")
        if frame_sum(buf[: total - 3]) != buf[total - 3]:
            raise ChecksumError("sum")
        return C1001Frame(buf[2], buf[3], buf[BEFORE_DATA : BEFORE_DATA + length]), total


class C1001Module:
    """The C1001's side of the conversation: asked for the rate every few seconds."""

    kind = C1001
    query_interval_s: float | None = QUERY_INTERVAL_S

    def __init__(self) -> None:
        self.parser = C1001Parser()
        self.mode_switched = False

    def greeting(self) -> bytes:
        """Ask the work mode (a C1001 not in sleep mode is switched to it)."""
        return encode(CONTROL_SYSTEM, CMD_QUERY_MODE, QUERY_DATA)

    def query(self) -> bytes:
        return encode(CONTROL_BREATH, CMD_QUERY_BREATH_VALUE, QUERY_DATA)

    def rate(self, frame: object) -> float | None:
        if not isinstance(frame, C1001Frame) or frame.control != CONTROL_BREATH:
            return None
        if frame.command not in (CMD_BREATH_VALUE, CMD_QUERY_BREATH_VALUE) or not frame.data:
            return None
        return float(frame.data[0])

    def answer(self, frame: object) -> bytes:
        if (
            isinstance(frame, C1001Frame)
            and frame.control == CONTROL_SYSTEM
            and frame.command == CMD_QUERY_MODE
            and frame.data[:1] != bytes([MODE_SLEEP])
            and not self.mode_switched
        ):
            self.mode_switched = True
            return encode(CONTROL_SYSTEM, CMD_SET_MODE, bytes([MODE_SLEEP]))
        return b""
