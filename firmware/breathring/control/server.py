"""The control socket's server: accepts clients, reads one request each, hands it to the loop.

Threads: the server reads and parses in its own threads, then hands a
`ControlRequest` to the main loop through a queue and waits for the main loop
to call `reply()`. Device state is touched only by the main loop. A `watch`
client becomes a watcher (feed.py) and keeps its connection.
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from ..clock import Clock, SystemClock
from .feed import Watcher
from .protocol import (
    MAX_REQUEST_BYTES,
    RECV_CHUNK,
    SEND_FLAGS,
    SOCKET_MODE,
    WATCH_SHARES,
    ControlError,
    ErrorCode,
    Reply,
    Request,
    RequestError,
    encode_reply,
    error_reply,
    parse_request,
)

log = logging.getLogger("breathring.control")

DEFAULT_CLIENT_TIMEOUT_S = 2.0
DEFAULT_REPLY_TIMEOUT_S = 2.0
DEFAULT_MAX_CLIENTS = 16
#: Pending connections the kernel queues before accept().
LISTEN_BACKLOG = 64
#: A refused client's unread input is drained (up to this many chunks) before closing.
DRAIN_CHUNKS = 4
#: How long a reply may take to write, and how long to wait for a peer when probing.
SEND_TIMEOUT_S = 1.0
PROBE_TIMEOUT_S = 0.5
#: Pause after a failed accept() (e.g. out of file descriptors) before trying again.
ACCEPT_RETRY_S = 0.1
#: How long close() waits for its threads.
JOIN_TIMEOUT_S = 2.0

STOPPING = error_reply(ErrorCode.STOPPING, "the service is stopping; try again when it runs")
BUSY = error_reply(ErrorCode.BUSY, "too many clients at once; try again")
TIMEOUT = error_reply(ErrorCode.TIMEOUT, "the service did not answer in time; try again")


def too_many_watchers(client: str, share: int) -> Reply:
    """The refusal of a watcher over its companion's share."""
    return error_reply(
        ErrorCode.TOO_MANY_WATCHERS,
        f'too many "{client}" watchers (at most {share}); close one and try again',
    )


@dataclass(frozen=True)
class ControlRequest:
    """What the main loop receives: the request, and the one way to answer it.

    For "watch", `watcher` is the new watcher: the main loop adds it to the feed
    (with the first status line) and replies ok, or replies an error.
    """

    request: Request
    reply: Callable[[Reply], None]
    watcher: Watcher | None = None


