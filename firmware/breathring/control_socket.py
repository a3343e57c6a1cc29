"""The local control socket: `breathring start`, `stop`, `status` talk to the service here.

Protocol: a client connects to a unix stream socket, writes one JSON object on
one UTF-8 line ending in "\\n", reads one JSON line back, and the server
closes. Requests:

    {"cmd": "press"}                      the button's short press
    {"cmd": "hold"}                       the button's hold (reminders on/off)
    {"cmd": "start", "pattern": "box"}    start a session (pattern optional)
    {"cmd": "stop"}                       fade out a running session
    {"cmd": "status"}                     what the device is doing
    {"cmd": "reminders", "value": "on"}   hourly reminders "on" or "off"
    {"cmd": "set", "key": K, "value": V}  change a setting at run time (kept in settings.toml)
    {"cmd": "unset", "key": K}            back to the config file's value
    {"cmd": "settings"}                   every key: value and source
    {"cmd": "stats", "days": 14}          the history (1-366 days)
    {"cmd": "history-clear"}              erase the history
    {"cmd": "watch"}                      stay connected: status, gesture, history and
                                          settings lines as they happen (status_feed.py)

Replies are {"ok": true, ...} or {"ok": false, "error": "<message>"}.

Threads: the server reads and parses in its own threads, then hands a
`ControlRequest` to the main loop through a queue and waits for the main loop
to call `reply()`. Device state is touched only by the main loop.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import select
import selectors
import socket
import stat
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue
from typing import Any

from .clock import Clock, SystemClock
from .patterns import PATTERN_NAMES
from .status_feed import MAX_WATCHERS, Watcher

log = logging.getLogger(__name__)

DEFAULT_SOCKET = Path("/run/breathring/control.sock")
SOCKET_NAME = "control.sock"
RUNTIME_DIRECTORY_ENV = "RUNTIME_DIRECTORY"
#: The service owner and the breathring group may talk to the service; nobody else.
SOCKET_MODE = 0o660

COMMANDS = (
    "press",
    "hold",
    "start",
    "stop",
    "status",
    "reminders",
    "set",
    "unset",
    "settings",
    "stats",
    "history-clear",
    "watch",
)
REMINDER_VALUES = ("on", "off")
#: What a `start` over the socket may say started it (the history's trigger).
START_TRIGGERS = ("remote",)
#: Days a `stats` request may cover, and the default.
STATS_DAYS_MIN, STATS_DAYS_MAX, STATS_DAYS_DEFAULT = 1, 366, 14
#: Keys each command accepts besides "cmd".
_EXTRA_KEYS: dict[str, tuple[str, ...]] = {
    "start": ("pattern", "trigger"),
    "reminders": ("value",),
    "set": ("key", "value"),
    "unset": ("key",),
    "stats": ("days",),
}

DEFAULT_MAX_REQUEST_BYTES = 4096
DEFAULT_CLIENT_TIMEOUT_S = 2.0
DEFAULT_REPLY_TIMEOUT_S = 2.0
DEFAULT_MAX_CLIENTS = 16
DEFAULT_CLIENT_REQUEST_TIMEOUT_S = 3.0
#: Pending connections the kernel queues before accept().
LISTEN_BACKLOG = 64
#: Bytes read from a socket at a time.
RECV_CHUNK = 4096
#: A refused client's unread input is drained (up to this many chunks) before closing.
DRAIN_CHUNKS = 4
#: The client retries a full listen queue this often, waiting a little longer each time.
CONNECT_RETRIES = 5
CONNECT_RETRY_S = 0.05
#: The longest reply the client accepts.
MAX_REPLY_BYTES = 1 << 20
#: How long a reply may take to write, and how long to wait for a peer when probing.
SEND_TIMEOUT_S = 1.0
PROBE_TIMEOUT_S = 0.5
#: Pause after a failed accept() (e.g. out of file descriptors) before trying again.
ACCEPT_RETRY_S = 0.1
#: How long close() waits for its threads.
JOIN_TIMEOUT_S = 2.0

ERROR_BUSY = "busy"
ERROR_SERVICE_BUSY = "service busy"
ERROR_STOPPING = "service stopping"
ERROR_TOO_MANY_WATCHERS = f"too many watchers (at most {MAX_WATCHERS}); close one and try again"

_SEND_FLAGS = getattr(socket, "MSG_NOSIGNAL", 0)

Reply = dict[str, Any]


class ControlError(Exception):
    """The control socket cannot be used; the message says why and what to do."""


class ServiceNotRunning(ControlError):
    """Nothing listens on the control socket."""


class ControlAccessDenied(ControlError):
    """The control socket exists but we may not connect to it."""


class RequestError(ValueError):
    """A request line is not a valid request; the message names what is wrong."""


@dataclass(frozen=True)
class Request:
    """One parsed request.

    `pattern`, `trigger`: "start"; `value`: "reminders" ("on"/"off") and "set" (any JSON
    scalar, checked by the service); `key`: "set", "unset"; `days`: "stats".
    """

    cmd: str
    pattern: str | None = None
    value: Any = None
    key: str | None = None
    days: int = STATS_DAYS_DEFAULT
    trigger: str = "remote"


@dataclass(frozen=True)
class ControlRequest:
    """What the main loop receives: the request, and the one way to answer it.

    For "watch", `watcher` is the new watcher: the main loop adds it to the feed
    (with the first status line) and replies ok, or replies an error.
    """

    request: Request
    reply: Callable[[Reply], None]
    watcher: Watcher | None = None


def ok_reply(**fields: Any) -> Reply:
    """A success reply carrying `fields`."""
    return {"ok": True, **fields}


def error_reply(message: str) -> Reply:
    """A failure reply with a one-line message."""
    return {"ok": False, "error": message}


def socket_path_from(arg: str | None, env: Mapping[str, str] = os.environ) -> Path:
    """The socket path: --socket, else $RUNTIME_DIRECTORY/control.sock, else the default."""
    if arg is not None:
        if not arg:
            raise ValueError("--socket needs a path, e.g. --socket /run/breathring/control.sock")
        return Path(arg)
    runtime = env.get(RUNTIME_DIRECTORY_ENV, "").split(":")[0]
    if runtime:
        return Path(runtime) / SOCKET_NAME
    return DEFAULT_SOCKET


def _allowed(options: tuple[str, ...]) -> str:
    return ", ".join(f'"{o}"' for o in options)


def parse_request(line: bytes) -> Request:
    """Parse one request line; raise RequestError naming what is wrong and what is allowed."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RequestError(f"request is not UTF-8 (byte {exc.start}); send one JSON line") from None
    if not text.strip():
        raise RequestError('empty request; send one JSON object such as {"cmd": "status"}')
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise RequestError(
            f"request is not valid JSON ({exc.msg} at column {exc.colno}); "
            'send one JSON object such as {"cmd": "status"}'
        ) from None
    except RecursionError:
        raise RequestError(
            'request is nested too deeply; send one flat JSON object such as {"cmd": "status"}'
        ) from None
    if not isinstance(data, dict):
        raise RequestError(
            f'request must be a JSON object such as {{"cmd": "status"}}, not {type(data).__name__}'
        )
    cmd = data.get("cmd")
    if cmd is None:
        raise RequestError(f'request has no "cmd"; allowed commands: {_allowed(COMMANDS)}')
    if not isinstance(cmd, str) or cmd not in COMMANDS:
        raise RequestError(f"unknown cmd {json.dumps(cmd)}; allowed: {_allowed(COMMANDS)}")
    allowed_keys = ("cmd", *_EXTRA_KEYS.get(cmd, ()))
    extra = sorted(k for k in data if k not in allowed_keys)
    if extra:
        raise RequestError(
            f'unexpected key {json.dumps(extra[0])} for cmd "{cmd}"; allowed keys: '
            f"{_allowed(allowed_keys)}"
        )
    if cmd == "start":
        trigger = data.get("trigger", "remote")
        if not isinstance(trigger, str) or trigger not in START_TRIGGERS:
            raise RequestError(
                f'bad "trigger" {json.dumps(trigger)} for cmd "start"; '
                f"allowed: {_allowed(START_TRIGGERS)}"
            )
        return Request(cmd, pattern=_pattern(data.get("pattern")), trigger=trigger)
    if cmd in ("set", "unset"):
        key = data.get("key")
        if not isinstance(key, str) or not key:
            raise RequestError(
                f'bad "key" {json.dumps(key)} for cmd "{cmd}"; '
                'allowed: a config key such as "ring.brightness"'
            )
        if cmd == "unset":
            return Request(cmd, key=key)
        if "value" not in data:
            raise RequestError(f'cmd "set" needs a "value" for {json.dumps(key)}')
        return Request(cmd, key=key, value=data["value"])
    if cmd == "stats":
        days = data.get("days", STATS_DAYS_DEFAULT)
        if (
            not isinstance(days, int)
            or isinstance(days, bool)
            or not STATS_DAYS_MIN <= days <= STATS_DAYS_MAX
        ):
            raise RequestError(
                f'bad "days" {json.dumps(days)} for cmd "stats"; '
                f"allowed: a whole number {STATS_DAYS_MIN}-{STATS_DAYS_MAX}"
            )
        return Request(cmd, days=days)
    if cmd == "reminders":
        value = data.get("value")
        if not isinstance(value, str) or value not in REMINDER_VALUES:
            raise RequestError(
                f'bad "value" {json.dumps(value)} for cmd "reminders"; '
                f"allowed: {_allowed(REMINDER_VALUES)}"
            )
        return Request(cmd, value=value)
    return Request(cmd)


