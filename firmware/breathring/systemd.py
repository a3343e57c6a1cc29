"""A small, dependency-free sd_notify: READY, STATUS, WATCHDOG, STOPPING.

systemd passes `NOTIFY_SOCKET` (a filesystem path, or an abstract socket
written with a leading "@") and, when the unit sets `WatchdogSec=`,
`WATCHDOG_USEC` (and usually `WATCHDOG_PID`). Without `NOTIFY_SOCKET` every
method is a no-op, so the service runs the same from a terminal.

The watchdog is pinged from the working loop (not a side thread), so a stuck
loop really does get the service restarted. The loop passes its own monotonic
`now`; this module never reads time.
"""

from __future__ import annotations

import logging
import math
import os
import socket
from collections.abc import Mapping

log = logging.getLogger(__name__)

NOTIFY_SOCKET_ENV = "NOTIFY_SOCKET"
WATCHDOG_USEC_ENV = "WATCHDOG_USEC"
WATCHDOG_PID_ENV = "WATCHDOG_PID"

#: A leading "@" in NOTIFY_SOCKET names a socket in the abstract namespace.
ABSTRACT_PREFIX = "@"
#: Microseconds per second (WATCHDOG_USEC is in microseconds).
USEC_PER_S = 1_000_000
#: Ping at this fraction of the watchdog timeout, as sd_watchdog_enabled(3) advises.
WATCHDOG_PING_FRACTION = 0.5

READY = "READY=1"
STOPPING = "STOPPING=1"
WATCHDOG = "WATCHDOG=1"
STATUS_PREFIX = "STATUS="


def _address(raw: str | None) -> str | None:
    """The socket address from NOTIFY_SOCKET, or None when unset or unusable."""
    if not raw:
        return None
    if raw.startswith(ABSTRACT_PREFIX):
        return "\0" + raw[len(ABSTRACT_PREFIX) :]
    if raw.startswith("/"):
        return raw
    log.warning(
        "NOTIFY_SOCKET=%r is not supported (allowed: an absolute path or @abstract name); "
        "systemd notifications are off",
        raw,
    )
    return None


def _watchdog_interval(env: Mapping[str, str], pid: int) -> float | None:
    """Seconds between pings, or None when the watchdog is not for us."""
    raw_usec = env.get(WATCHDOG_USEC_ENV)
    if not raw_usec:
        return None
    raw_pid = env.get(WATCHDOG_PID_ENV)
    if raw_pid:
        try:
            if int(raw_pid) != pid:
                return None
        except ValueError:
            log.warning("ignoring %s=%r: not a process id", WATCHDOG_PID_ENV, raw_pid)
            return None
    try:
        usec = int(raw_usec)
    except ValueError:
        usec = 0
    if usec <= 0:
        log.warning(
            "ignoring %s=%r: allowed is a positive whole number of microseconds",
            WATCHDOG_USEC_ENV,
            raw_usec,
        )
        return None
    return usec / USEC_PER_S * WATCHDOG_PING_FRACTION


class Notifier:
    """Sends sd_notify messages; errors are logged once and never raised."""

    def __init__(self, address: str | None = None, watchdog_interval: float | None = None) -> None:
        self._address = address
        self._interval = watchdog_interval if address is not None else None
        self._sock: socket.socket | None = None
        self._error_logged = False
        self._last_status: str | None = None
        self._last_ping: float | None = None

    @classmethod
    def from_env(cls, env: Mapping[str, str] = os.environ, pid: int | None = None) -> Notifier:
        """Build from systemd's environment; `pid` defaults to our own process id."""
        address = _address(env.get(NOTIFY_SOCKET_ENV))
        own_pid = os.getpid() if pid is None else pid
        return cls(address, _watchdog_interval(env, own_pid))

    @property
    def enabled(self) -> bool:
        """True when there is a socket to notify."""
        return self._address is not None

    def ready(self) -> None:
        """Tell systemd that start-up is finished."""
        self._send(READY)

    def status(self, text: str) -> None:
        """Set the one-line status shown by `systemctl status` (sent only when it changes)."""
        line = " ".join(text.splitlines())
        if line == self._last_status:
            return
        self._last_status = line
        self._send(STATUS_PREFIX + line)

    def stopping(self) -> None:
        """Tell systemd that the service is shutting down."""
        self._send(STOPPING)

    def watchdog_interval(self) -> float | None:
        """Seconds between watchdog pings (half of WATCHDOG_USEC), or None without a watchdog."""
        return self._interval

    def watchdog(self, mono: float) -> None:
        """Ping the watchdog if at least one interval has passed since the last ping."""
        if self._interval is None:
            return
        if self._last_ping is not None and mono - self._last_ping < self._interval:
            return
        self._last_ping = mono
        self._send(WATCHDOG)

    def next_watchdog_deadline(self) -> float | None:
        """Monotonic time of the next ping; -inf before the first (due now); None without one."""
        if self._interval is None:
            return None
        if self._last_ping is None:
            return -math.inf
        return self._last_ping + self._interval

    def close(self) -> None:
        """Close the socket (a later message opens it again)."""
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> Notifier:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _send(self, message: str) -> None:
        if self._address is None:
            return
        try:
            if self._sock is None:
                self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
                # Never block the loop (or the stop path) on a reader that has fallen behind:
                # a full queue drops the message (EAGAIN), logged like any other failure.
                self._sock.setblocking(False)
            self._sock.sendto(message.encode("utf-8"), self._address)
        except OSError as exc:
            if not self._error_logged:
                self._error_logged = True
                shown = self._address.replace("\0", ABSTRACT_PREFIX, 1)
                log.warning(
                    "cannot notify systemd at %s: %s (further errors not logged)", shown, exc
                )
