"""RateLimitedLog: one log line per kind of trouble per interval, counting what it held back.

A fault that repeats every frame (a ring that cannot be written, a broker that
refuses us) must not flood the journal, yet the first one must show at once and
the count of the rest must not be lost. Each kind of trouble has a key; the first
message for a key is logged, the next ones within `interval` seconds are only
counted, and the next message logged for that key ends with
" (N more since the last report)".

Two ways to call it, one state behind both:

- `report(key, mono, message, *args, expected=False)` (also `log(key, mono, ...)`
  by calling the object): at ERROR level, from an `except` block; the exception
  being handled is logged with its traceback, or, when `expected` (a known fault
  such as a ring write), as ": <error>" after the message without one. `mono` is
  the caller's monotonic time (the service's one `now` per frame).
- `warning(key, message, *args)`: at WARNING level, the time read from `clock`.

`reset(key)` forgets a key (the trouble is over: the next one shows at once).
Safe to share between threads. It never reads time itself: `warning` asks the
clock it was given.
"""

from __future__ import annotations

import logging
import sys
import threading

from .clock import Clock, SystemClock

#: The default interval between two lines of one key (seconds).
DEFAULT_INTERVAL_S = 60.0
HELD_BACK_SUFFIX = " ({held} more since the last report)"


class RateLimitedLog:
    """At most one log line per key per `interval` seconds; counts what it held back."""

    def __init__(
        self,
        logger: logging.Logger,
        interval: float = DEFAULT_INTERVAL_S,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.logger = logger
        self.interval = interval
        self._clock = clock
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}
        self._lock = threading.Lock()

    def _admit(self, key: str, mono: float) -> str | None:
        """The suffix to log with, or None when this message is held back (and counted)."""
        with self._lock:
            last = self._last.get(key)
            if last is not None and mono - last < self.interval:
                self._held[key] = self._held.get(key, 0) + 1
                return None
            held = self._held.pop(key, 0)
            self._last[key] = mono
        return HELD_BACK_SUFFIX.format(held=held) if held else ""

    def report(
        self, key: str, mono: float, message: str, *args: object, expected: bool = False
    ) -> None:
        """Log the exception being handled at ERROR; `expected` faults without a traceback."""
        suffix = self._admit(key, mono)
        if suffix is None:
            return
        if expected:
            error = sys.exc_info()[1]
            self.logger.error(message + suffix + ": %s", *args, error)
        else:
            self.logger.error(message + suffix, *args, exc_info=True)

    __call__ = report

    def warning(self, key: str, message: str, *args: object) -> None:
        """Log `message % args` at WARNING, the time read from the clock."""
        if self._clock is None:
            self._clock = SystemClock()
        suffix = self._admit(key, self._clock.monotonic())
        if suffix is not None:
            self.logger.warning(message + suffix, *args)

    def reset(self, key: str) -> None:
        """The trouble is over: the next message for `key` is logged at once."""
        with self._lock:
            self._last.pop(key, None)
            self._held.pop(key, None)
