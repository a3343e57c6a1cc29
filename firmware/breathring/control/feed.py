"""The `watch` stream: JSON lines fanned out to connected watchers, never blocking the loop.

The service loop calls `publish()`, which only encodes the message once and
appends it to each watcher's bounded buffer. Each watcher has its own writer
(the control-socket thread that accepted it runs `Watcher.run()`), which sends
the buffered lines with a send timeout. A watcher whose buffer overflows
(it does not read), whose send times out, or who hangs up is dropped.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from collections import deque
from typing import Any

from .protocol import RECV_CHUNK, SEND_FLAGS, encode_line

log = logging.getLogger("breathring.watch")

#: Watchers at once; they do not take the control socket's request slots.
MAX_WATCHERS = 8
#: Lines a watcher may have waiting before it counts as not reading.
MAX_BUFFERED_LINES = 256
#: How long one line may take to send before the watcher is dropped.
WATCH_SEND_TIMEOUT_S = 2.0
#: An idle writer looks this often whether its watcher hung up.
HANGUP_CHECK_S = 1.0
_PEEK_FLAGS = socket.MSG_PEEK | getattr(socket, "MSG_DONTWAIT", 0)


class Watcher:
    """One watching client: a bounded buffer of lines and the socket they go to."""

    def __init__(
        self,
        conn: socket.socket,
        max_lines: int = MAX_BUFFERED_LINES,
        send_timeout: float = WATCH_SEND_TIMEOUT_S,
    ) -> None:
        self.conn = conn
        self.max_lines = max_lines
        self.send_timeout = send_timeout
        self._lines: deque[bytes] = deque()
        self._cond = threading.Condition()
        self._closed = False
        #: Why the watcher was dropped (None while it is fine).
        self.dropped: str | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, line: bytes) -> bool:
        """Queue a line without blocking; False (and the watcher is dropped) if it is full."""
        with self._cond:
            if self._closed:
                return False
            if len(self._lines) >= self.max_lines:
                self._drop_locked("does not read (buffer full)")
                return False
            self._lines.append(line)
            self._cond.notify()
            return True

    def close(self, reason: str = "closed") -> None:
        with self._cond:
            self._drop_locked(reason)

    def _drop_locked(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self.dropped = reason
            self._lines.clear()
            self._cond.notify_all()
            # Wake a writer stuck in send(): shutting down fails it at once.
            with contextlib.suppress(OSError):
                self.conn.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        """The writer: send lines until the watcher is closed or dropped. Never raises."""
        try:
            while True:
                with self._cond:
                    if not self._lines and not self._closed:
                        self._cond.wait(HANGUP_CHECK_S)
                    if self._closed:
                        return
                    line = self._lines.popleft() if self._lines else None
                if line is None:
                    if self._hung_up():
                        self.close("hung up")
                        return
                    continue
                try:
                    self.conn.settimeout(self.send_timeout)
                    self.conn.sendall(line, SEND_FLAGS)
                except OSError as exc:  # gone, or too slow to take a line
                    self.close(f"send failed: {exc}")
                    return
        except Exception:  # a watcher must never take the service down
            log.exception("watch writer failed")
            self.close("writer failed")

    def _hung_up(self) -> bool:
        """True once the peer has closed; anything it wrote is read and ignored."""
        try:
            self.conn.setblocking(False)  # a timeout would make recv wait (and raise) instead
            data = self.conn.recv(RECV_CHUNK, _PEEK_FLAGS)
        except (BlockingIOError, InterruptedError, TimeoutError):
            return False
        except OSError:
            return True
        if not data:
            return True
        with contextlib.suppress(OSError):
            self.conn.recv(RECV_CHUNK, getattr(socket, "MSG_DONTWAIT", 0))
        return False


class StatusFeed:
    """All watchers; `publish` from any thread, cheaply, without blocking."""

    def __init__(self, max_watchers: int = MAX_WATCHERS) -> None:
        self.max_watchers = max_watchers
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []

    def __len__(self) -> int:
        with self._lock:
            self._watchers = [w for w in self._watchers if not w.closed]
            return len(self._watchers)

    @property
    def full(self) -> bool:
        return len(self) >= self.max_watchers

    def add(self, watcher: Watcher, first: dict[str, Any]) -> bool:
        """Register `watcher` with `first` as its first line; False when there is no room."""
        with self._lock:
            self._watchers = [w for w in self._watchers if not w.closed]
            if len(self._watchers) >= self.max_watchers:
                return False
            if not watcher.offer(encode_line(first)):
                return False
            self._watchers.append(watcher)
            return True

    def publish(self, message: dict[str, Any]) -> None:
        """Send `message` to every watcher (queued; a watcher that does not keep up is dropped)."""
        with self._lock:
            if not self._watchers:
                return
            line = encode_line(message)
            kept = []
            for watcher in self._watchers:
                if watcher.offer(line):
                    kept.append(watcher)
                elif watcher.dropped:
                    log.info("watcher dropped: %s", watcher.dropped)
            self._watchers = kept

    def close(self) -> None:
        with self._lock:
            watchers, self._watchers = self._watchers, []
        for watcher in watchers:
            watcher.close("service stopping")
