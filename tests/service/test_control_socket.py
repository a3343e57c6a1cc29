"""The control socket: the server under load and abuse, stale sockets, and the client's errors."""

from __future__ import annotations

import json
import os
import random
import socket
import stat
import threading
from collections.abc import Iterator
from pathlib import Path
from queue import Empty, SimpleQueue

import pytest

from breathring.control import client as control_client
from breathring.control.client import send_request
from breathring.control.protocol import (
    ControlAccessDenied,
    ControlError,
    ErrorCode,
    Request,
    ServiceNotRunning,
    error_reply,
    ok_reply,
    parse_request,
)
from breathring.control.server import ControlRequest, ControlServer

#: The refusals the server gives by itself, word for word.
BUSY = {"ok": False, "code": "busy", "error": "too many clients at once; try again"}
TIMEOUT = {"ok": False, "code": "timeout", "error": "the service did not answer in time; try again"}
STOPPING = {
    "ok": False,
    "code": "stopping",
    "error": "the service is stopping; try again when it runs",
}

CLIENT_TIMEOUT_S = 0.3


REPLY_TIMEOUT_S = 0.5


IO_TIMEOUT_S = 3.0


MAX_CLIENTS = 16


MANY_CLIENTS = 50


ONE_MB = 1 << 20


class FakeMainLoop:
    """Stands in for the service loop: takes ControlRequests and answers them."""

    def __init__(self, inbox: SimpleQueue) -> None:
        self.inbox = inbox
        self.seen: list[Request] = []
        self.answer = True
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                item = self.inbox.get(timeout=0.05)
            except Empty:
                continue
            assert isinstance(item, ControlRequest)
            self.seen.append(item.request)
            if self.answer:
                r = item.request
                item.reply(ok_reply(cmd=r.cmd, pattern=r.pattern, value=r.value))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(IO_TIMEOUT_S)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def raw_exchange(path: Path, data: bytes, half_close: bool = False) -> bytes:
    """Send raw bytes and return everything the server sends back before closing."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(IO_TIMEOUT_S)
        s.connect(str(path))
        try:
            s.sendall(data)
            if half_close:
                s.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may answer and close before reading everything
        out = bytearray()
        while True:
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return bytes(out)


def reply_of(raw: bytes) -> dict:
    assert raw.endswith(b"\n") and raw.count(b"\n") == 1, raw
    return json.loads(raw)


@pytest.fixture
def sock_path(short_dir: Path) -> Path:
    return short_dir / "control.sock"


@pytest.fixture
def server(sock_path: Path) -> Iterator[tuple[ControlServer, FakeMainLoop]]:
    inbox: SimpleQueue = SimpleQueue()
    main = FakeMainLoop(inbox)
    srv = ControlServer(
        sock_path,
        inbox,
        client_timeout=CLIENT_TIMEOUT_S,
        reply_timeout=REPLY_TIMEOUT_S,
        max_clients=MAX_CLIENTS,
    )
    srv.start()
    yield srv, main
    srv.close()
    main.stop()


@pytest.mark.parametrize(
    "request_",
    [
        {"cmd": "press"},
        {"cmd": "hold"},
        {"cmd": "start"},
        {"cmd": "start", "pattern": "box"},
        {"cmd": "stop"},
        {"cmd": "status"},
        {"cmd": "reminders", "value": "on"},
        {"cmd": "reminders", "value": "off"},
    ],
)
def test_each_command_round_trips(server, sock_path, request_):
    _srv, main = server
    reply = send_request(sock_path, request_, timeout=IO_TIMEOUT_S)
    assert reply == {
        "ok": True,
        "cmd": request_["cmd"],
        "pattern": request_.get("pattern"),
        "value": request_.get("value"),
    }
    assert main.seen == [parse_request(json.dumps(request_).encode())]


def test_socket_mode_is_0660(server, sock_path):
    mode = os.stat(sock_path).st_mode
    assert stat.S_ISSOCK(mode)
    assert stat.S_IMODE(mode) == 0o660


def test_close_unlinks_socket(sock_path):
    srv = ControlServer(sock_path, SimpleQueue())
    srv.start()
    assert sock_path.exists()
    srv.close()
    assert not sock_path.exists()
    srv.close()  # twice is harmless


def test_line_without_newline_then_eof_is_accepted(server, sock_path):
    raw = raw_exchange(sock_path, b'{"cmd": "status"}', half_close=True)
    assert reply_of(raw)["ok"] is True


@pytest.mark.parametrize(
    ("data", "fragment"),
    [
        (b"{oops\n", "not valid JSON"),
        (b'{"cmd": "dance"}\n', 'unknown cmd "dance"'),
        (b'{"cmd": "press", "x": 1}\n', 'unexpected key "x"'),
        (b"\xff\xfe\xfd\n", "not UTF-8"),
    ],
)
def test_bad_requests_get_an_error_reply(server, sock_path, data, fragment):
    _srv, main = server
    reply = reply_of(raw_exchange(sock_path, data))
    assert reply["ok"] is False
    assert reply["code"] == "bad-request"
    assert fragment in reply["error"]
    assert main.seen == []


def test_one_megabyte_line_is_refused(server, sock_path):
    _srv, main = server
    reply = reply_of(raw_exchange(sock_path, b"x" * ONE_MB + b"\n"))
    assert reply["ok"] is False
    assert reply["code"] == "bad-request"
    assert "request too long" in reply["error"]
    assert main.seen == []
    assert send_request(sock_path, {"cmd": "status"})["ok"] is True


def test_random_bytes_never_break_the_server(server, sock_path):
    rng = random.Random(1234)
    for _ in range(20):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 300))) + b"\n"
        raw = raw_exchange(sock_path, data)
        if raw:
            assert reply_of(raw)["ok"] is False
    assert send_request(sock_path, {"cmd": "status"})["ok"] is True


def test_silent_client_does_not_block_others_and_is_closed(server, sock_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as silent:
        silent.settimeout(IO_TIMEOUT_S)
        silent.connect(str(sock_path))
        # Others are served while the silent one holds its connection.
        for _ in range(3):
            assert send_request(sock_path, {"cmd": "press"})["ok"] is True
        # After client_timeout the silent client gets an error and is closed.
        raw = bytearray()
        while chunk := silent.recv(4096):
            raw += chunk
    reply = reply_of(bytes(raw))
    assert reply["ok"] is False
    assert "timed out" in reply["error"]


def test_slow_trickle_is_cut_off(server, sock_path):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as slow:
        slow.settimeout(IO_TIMEOUT_S)
        slow.connect(str(sock_path))
        slow.sendall(b'{"cmd": ')  # and never finishes the line
        raw = bytearray()
        while chunk := slow.recv(4096):
            raw += chunk
    assert "timed out" in reply_of(bytes(raw))["error"]


def test_no_reply_from_main_loop_means_service_busy(server, sock_path):
    _srv, main = server
    main.answer = False
    reply = send_request(sock_path, {"cmd": "status"})
    assert reply == TIMEOUT
    assert main.seen == [Request("status")]


def test_late_and_double_replies_are_ignored(sock_path):
    inbox: SimpleQueue = SimpleQueue()
    with ControlServer(sock_path, inbox, reply_timeout=REPLY_TIMEOUT_S) as _srv:
        result: dict = {}
        client = threading.Thread(
            target=lambda: result.update(send_request(sock_path, {"cmd": "stop"}))
        )
        client.start()
        item = inbox.get(timeout=IO_TIMEOUT_S)
        item.reply(ok_reply(first=True))
        item.reply(error_reply(ErrorCode.FAILED, "second"))
        client.join(IO_TIMEOUT_S)
    assert result == {"ok": True, "first": True}


def test_unencodable_reply_becomes_an_error(sock_path):
    inbox: SimpleQueue = SimpleQueue()
    path = sock_path
    with ControlServer(path, inbox) as _srv:
        result: dict = {}
        client = threading.Thread(
            target=lambda: result.update(send_request(path, {"cmd": "status"}))
        )
        client.start()
        inbox.get(timeout=IO_TIMEOUT_S).reply({"ok": True, "bad": object()})
        client.join(IO_TIMEOUT_S)
    assert result["ok"] is False
    assert "internal error" in result["error"]


def test_client_disconnecting_mid_reply(server, sock_path):
    srv, main = server
    main.answer = False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock_path))
        s.sendall(b'{"cmd": "status"}\n')
    # Its handler waits for the (absent) reply, then writes into a closed socket.
    main.answer = True
    for _ in range(3):
        assert send_request(sock_path, {"cmd": "status"})["ok"] is True
    assert srv._thread is not None and srv._thread.is_alive()


def test_fifty_clients_at_once(server, sock_path):
    _srv, _main = server
    replies: list[dict] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    start = threading.Barrier(MANY_CLIENTS)

    def one() -> None:
        start.wait(IO_TIMEOUT_S)
        try:
            reply = send_request(sock_path, {"cmd": "status"})
        except BaseException as exc:
            with lock:
                errors.append(exc)
            return
        with lock:
            replies.append(reply)

    threads = [threading.Thread(target=one) for _ in range(MANY_CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(IO_TIMEOUT_S * 2)
    assert errors == []
    assert len(replies) == MANY_CLIENTS
    ok = [r for r in replies if r["ok"]]
    busy = [r for r in replies if not r["ok"]]
    assert all(r == BUSY for r in busy)
    assert len(ok) >= MAX_CLIENTS
    assert send_request(sock_path, {"cmd": "status"})["ok"] is True


def test_over_the_client_cap_gets_busy(sock_path):
    inbox: SimpleQueue = SimpleQueue()  # nobody answers: every handler waits
    with ControlServer(sock_path, inbox, max_clients=2, reply_timeout=REPLY_TIMEOUT_S) as _srv:
        holders = []
        for _ in range(2):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(sock_path))
            s.sendall(b'{"cmd": "status"}\n')
            holders.append(s)
        inbox.get(timeout=IO_TIMEOUT_S)
        inbox.get(timeout=IO_TIMEOUT_S)  # both handlers are now waiting
        assert send_request(sock_path, {"cmd": "status"}) == BUSY
        for s in holders:
            s.close()


@pytest.mark.filterwarnings("error::ResourceWarning")
@pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")
def test_fd_count_flat_after_abuse(sock_path):
    before = open_fds()
    inbox: SimpleQueue = SimpleQueue()
    main = FakeMainLoop(inbox)
    with ControlServer(sock_path, inbox, client_timeout=CLIENT_TIMEOUT_S) as _srv:
        for _ in range(10):
            send_request(sock_path, {"cmd": "press"})
            raw_exchange(sock_path, b"garbage\n")
            raw_exchange(sock_path, b"y" * 10_000)
        silent = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        silent.connect(str(sock_path))
        silent.close()
        half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        half.connect(str(sock_path))
        half.sendall(b'{"cmd"')  # left hanging: close() must end its handler
    half.close()
    main.stop()
    assert open_fds() == before
    assert not [t for t in threading.enumerate() if t.name.startswith("breathring-control")]


def test_close_ends_reading_handlers_at_once(sock_path):
    srv = ControlServer(sock_path, SimpleQueue(), client_timeout=IO_TIMEOUT_S * 10)
    srv.start()
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as hanging:
        hanging.settimeout(IO_TIMEOUT_S)
        hanging.connect(str(sock_path))
        hanging.sendall(b'{"cmd": "pre')
        # Accepts are in order: once this one is answered, the hanging one is being served.
        assert reply_of(raw_exchange(sock_path, b"x\n"))["ok"] is False
        srv.close()
        # Answered and closed by close(), not after the long client timeout.
        assert reply_of(hanging.recv(4096)) == STOPPING
        assert hanging.recv(4096) == b""
    assert not [t for t in threading.enumerate() if t.name.startswith("breathring-control")]


def test_empty_connection_gets_no_reply(server, sock_path):
    _srv, main = server
    assert raw_exchange(sock_path, b"", half_close=True) == b""
    assert main.seen == []


def test_close_ends_waiting_handlers(sock_path):
    inbox: SimpleQueue = SimpleQueue()  # never answered
    srv = ControlServer(sock_path, inbox, reply_timeout=IO_TIMEOUT_S * 10)
    srv.start()
    result: dict = {}
    client = threading.Thread(
        target=lambda: result.update(send_request(sock_path, {"cmd": "hold"}))
    )
    client.start()
    inbox.get(timeout=IO_TIMEOUT_S)
    srv.close()
    client.join(IO_TIMEOUT_S)
    assert result == STOPPING


def test_stale_socket_is_replaced(sock_path):
    stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    stale.bind(str(sock_path))
    stale.close()  # the file stays, nobody listens
    os.chmod(sock_path, 0o600)
    inbox: SimpleQueue = SimpleQueue()
    main = FakeMainLoop(inbox)
    try:
        with ControlServer(sock_path, inbox) as _srv:
            assert send_request(sock_path, {"cmd": "status"})["ok"] is True
            assert stat.S_IMODE(os.stat(sock_path).st_mode) == 0o660
    finally:
        main.stop()


def test_live_service_is_not_replaced(server, sock_path):
    second = ControlServer(sock_path, SimpleQueue())
    with pytest.raises(ControlError, match="already running"):
        second.start()
    assert send_request(sock_path, {"cmd": "status"})["ok"] is True


def test_regular_file_is_not_replaced(sock_path):
    sock_path.write_text("keep me")
    with pytest.raises(ControlError, match="is not a socket"):
        ControlServer(sock_path, SimpleQueue()).start()
    assert sock_path.read_text() == "keep me"


def test_missing_directory_is_a_clear_error(short_dir):
    with pytest.raises(ControlError, match="cannot listen on control socket"):
        ControlServer(short_dir / "no" / "control.sock", SimpleQueue()).start()


def test_close_leaves_a_newer_socket_alone(sock_path):
    first = ControlServer(sock_path, SimpleQueue())
    first.start()
    sock_path.unlink()  # e.g. removed by hand, then a new instance starts
    with ControlServer(sock_path, SimpleQueue()) as _second:
        first.close()
        assert sock_path.exists()


def test_service_not_running_when_socket_missing(sock_path):
    with pytest.raises(ServiceNotRunning) as info:
        send_request(sock_path, {"cmd": "status"})
    message = str(info.value)
    assert f"no socket at {sock_path}" in message
    assert "sudo systemctl start breathring" in message


def test_service_not_running_when_nobody_listens(sock_path):
    dead = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    dead.bind(str(sock_path))
    dead.close()
    with pytest.raises(ServiceNotRunning, match="breathring is not running"):
        send_request(sock_path, {"cmd": "status"})


def test_default_socket_message_matches_the_brief():
    missing = Path("/nonexistent-breathring-dir/control.sock")
    with pytest.raises(ServiceNotRunning) as info:
        send_request(missing, {"cmd": "status"})
    assert str(info.value) == (
        f"breathring is not running (no socket at {missing}); "
        "start it with: sudo systemctl start breathring"
    )


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores file permissions")
def test_permission_denied_suggests_group(server, sock_path):
    os.chmod(sock_path, 0o000)
    with pytest.raises(ControlAccessDenied, match="breathring group"):
        send_request(sock_path, {"cmd": "status"})


def test_permission_error_is_translated(monkeypatch, sock_path):
    def deny(self, address):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(socket.socket, "connect", deny)
    with pytest.raises(ControlAccessDenied) as info:
        send_request(sock_path, {"cmd": "status"})
    assert "breathring group" in str(info.value) and "sudo" in str(info.value)


def test_client_times_out_on_a_silent_server(sock_path):
    mute = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mute.bind(str(sock_path))
    mute.listen(1)  # accepts connections, never answers
    try:
        with pytest.raises(ControlError, match="did not answer within"):
            send_request(sock_path, {"cmd": "status"}, timeout=0.2)
    finally:
        mute.close()


def test_accept_failure_backs_off_and_recovers(sock_path, monkeypatch, caplog):
    inbox: SimpleQueue = SimpleQueue()
    main = FakeMainLoop(inbox)
    failures = {"left": 3}
    real_accept = socket.socket.accept

    def flaky_accept(self):
        if failures["left"] > 0:
            failures["left"] -= 1
            raise OSError(24, "Too many open files")
        return real_accept(self)

    monkeypatch.setattr(socket.socket, "accept", flaky_accept)
    try:
        with ControlServer(sock_path, inbox) as _srv:
            assert send_request(sock_path, {"cmd": "status"})["ok"] is True
    finally:
        main.stop()
    assert failures["left"] == 0
    warnings = [r for r in caplog.records if "accept failed" in r.getMessage()]
    assert len(warnings) == 1


def test_client_retries_a_full_listen_queue(monkeypatch, tmp_path):
    control_module = control_client

    calls = []

    def flaky(path, request, timeout):
        calls.append(request)
        if len(calls) < 3:
            raise control_module._QueueFull("Resource temporarily unavailable")
        return {"ok": True}

    monkeypatch.setattr(control_module, "_send_once", flaky)
    monkeypatch.setattr(control_module, "_pause", lambda seconds: None)
    assert control_module.send_request(tmp_path / "s", {"cmd": "status"}) == {"ok": True}
    assert len(calls) == 3
    calls.clear()
    monkeypatch.setattr(
        control_module,
        "_send_once",
        lambda *a: (_ for _ in ()).throw(control_module._QueueFull("busy")),
    )
    with pytest.raises(control_module.ControlError, match="too busy"):
        control_module.send_request(tmp_path / "s", {"cmd": "status"})