class _ReplySlot:
    """Holds the first reply given; later ones are ignored."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._done = threading.Event()
        self._reply: Reply | None = None

    def give(self, reply: Reply) -> None:
        with self._lock:
            if self._reply is None:
                self._reply = reply
                self._done.set()

    def wait(self, timeout: float, on_timeout: Reply) -> Reply:
        self._done.wait(timeout)
        self.give(on_timeout)
        assert self._reply is not None
        return self._reply


class _ClientClosed(Exception):
    """The client went away or was too slow; nothing more to say to it."""


@dataclass
class _Client:
    conn: socket.socket
    slot: _ReplySlot = field(default_factory=_ReplySlot)
    #: Set once the client is a watcher: it no longer takes a request slot.
    watcher: Watcher | None = None


class ControlServer:
    """Accepts control requests on a unix socket and passes them to the main loop."""

    def __init__(
        self,
        path: Path,
        inbox: SimpleQueue[Any],
        max_request_bytes: int = MAX_REQUEST_BYTES,
        client_timeout: float = DEFAULT_CLIENT_TIMEOUT_S,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT_S,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Clock | None = None,
        watch_shares: Mapping[str, int] = WATCH_SHARES,
    ) -> None:
        self.path = Path(path)
        self._inbox = inbox
        self._max_request_bytes = max_request_bytes
        self._client_timeout = client_timeout
        self._reply_timeout = reply_timeout
        self._max_clients = max_clients
        self._watch_shares = dict(watch_shares)
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._lock = threading.Lock()
        self._clients: dict[threading.Thread, _Client] = {}
        self._listener: socket.socket | None = None
        self._wake_r: socket.socket | None = None
        self._wake_w: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._inode: int | None = None
        self._stopping = threading.Event()
        self._accept_failing = False
        self._refusing = False

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Bind the socket (replacing a stale one), make it 0660, start accepting."""
        if self._thread is not None:
            raise ControlError("control server already started")
        self._remove_stale()
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
        try:
            listener.bind(str(self.path))
            os.chmod(self.path, SOCKET_MODE)
            self._inode = os.stat(self.path).st_ino
            listener.listen(LISTEN_BACKLOG)
        except OSError as exc:
            listener.close()
            raise ControlError(f"cannot listen on control socket {self.path}: {exc}") from exc
        self._listener = listener
        self._wake_r, self._wake_w = socket.socketpair()
        self._stopping.clear()
        self._thread = threading.Thread(
            target=self._accept_loop, name="breathring-control", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        """Stop accepting, end client threads, close and unlink the socket."""
        if self._thread is None:
            return
        self._stopping.set()
        assert self._wake_w is not None
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")
        self._thread.join(JOIN_TIMEOUT_S)
        with self._lock:
            clients = list(self._clients.items())
        for _thread, client in clients:
            # Waiting handlers answer "service stopping"; reading ones see end of input.
            client.slot.give(STOPPING)
            if client.watcher is not None:
                client.watcher.close("service stopping")
            with contextlib.suppress(OSError):
                client.conn.shutdown(socket.SHUT_RD)
        for thread, _client in clients:
            thread.join(JOIN_TIMEOUT_S)
        # Unlink while our socket still pins its inode, so the check cannot be fooled by reuse.
        self._unlink_own()
        for sock in (self._listener, self._wake_r, self._wake_w):
            if sock is not None:
                sock.close()
        self._listener = self._wake_r = self._wake_w = None
        self._thread = None

    def __enter__(self) -> ControlServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _remove_stale(self) -> None:
        if check_not_running(self.path):
            log.info("removing stale control socket %s", self.path)
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()

    def _unlink_own(self) -> None:
        """Unlink the socket file only if it is still the one we bound."""
        try:
            if os.lstat(self.path).st_ino == self._inode:
                self.path.unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot remove control socket %s: %s", self.path, exc)

    # -- threads -----------------------------------------------------------

    def _accept_loop(self) -> None:
        assert self._listener is not None and self._wake_r is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._listener, selectors.EVENT_READ)
            selector.register(self._wake_r, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _events in selector.select():
                    if key.fileobj is self._listener and not self._stopping.is_set():
                        self._accept_one()

    def _accept_one(self) -> None:
        assert self._listener is not None
        try:
            conn, _addr = self._listener.accept()
        except (BlockingIOError, InterruptedError, ConnectionAbortedError):
            return
        except OSError as exc:  # e.g. EMFILE: log once, back off instead of spinning
            if not self._accept_failing:
                log.warning("control socket accept failed: %s (retrying)", exc)
            self._accept_failing = True
            self._stopping.wait(ACCEPT_RETRY_S)
            return
        self._accept_failing = False
        with self._lock:
            full = self._requests_locked() >= self._max_clients
            if not full:
                thread = threading.Thread(
                    target=self._serve, args=(conn,), name="breathring-control-client", daemon=True
                )
                self._clients[thread] = _Client(conn)
        if full:
            if not self._refusing:  # once per burst, not once per client
                log.warning("control socket: too many clients, refusing some (reply: busy)")
            self._refusing = True
            _send_quietly(conn, BUSY, timeout=0.0)
            _drain_and_close(conn)
            return
        self._refusing = False
        thread.start()

    def _requests_locked(self) -> int:
        return sum(1 for c in self._clients.values() if c.watcher is None)

    def _watchers_locked(self, client: str) -> int:
        return sum(
            1
            for c in self._clients.values()
            if c.watcher is not None and c.watcher.client == client
        )

    def _serve(self, conn: socket.socket) -> None:
        me = threading.current_thread()
        try:
            with self._lock:
                slot = self._clients[me].slot
            try:
                line = self._read_line(conn)
            except RequestError as exc:
                _send_quietly(conn, error_reply(ErrorCode.BAD_REQUEST, str(exc)))
                return
            except _ClientClosed:
                return
            if self._stopping.is_set():  # the line may have been cut short by close()
                _send_quietly(conn, STOPPING)
                return
            try:
                request = parse_request(line)
            except RequestError as exc:
                _send_quietly(conn, error_reply(ErrorCode.BAD_REQUEST, str(exc)))
                return
            if request.cmd == "watch":
                self._watch(conn, request, slot)
                return
            self._inbox.put(ControlRequest(request, slot.give))
            reply = slot.wait(self._reply_timeout, TIMEOUT)
            _send_quietly(conn, reply)
        except Exception:  # a client must never take the service down
            log.exception("control client failed")
        finally:
            _drain_and_close(conn)  # a plain close() with unread input would lose our reply
            with self._lock:
                self._clients.pop(me, None)

    def _watch(self, conn: socket.socket, request: Request, slot: _ReplySlot) -> None:
        """Become a watcher (own limit, no request slot) and write its lines until it ends."""
        client = request.client
        watcher = Watcher(conn, client=client)
        me = threading.current_thread()
        share = self._watch_shares.get(client, 0)
        with self._lock:
            full = self._watchers_locked(client) >= share
            if not full:
                self._clients[me].watcher = watcher
        if full:
            _send_quietly(conn, too_many_watchers(client, share))
            return
        self._inbox.put(ControlRequest(request, slot.give, watcher))
        reply = slot.wait(self._reply_timeout, TIMEOUT)
        if not reply.get("ok") or self._stopping.is_set():
            watcher.close("refused")
            _send_quietly(conn, reply if not reply.get("ok") else STOPPING)
            return
        watcher.run()

    def _read_line(self, conn: socket.socket) -> bytes:
        """One line, within the size limit and the client timeout."""
        deadline = self._clock.monotonic() + self._client_timeout
        buf = bytearray()
        while True:
            remaining = deadline - self._clock.monotonic()
            if remaining <= 0:
                raise RequestError(
                    f"timed out after {self._client_timeout:g} s waiting for a request line"
                )
            conn.settimeout(remaining)
            try:
                chunk = conn.recv(RECV_CHUNK)
            except TimeoutError:
                continue
            except OSError as exc:
                raise _ClientClosed from exc
            if not chunk:
                if not buf.strip():
                    raise _ClientClosed  # connected and left (e.g. a liveness probe)
                return bytes(buf)  # a last line without "\n" is accepted
            end = chunk.find(b"\n")
            if end >= 0:
                buf += chunk[:end]
            else:
                buf += chunk
            if len(buf) > self._max_request_bytes:
                raise RequestError(
                    f"request too long: more than {self._max_request_bytes} bytes "
                    "(allowed: one short JSON line)"
                )
            if end >= 0:
                return bytes(buf)


def _drain_and_close(conn: socket.socket) -> None:
    """Close without losing the reply just sent.

    A unix socket closed with unread input resets the peer (ECONNRESET), and
    the peer then loses our reply; so read what the client has already sent
    (without waiting) before closing.
    """
    with contextlib.suppress(OSError):
        conn.shutdown(socket.SHUT_WR)
        conn.setblocking(False)
        for _ in range(DRAIN_CHUNKS):
            if not conn.recv(RECV_CHUNK):
                break
    conn.close()


def _send_quietly(conn: socket.socket, reply: Reply, timeout: float = SEND_TIMEOUT_S) -> None:
    """Send a reply line; a client that has gone away is not an error."""
    try:
        conn.settimeout(timeout)
        conn.sendall(encode_reply(reply), SEND_FLAGS)
    except OSError as exc:
        log.debug("control client left before the reply: %s", exc)


def check_not_running(path: Path) -> bool:
    """Raise ControlError if a live service answers on `path` (or it is no socket).

    Returns True if a stale socket file from a dead service is in the way.
    """
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise ControlError(f"cannot check control socket {path}: {exc}") from exc
    if not stat.S_ISSOCK(mode):
        raise ControlError(
            f"{path} exists and is not a socket; remove it or choose another --socket"
        )
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    probe.settimeout(PROBE_TIMEOUT_S)
    try:
        probe.connect(str(path))
    except (ConnectionRefusedError, FileNotFoundError):
        return True  # stale: nobody listens
    except OSError as exc:
        raise ControlError(f"cannot check control socket {path}: {exc}") from exc
    else:
        raise ControlError(
            f"another breathring is already running (it answers on {path}); "
            "stop it first: sudo systemctl stop breathring"
        )
    finally:
        probe.close()