def _pattern(pattern: object) -> str | None:
    if pattern is None:
        return None
    if not isinstance(pattern, str) or pattern not in PATTERN_NAMES:
        raise RequestError(
            f"unknown pattern {json.dumps(pattern)}; allowed: {_allowed(PATTERN_NAMES)}"
        )
    return pattern


def encode_reply(reply: Reply) -> bytes:
    """One JSON line; a reply that cannot be encoded becomes an error reply."""
    try:
        text = json.dumps(reply, ensure_ascii=False, allow_nan=False)
    except (TypeError, ValueError) as exc:
        log.error("cannot encode control reply %r: %s", reply, exc)
        text = json.dumps(error_reply("internal error: reply could not be encoded"))
    return (text + "\n").encode("utf-8")


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
        max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
        client_timeout: float = DEFAULT_CLIENT_TIMEOUT_S,
        reply_timeout: float = DEFAULT_REPLY_TIMEOUT_S,
        max_clients: int = DEFAULT_MAX_CLIENTS,
        clock: Clock | None = None,
        max_watchers: int = MAX_WATCHERS,
    ) -> None:
        self.path = Path(path)
        self._inbox = inbox
        self._max_request_bytes = max_request_bytes
        self._client_timeout = client_timeout
        self._reply_timeout = reply_timeout
        self._max_clients = max_clients
        self._max_watchers = max_watchers
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
            client.slot.give(error_reply(ERROR_STOPPING))
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
            _send_quietly(conn, error_reply(ERROR_BUSY), timeout=0.0)
            _drain_and_close(conn)
            return
        self._refusing = False
        thread.start()

    def _requests_locked(self) -> int:
        return sum(1 for c in self._clients.values() if c.watcher is None)

    def _watchers_locked(self) -> int:
        return sum(1 for c in self._clients.values() if c.watcher is not None)

    def _serve(self, conn: socket.socket) -> None:
        me = threading.current_thread()
        try:
            with self._lock:
                slot = self._clients[me].slot
            try:
                line = self._read_line(conn)
            except RequestError as exc:
                _send_quietly(conn, error_reply(str(exc)))
                return
            except _ClientClosed:
                return
            if self._stopping.is_set():  # the line may have been cut short by close()
                _send_quietly(conn, error_reply(ERROR_STOPPING))
                return
            try:
                request = parse_request(line)
            except RequestError as exc:
                _send_quietly(conn, error_reply(str(exc)))
                return
            if request.cmd == "watch":
                self._watch(conn, request, slot)
                return
            self._inbox.put(ControlRequest(request, slot.give))
            reply = slot.wait(self._reply_timeout, error_reply(ERROR_SERVICE_BUSY))
            _send_quietly(conn, reply)
        except Exception:  # a client must never take the service down
            log.exception("control client failed")
        finally:
            _drain_and_close(conn)  # a plain close() with unread input would lose our reply
            with self._lock:
                self._clients.pop(me, None)

    def _watch(self, conn: socket.socket, request: Request, slot: _ReplySlot) -> None:
        """Become a watcher (own limit, no request slot) and write its lines until it ends."""
        watcher = Watcher(conn)
        me = threading.current_thread()
        with self._lock:
            full = self._watchers_locked() >= self._max_watchers
            if not full:
                self._clients[me].watcher = watcher
        if full:
            _send_quietly(conn, error_reply(ERROR_TOO_MANY_WATCHERS))
            return
        self._inbox.put(ControlRequest(request, slot.give, watcher))
        reply = slot.wait(self._reply_timeout, error_reply(ERROR_SERVICE_BUSY))
        if not reply.get("ok") or self._stopping.is_set():
            watcher.close("refused")
            _send_quietly(conn, reply if not reply.get("ok") else error_reply(ERROR_STOPPING))
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
        conn.sendall(encode_reply(reply), _SEND_FLAGS)
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


