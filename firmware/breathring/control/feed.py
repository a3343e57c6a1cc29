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
import selectors
import socket
import threading
from collections import deque
from collections.abc import Mapping
from typing import Any

from .protocol import RECV_CHUNK, SEND_FLAGS, WATCH_CLIENT_DEFAULT, WATCH_SHARES, encode_line

log = logging.getLogger("breathring.watch")

#: Lines a watcher may have waiting before it counts as not reading.
MAX_BUFFERED_LINES = 256
#: How long one line may take to send before the watcher is dropped.
WATCH_SEND_TIMEOUT_S = 2.0


class Watcher:
    """One watching client: a bounded buffer of lines and the socket they go to.

    Its writer sleeps until a line is offered or the peer hangs up: no periodic wake-ups,
    and a closed page frees its place at once.
    """

    def __init__(
        self,
        conn: socket.socket,
        max_lines: int = MAX_BUFFERED_LINES,
        send_timeout: float = WATCH_SEND_TIMEOUT_S,
        client: str = WATCH_CLIENT_DEFAULT,
    ) -> None:
        self.conn = conn
        self.max_lines = max_lines
        self.send_timeout = send_timeout
        #: Which companion watches (protocol.WATCH_SHARES): each has its own share of places.
        self.client = client
        self._lines: deque[bytes] = deque()
        self._lock = threading.Lock()
        #: The writer's wake-up pair, while it runs.
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._closed = False
        #: Why the watcher was dropped (None while it is fine).
        self.dropped: str | None = None

    @property
    def closed(self) -> bool:
        return self._closed

    def offer(self, line: bytes) -> bool:
        """Queue a line without blocking; False (and the watcher is dropped) if it is full."""
        with self._lock:
            if self._closed:
                return False
            if len(self._lines) >= self.max_lines:
                self._drop_locked("does not read (buffer full)")
                return False
            self._lines.append(line)
        self._wake()
        return True

    def close(self, reason: str = "closed") -> None:
        with self._lock:
            self._drop_locked(reason)

    def _wake(self) -> None:
        wake = self._wake_w
        if wake is not None:
            with contextlib.suppress(OSError):  # full: the writer is awake already; closed: gone
                wake.send(b"x")

    def _drop_locked(self, reason: str) -> None:
        if not self._closed:
            self._closed = True
            self.dropped = reason
            self._lines.clear()
            self._wake()
            # Wake a writer stuck in send(): shutting down fails it at once.
            with contextlib.suppress(OSError):
                self.conn.shutdown(socket.SHUT_RDWR)

    def run(self) -> None:
        """The writer: send lines until the watcher is closed or dropped. Never raises."""
        wake_r, wake_w = socket.socketpair()
        wake_w.setblocking(False)
        with self._lock:
            self._wake_r, self._wake_w = wake_r, wake_w
        try:
            with selectors.DefaultSelector() as selector:
                selector.register(self.conn, selectors.EVENT_READ)
                selector.register(wake_r, selectors.EVENT_READ)
                self._write_until_closed(selector, wake_r)
        except Exception:  # a watcher must never take the service down
            log.exception("watch writer failed")
            self.close("writer failed")
        finally:
            with self._lock:
                self._wake_r = self._wake_w = None
            wake_r.close()
            wake_w.close()

    def _write_until_closed(self, selector: selectors.BaseSelector, wake: socket.socket) -> None:
        while True:
            with self._lock:
                if self._closed:
                    return
                line = self._lines.popleft() if self._lines else None
            if line is not None:
                try:
                    self.conn.settimeout(self.send_timeout)
                    self.conn.sendall(line, SEND_FLAGS)
                except OSError as exc:  # gone, or too slow to take a line
                    self.close(f"send failed: {exc}")
                    return
                continue
            for key, _events in selector.select():
                if key.fileobj is wake:
                    with contextlib.suppress(OSError):
                        wake.recv(RECV_CHUNK, socket.MSG_DONTWAIT)
                elif self._hung_up():
                    self.close("hung up")
                    return

    def _hung_up(self) -> bool:
        """True once the peer has closed; anything it wrote is read and ignored."""
        try:
            data = self.conn.recv(RECV_CHUNK, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            return False
        except OSError:
            return True
        return not data


class StatusFeed:
    """All watchers; `publish` from any thread, cheaply, without blocking."""

    def __init__(self, shares: Mapping[str, int] = WATCH_SHARES) -> None:
        #: Places per companion (protocol.WATCH_SHARES): pages cannot lock the bridge out.
        self.shares = dict(shares)
        self._lock = threading.Lock()
        self._watchers: list[Watcher] = []

    def __len__(self) -> int:
        with self._lock:
            self._watchers = [w for w in self._watchers if not w.closed]
            return len(self._watchers)

    def share(self, client: str) -> int:
        """How many watchers of this companion may watch at once."""
        return self.shares.get(client, 0)

    def add(self, watcher: Watcher, first: dict[str, Any]) -> bool:
        """Register `watcher` with `first` as its first line; False when its share is taken."""
        with self._lock:
            self._watchers = [w for w in self._watchers if not w.closed]
            same = sum(1 for w in self._watchers if w.client == watcher.client)
            if same >= self.share(watcher.client):
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
