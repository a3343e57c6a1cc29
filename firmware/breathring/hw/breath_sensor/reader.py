"""The thread that reads a breath radar's serial port and hands each plausible rate to the service.

It waits with select() on the port and on a wake pipe, so `close()` returns at once. Whatever goes
wrong (no such device, no permission, end of file or a read error when the cable is pulled, a
module that says nothing for `silence_s`) is logged once, the port is closed and opened again
every `retry_s` until it works; the service never waits for it. A rate outside 2-60 breaths a
minute is dropped, with one log line until a plausible one comes. Counts and the last trouble are
kept for `breathring check` (`ReaderStatus`).
"""

from __future__ import annotations

import contextlib
import errno
import logging
import os
import select
import threading
from collections.abc import Callable
from dataclasses import dataclass, replace

from ...breath_rate import PLAUSIBLE_MAX_PER_MIN, PLAUSIBLE_MIN_PER_MIN, BreathReading, plausible
from ...clock import Clock
from .port import open_port
from .protocol import SensorProtocol

log = logging.getLogger("breathring.breath_sensor")

#: Seconds between two attempts to open the port after a failure.
RETRY_S = 3.0
#: Seconds without a byte after which the port is closed and opened again.
SILENCE_S = 10.0
READ_BYTES = 4096
#: How long close() waits for the thread.
JOIN_S = 2.0


@dataclass(frozen=True)
class ReaderStatus:
    """What the reader has seen so far (a snapshot)."""

    device: str
    #: The port is open now.
    open: bool = False
    #: Why it is not (or was not) reading; None while all is well.
    trouble: str | None = None
    #: errno of the last failed open (ENOENT, EACCES, ...), or None.
    open_errno: int | None = None
    frames: int = 0
    checksum_errors: int = 0
    bytes_read: int = 0
    #: Plausible rates delivered, and rates dropped as implausible.
    readings: int = 0
    dropped: int = 0
    last: BreathReading | None = None


