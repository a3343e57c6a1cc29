"""Signals for the service loop: SIGTERM/SIGINT stop, SIGHUP reloads, stray ones are ignored.

Python runs a handler only in the main thread, between bytecodes; the loop sleeps on its
queue, so every signal is also turned into a queue item that wakes it at once.
"""

from __future__ import annotations

import contextlib
import os
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .loop import Service

#: Stray signals whose default action would end the process without turning the LEDs off.
IGNORED_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)
#: Signals the loop handles. Threads are started with them blocked: a signal taken by another
#: thread would only be noticed at the loop's next wake-up (up to a minute when idle).
LOOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})
#: Bytes read from the wake-up pipe at a time.
WAKE_READ_BYTES = 64


@dataclass(frozen=True)
class Stop:
    """A signal for the loop: SIGTERM/SIGINT stop, SIGHUP reloads."""

    signum: int


@dataclass(frozen=True)
class Wake:
    """A signal arrived: wakes the loop so that Python runs the signal's handler at once."""


@contextlib.contextmanager
def loop_signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a mask without LOOP_SIGNALS; the caller's mask is restored."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, LOOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def install_signal_handlers(service: Service) -> None:
    """SIGTERM/SIGINT stop (with a quick fade), SIGHUP reloads, SIGUSR1/2 are ignored."""

    def handler(signum: int, _frame: object) -> None:
        service.request_stop(signum)

    for signum in LOOP_SIGNALS:
        signal.signal(signum, handler)
    # Their default action kills the process at once, leaving the ring lit: ignore them.
    for signum in IGNORED_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)
    _wake_on_signals(service)


def _wake_on_signals(service: Service) -> None:
    """Wake the loop when a signal arrives, whichever thread takes it and whenever.

    A signal that lands just before the loop goes to sleep on its queue would wait for
    the next deadline (up to a minute). The C-level handler writes a byte to the
    wake-up pipe; a small thread turns it into a queue item.
    """
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def relay() -> None:
        while True:
            try:
                if not os.read(read_fd, WAKE_READ_BYTES):
                    return
            except OSError:
                return
            service.inbox.put(Wake())

    with loop_signals_blocked():
        threading.Thread(target=relay, name="breathring-signals", daemon=True).start()
