"""Measured breathing rates off the device, for `simulate` and `demo`. Pure.

Either a constant rate, measured anew at every moment (`--breath-rate 14`), or timed
readings from a file (`--breath-rate-file FILE`): one reading per line, `SECONDS RATE`
(seconds since the start, breaths a minute), in time order; blank lines and lines
starting with `#` are skipped. A reading counts from its time on and goes stale like a
sensor's (breath_sensor.stale_seconds after it, unless a newer one comes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .breath_rate import PLAUSIBLE_MAX_PER_MIN, PLAUSIBLE_MIN_PER_MIN, SIMULATED, BreathReading
from .breath_rate import plausible as is_plausible

#: A rate file larger than this is refused (a reading a second for a day is ~1 MB).
MAX_RATE_FILE_BYTES = 4 * 1024 * 1024
ALLOWED_RATES = f"{PLAUSIBLE_MIN_PER_MIN:g}-{PLAUSIBLE_MAX_PER_MIN:g} breaths a minute"
LINE_FORMAT = 'lines "SECONDS RATE", e.g. "30 12.5", in time order'


class RateFileError(ValueError):
    """A rate file that cannot be used; the message names the line and what is allowed."""


def check_rate(per_min: float, what: str) -> float:
    """`per_min` if a person can breathe at it; RateFileError naming `what` otherwise."""
    if not is_plausible(per_min):
        raise RateFileError(f"{what}: {per_min:g} is not a breathing rate; allowed {ALLOWED_RATES}")
    return per_min


def parse_rate_file(text: str, name: str) -> tuple[tuple[float, float], ...]:
    """(seconds, rate) of every reading in a rate file's `text`; RateFileError if bad."""
    readings: list[tuple[float, float]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        where = f"{name} line {number}"
        bad = RateFileError(f"{where}: {line.strip()!r} is not a reading; allowed {LINE_FORMAT}")
        if len(words) != 2:
            raise bad
        try:
            seconds, per_min = float(words[0]), float(words[1])
        except ValueError:
            raise bad from None
        if not 0.0 <= seconds < float("inf"):
            raise RateFileError(f"{where}: time {seconds:g} s; allowed 0 or more seconds")
        if readings and seconds < readings[-1][0]:
            raise RateFileError(
                f"{where}: time {seconds:g} s comes before {readings[-1][0]:g} s; "
                f"allowed {LINE_FORMAT}"
            )
        readings.append((seconds, check_rate(per_min, where)))
    return tuple(readings)


def read_rate_file(path: str) -> tuple[tuple[float, float], ...]:
    """The readings of the rate file at `path`; RateFileError naming what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_RATE_FILE_BYTES + 1)
    except OSError as exc:
        raise RateFileError(
            f"--breath-rate-file: cannot read {path}: {exc.strerror or exc}"
        ) from None
    if len(raw) > MAX_RATE_FILE_BYTES:
        raise RateFileError(
            f"--breath-rate-file: {path} is larger than {MAX_RATE_FILE_BYTES} bytes"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise RateFileError(f"--breath-rate-file: {path} is not UTF-8 text") from None
    return parse_rate_file(text, path)


@dataclass
class RateFeed:
    """The readings due by a moment, each once: a constant rate, or timed readings."""

    constant: float | None = None
    readings: tuple[tuple[float, float], ...] = ()
    _next: int = 0

    def due(self, mono: float, origin: float = 0.0) -> Iterator[BreathReading]:
        """The readings measured by monotonic `mono` not handed out yet; the file's
        seconds count from monotonic `origin`."""
        if self.constant is not None:
            yield BreathReading(self.constant, mono, SIMULATED)
            return
        while self._next < len(self.readings) and origin + self.readings[self._next][0] <= mono:
            seconds, per_min = self.readings[self._next]
            self._next += 1
            yield BreathReading(per_min, origin + seconds, SIMULATED)

    def header(self) -> dict[str, object]:
        """What `simulate`'s header says about the rates (nothing without any)."""
        if self.constant is not None:
            return {"breath_rate": self.constant}
        if self.readings:
            return {"breath_rate_readings": len(self.readings)}
        return {}
