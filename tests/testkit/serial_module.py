"""A breath radar module on a pseudo-terminal, played by the test: its bytes are the test's own.

`PtyModule` opens a pty (slave raw, kept open here, as a UART would be), collects what the
reader sends, and answers a query with a reply the test wrote down: `answers = {query: reply}`,
both literal bytes from the vendor's document. `send(...)` writes unasked bytes (a module that
reports by itself), `silent = True` stops every answer (a module that says nothing),
`unplug()` hangs the pty up (a pulled cable) and `plug_in()` brings a new one behind the same
`link` (a stable path, like /dev/serial0).
"""

from __future__ import annotations

import os
import queue
import select
import threading
import tty
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import SimpleNamespace

from breathring.clock import SystemClock
from breathring.hw.breath_sensor import SensorReader, make_reader

READ_BYTES = 4096


class PtyModule:
    """A pretend module; `path` is what the reader opens."""

    def __init__(self, link: Path | None = None, answers: dict[bytes, bytes] | None = None) -> None:
        self.link = link
        self.answers = dict(answers or {})
        self.silent = False
        self._lock = threading.Lock()
        self._received = bytearray()
        self._answered: dict[bytes, int] = {}
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None
        self.master = self.slave = -1
        self.plug_in()

    @property
    def path(self) -> str:
        return str(self.link) if self.link is not None else os.ttyname(self.slave)

    def plug_in(self) -> None:
        """A (new) pseudo-terminal; the link points at it; answering starts."""
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        if self.link is not None:
            tmp = self.link.with_name(self.link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(os.ttyname(self.slave))
            tmp.replace(self.link)
        self._thread = threading.Thread(target=self._serve, args=(self.master,), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        """Hang up: the reader's next read fails and the device node goes away."""
        self._stop_thread()
        os.close(self.master)
        os.close(self.slave)
        self.master = self.slave = -1

    def send(self, data: bytes) -> None:
        os.write(self.master, data)

    def received(self) -> bytes:
        with self._lock:
            return bytes(self._received)

    def count(self, query: bytes) -> int:
        """How often `query` was sent to the module."""
        return self.received().count(query)

    def close(self) -> None:
        if self.master >= 0:
            self.unplug()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _stop_thread(self) -> None:
        if self._thread is not None:
            os.write(self._stop_w, b"x")
            self._thread.join(5.0)
            os.read(self._stop_r, 16)
            self._thread = None

    def _serve(self, master: int) -> None:
        while True:
            ready, _, _ = select.select([master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(master, READ_BYTES)
            except OSError:
                return
            with self._lock:
                self._received += data
                received = bytes(self._received)
            for query, reply in list(self.answers.items()):
                due = received.count(query) - self._answered.get(query, 0)
                if due > 0:
                    self._answered[query] = self._answered.get(query, 0) + due
                    if not self.silent:
                        os.write(master, reply * due)


#: Test readers retry quickly (the product's: every 3 s); silence is given up on after 10 s as
#: in the product (a test of silence gives a shorter time).
TEST_RETRY_S = 0.1
TEST_SILENCE_S = 10.0
#: A C1001 is asked every 3 s; a test asks more often.
TEST_QUERY_S = 0.1


@contextmanager
def reader_of(
    kind: str,
    device: str,
    retry_s: float = TEST_RETRY_S,
    silence_s: float = TEST_SILENCE_S,
    baud: int = 0,
) -> Iterator[tuple[SensorReader, queue.SimpleQueue]]:
    """The product's reader of a `kind` radar on `device`, started; readings on the queue."""
    readings: queue.SimpleQueue = queue.SimpleQueue()
    settings = SimpleNamespace(kind=kind, device=device, baud=baud)
    reader = make_reader(
        settings,
        readings.put,
        SystemClock(),
        retry_s=retry_s,
        silence_s=silence_s,
        query_s=TEST_QUERY_S,
    )
    assert reader is not None
    reader.start()
    try:
        yield reader, readings
    finally:
        reader.close()