# -- client ----------------------------------------------------------------


def send_request(
    path: Path, request: Mapping[str, Any], timeout: float = DEFAULT_CLIENT_REQUEST_TIMEOUT_S
) -> Reply:
    """Send one request to the running service and return its reply.

    A full listen queue (EAGAIN: many clients at once) is retried a few times,
    a little later each time, before it counts as an error.
    """
    for attempt in range(CONNECT_RETRIES):
        try:
            return _send_once(path, request, timeout)
        except _QueueFull as exc:
            if attempt == CONNECT_RETRIES - 1:
                raise ControlError(
                    f"breathring is too busy to accept the connection on {path}: {exc.reason}; "
                    "try again"
                ) from None
            _pause(CONNECT_RETRY_S * (attempt + 1))
    raise AssertionError("unreachable")


class _QueueFull(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _pause(seconds: float) -> None:
    """Wait without reading any clock (select on nothing)."""
    select.select([], [], [], seconds)


def _send_once(path: Path, request: Mapping[str, Any], timeout: float) -> Reply:
    line = (json.dumps(dict(request)) + "\n").encode("utf-8")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC) as sock:
        sock.settimeout(timeout)
        try:
            sock.connect(str(path))
        except FileNotFoundError:
            raise ServiceNotRunning(
                f"breathring is not running (no socket at {path}); "
                "start it with: sudo systemctl start breathring"
            ) from None
        except ConnectionRefusedError:
            raise ServiceNotRunning(
                f"breathring is not running (nothing listens on {path}); "
                "start it with: sudo systemctl start breathring"
            ) from None
        except PermissionError:
            raise ControlAccessDenied(
                f"permission denied on {path}; add yourself to the breathring group "
                "(sudo usermod -aG breathring $USER, then log in again) or use sudo"
            ) from None
        except TimeoutError:
            raise ControlError(
                f"breathring did not accept the connection within {timeout:g} s on {path}"
            ) from None
        except BlockingIOError as exc:  # EAGAIN: the listen queue is full
            raise _QueueFull(exc.strerror or str(exc)) from None
        except OSError as exc:
            raise ControlError(f"cannot connect to breathring at {path}: {exc}") from None
        # The server may already have answered and closed (e.g. "busy"): read the reply anyway.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            sock.sendall(line, _SEND_FLAGS)
        return _read_reply(sock, path, timeout)


def _read_reply(sock: socket.socket, path: Path, timeout: float) -> Reply:
    buf = bytearray()
    while b"\n" not in buf:
        try:
            chunk = sock.recv(RECV_CHUNK)
        except TimeoutError:
            raise ControlError(
                f"breathring did not answer within {timeout:g} s on {path}"
            ) from None
        except OSError as exc:
            raise ControlError(f"lost the connection to breathring at {path}: {exc}") from None
        if not chunk:
            break
        buf += chunk
        if len(buf) > MAX_REPLY_BYTES:
            raise ControlError(f"reply from {path} is too long (over {MAX_REPLY_BYTES} bytes)")
    if not buf:
        raise ControlError(f"breathring closed the connection on {path} without a reply")
    try:
        reply = json.loads(buf.split(b"\n", 1)[0].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise ControlError(f"breathring sent a reply that is not JSON on {path}") from None
    if not isinstance(reply, dict) or not isinstance(reply.get("ok"), bool):
        raise ControlError(f'breathring sent a reply without "ok" on {path}')
    return reply