class SensorReader:
    """Reads `device` at `baud` with a fresh `make_protocol()` for each opening."""

    def __init__(
        self,
        make_protocol: Callable[[], SensorProtocol],
        device: str,
        baud: int,
        deliver: Callable[[BreathReading], object],
        clock: Clock,
        *,
        retry_s: float = RETRY_S,
        silence_s: float = SILENCE_S,
        opener: Callable[[str, int], int] = open_port,
        query_s: float | None = None,
    ) -> None:
        """`query_s`: seconds between queries instead of the protocol's (tests, check)."""
        self.make_protocol = make_protocol
        self.device = device
        self.baud = baud
        self.deliver = deliver
        self.clock = clock
        self.retry_s = retry_s
        self.silence_s = silence_s
        self.opener = opener
        self.query_s = query_s
        self._lock = threading.Lock()
        self._status = ReaderStatus(device)
        self._closed = threading.Event()
        self._wake_r, self._wake_w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._run, name="breath-sensor", daemon=True)
        self._logged_trouble: str | None = None
        self._logged_implausible = False

    # ------------------------------------------------------------ outside

    def start(self) -> SensorReader:
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread and close the port; returns at once (never raises)."""
        if self._closed.is_set():
            return
        self._closed.set()
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join(JOIN_S)
        if self._thread.is_alive():
            return  # still inside a system call: it ends at its next look at the wake pipe
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)

    def status(self) -> ReaderStatus:
        with self._lock:
            return self._status

    # ------------------------------------------------------------ the thread

    def _set(self, **changes: object) -> None:
        with self._lock:
            self._status = replace(self._status, **changes)  # type: ignore[arg-type]

    def _run(self) -> None:
        while not self._closed.is_set():
            try:
                fd = self.opener(self.device, self.baud)
            except (OSError, ValueError) as exc:
                code = exc.errno if isinstance(exc, OSError) else None
                self._set(open=False, open_errno=code)
                self._trouble(f"cannot open {self.device}: {_why(exc)}")
                self._pause(self.retry_s)
                continue
            self._set(open=True, open_errno=None)
            try:
                trouble = self._read(fd)
            except Exception as exc:  # a bug must not end the thread silently
                log.exception("breath sensor %s: reading failed", self.device)
                trouble = f"reading failed: {exc}"
            finally:
                self._set(open=False)
                with contextlib.suppress(OSError):
                    os.close(fd)
            if trouble is None:  # closing
                return
            self._trouble(trouble)
            self._pause(self.retry_s)

    def _pause(self, seconds: float) -> None:
        """Wait `seconds`, or less if close() is called."""
        select.select([self._wake_r], [], [], seconds)

    def _trouble(self, text: str) -> None:
        self._set(trouble=text)
        if text != self._logged_trouble and not self._closed.is_set():
            log.warning(
                "breath sensor: %s; trying again every %g s (logged once)", text, self.retry_s
            )
            self._logged_trouble = text

    def _read(self, fd: int) -> str | None:
        """Read until closed (None) or trouble (why)."""
        proto = self.make_protocol()
        parser = proto.parser
        if not self._write(fd, proto.greeting()):
            return f"cannot write to {self.device}"
        now = self.clock.monotonic()
        interval = proto.query_interval_s
        if interval is not None and self.query_s is not None:
            interval = self.query_s
        next_query = now
        last_data = now
        while True:
            now = self.clock.monotonic()
            if interval is not None and now >= next_query:
                if not self._write(fd, proto.query()):
                    return f"cannot write to {self.device}"
                next_query = now + interval
            if now - last_data >= self.silence_s:
                return f"nothing from {self.device} for {self.silence_s:g} s"
            deadline = last_data + self.silence_s
            if interval is not None:
                deadline = min(deadline, next_query)
            ready, _, _ = select.select([fd, self._wake_r], [], [], max(deadline - now, 0.0))
            if self._wake_r in ready or self._closed.is_set():
                return None
            if fd not in ready:
                continue
            try:
                chunk = os.read(fd, READ_BYTES)
            except (BlockingIOError, InterruptedError):
                continue
            except OSError as exc:
                return f"{self.device} failed: {_why(exc)} (unplugged?)"
            if not chunk:
                return f"{self.device} closed (unplugged?)"
            last_data = self.clock.monotonic()
            for frame in parser.feed(chunk):
                reply = proto.answer(frame)
                if reply and not self._write(fd, reply):
                    return f"cannot write to {self.device}"
                rate = proto.rate(frame)
                if rate is not None:
                    self._rate(rate, proto.kind)
            with self._lock:
                counts = parser.counts
                self._status = replace(
                    self._status,
                    frames=self._status.frames + counts.frames,
                    checksum_errors=self._status.checksum_errors + counts.checksum_errors,
                    bytes_read=self._status.bytes_read + len(chunk),
                )
            counts.frames = counts.checksum_errors = 0

    def _rate(self, per_min: float, kind: str) -> None:
        if not plausible(per_min):
            with self._lock:
                self._status = replace(self._status, dropped=self._status.dropped + 1)
            if not self._logged_implausible:
                log.warning(
                    "breath sensor: dropped a rate of %g breaths a minute (allowed %g-%g); "
                    "further ones are dropped without a line until a plausible one comes",
                    per_min,
                    PLAUSIBLE_MIN_PER_MIN,
                    PLAUSIBLE_MAX_PER_MIN,
                )
                self._logged_implausible = True
            return
        self._logged_implausible = False
        reading = BreathReading(per_min, self.clock.monotonic(), kind)
        if self._logged_trouble is not None:
            log.info("breath sensor: readings from %s again", self.device)
            self._logged_trouble = None
        with self._lock:
            self._status = replace(
                self._status, trouble=None, readings=self._status.readings + 1, last=reading
            )
        self.deliver(reading)

    def _write(self, fd: int, data: bytes) -> bool:
        """Send `data` (a short frame); False when the port failed."""
        if not data:
            return True
        try:
            os.write(fd, data)
        except (BlockingIOError, InterruptedError):
            pass  # the module is not reading: the next query tries again
        except OSError:
            return False
        return True


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.errno is not None:
        text = os.strerror(exc.errno)
        if exc.errno == errno.EACCES:
            text += " (the user needs the dialout group; the unit's DeviceAllow)"
        return text
    return str(exc)
