"""What a serial breath radar's protocol gives the reader: frames out of bytes, rates out of them.

Pure: bytes in, frames and counts out; no port, no thread, no time. A `FrameParser` keeps the
bytes of a frame that arrived in pieces, skips garbage until the next start of a frame (resync),
and counts what it threw away; a frame with a bad checksum is counted and skipped from its first
byte only, so a good frame hidden behind a false start is still found.

A `SensorProtocol` (mr60bha2.py, c1001.py) says what to send when the port opens, what to send
every so often (a module that answers only when asked), and which frames carry the rate.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

#: More bytes than this waiting for the end of a frame: a broken stream; the oldest are dropped.
MAX_BUFFER_BYTES = 4096

FrameT = TypeVar("FrameT")


class FrameError(Exception):
    """A candidate frame is not one (bad length, bad end bytes)."""


class ChecksumError(FrameError):
    """A frame's checksum does not match its bytes."""


@dataclass
class ParserCounts:
    """What a parser saw: whole frames, frames with a bad checksum, bytes skipped."""

    frames: int = 0
    checksum_errors: int = 0
    skipped_bytes: int = 0


class FrameParser(Generic[FrameT]):
    """Frames out of a byte stream that may split them, garble them or put noise between them.

    Subclasses give the start byte(s) and `_try_frame(buf)`: the frame and its length when
    `buf` (which starts with the start bytes) holds a whole valid one; None when more bytes are
    needed; FrameError when it cannot be a frame (ChecksumError: a checksum was wrong).
    """

    #: The byte(s) every frame starts with.
    start = b""

    def __init__(self) -> None:
        self.counts = ParserCounts()
        self._buf = bytearray()

    def feed(self, data: bytes) -> list[FrameT]:
        """The frames completed by `data` (in order)."""
        self._buf += data
        if len(self._buf) > MAX_BUFFER_BYTES:
            dropped = len(self._buf) - MAX_BUFFER_BYTES
            del self._buf[:dropped]
            self.counts.skipped_bytes += dropped
        frames: list[FrameT] = []
        while True:
            if not self._resync():
                return frames
            try:
                found = self._try_frame(bytes(self._buf))
            except ChecksumError:
                self.counts.checksum_errors += 1
                self._skip(1)
                continue
            except FrameError:
                self._skip(1)
                continue
            if found is None:
                return frames
            frame, length = found
            del self._buf[:length]
            self.counts.frames += 1
            frames.append(frame)

    def _resync(self) -> bool:
        """Drop bytes up to the next start of a frame; True if the buffer now starts one."""
        start = self.start
        at = self._buf.find(start)
        if at < 0:
            # Keep a tail that may be the first part of a start split across reads.
            keep = 0
            for n in range(len(start) - 1, 0, -1):
                if self._buf.endswith(start[:n]):
                    keep = n
                    break
            self._skip(len(self._buf) - keep)
            return False
        self._skip(at)
        return True

    def _skip(self, n: int) -> None:
        if n > 0:
            del self._buf[:n]
            self.counts.skipped_bytes += n

    def _try_frame(self, buf: bytes) -> tuple[FrameT, int] | None:
        raise NotImplementedError


class SensorProtocol(Protocol):
    """One module's conversation: what to send, which frames carry the breathing rate."""

    #: `[breath_sensor] kind` (and the `source` of its readings).
    kind: str
    #: The parser of this module's frames (its counts are the reader's).
    parser: FrameParser
    #: Seconds between two `query()` writes; None: the module reports by itself.
    query_interval_s: float | None

    def greeting(self) -> bytes:
        """Bytes to send right after the port opens (may be empty)."""
        ...

    def query(self) -> bytes:
        """Bytes that ask the module for the rate (every `query_interval_s`)."""
        ...

    def rate(self, frame: object) -> float | None:
        """The breathing rate (breaths a minute) a frame carries, or None."""
        ...

    def answer(self, frame: object) -> bytes:
        """Bytes to send in reply to a frame (e.g. switch a module to its breathing mode)."""
        ...
