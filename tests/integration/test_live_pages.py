"""Live pages (server-sent events) against the real service: their share of watchers.

`breathring web` and the service as a user runs them; each page is a raw HTTP connection
to /api/events, so the test sees exactly when a place is taken and when it is freed.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from collections.abc import Iterator

from testkit import DEADLINE_S, LOOPBACK, wait_until
from testkit.stack import Device, WebProcess

#: Pages the web lets watch at once (the web's share of the service's watchers).
WEB_PAGES = 8
#: Clients that ask for a live page at the same moment.
AT_ONCE = 50
#: A closed page's place is free again within this long (the keep-alive is 15 s).
FREED_WITHIN_S = 1.0


def open_page(web: WebProcess) -> tuple[socket.socket, int]:
    """Ask for /api/events; the open socket and the HTTP status of the answer."""
    sock = socket.create_connection((LOOPBACK, web.port), timeout=DEADLINE_S)
    request = (
        "GET /api/events HTTP/1.1\r\n"
        f"Host: {LOOPBACK}:{web.port}\r\n"
        f"Authorization: Bearer {web.token}\r\n"
        "Accept: text/event-stream\r\n\r\n"
    )
    sock.sendall(request.encode())
    status_line = sock.makefile("rb").readline().decode()
    return sock, int(status_line.split()[1])


@contextlib.contextmanager
def pages(web: WebProcess, count: int) -> Iterator[list[socket.socket]]:
    """`count` live pages, all answered 200; closed on exit."""
    opened = []
    try:
        for _ in range(count):
            sock, status = open_page(web)
            opened.append(sock)
            assert status == 200
        yield opened
    finally:
        for sock in opened:
            sock.close()


def test_fifty_pages_at_once_get_exactly_the_web_share(device: Device, web: WebProcess) -> None:
    barrier = threading.Barrier(AT_ONCE)
    statuses: list[int] = []
    sockets: list[socket.socket] = []
    lock = threading.Lock()

    def client() -> None:
        barrier.wait()
        sock, status = open_page(web)
        with lock:
            statuses.append(status)
            sockets.append(sock)

    threads = [threading.Thread(target=client) for _ in range(AT_ONCE)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(DEADLINE_S)
    try:
        assert len(statuses) == AT_ONCE
        assert statuses.count(200) == WEB_PAGES
        assert statuses.count(503) == AT_ONCE - WEB_PAGES
    finally:
        for sock in sockets:
            sock.close()


def test_a_closed_page_frees_its_place_at_once(device: Device, web: WebProcess) -> None:
    with pages(web, WEB_PAGES) as opened:
        sock, status = open_page(web)
        sock.close()
        assert status == 503  # every place taken
        opened.pop().close()  # the phone's tab is closed
        answered: list[int] = []

        def another_page_gets_in() -> bool:
            sock, status = open_page(web)
            answered.append(status)
            if status == 200:
                opened.append(sock)
                return True
            sock.close()
            return False

        wait_until(another_page_gets_in, timeout=FREED_WITHIN_S)
        assert answered[-1] == 200


def test_the_bridge_can_watch_with_every_page_open(device: Device, web: WebProcess) -> None:
    with pages(web, WEB_PAGES), socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(DEADLINE_S)
        sock.connect(str(device.socket_path))
        sock.sendall(b'{"cmd": "watch", "client": "mqtt"}\n')
        first = json.loads(sock.makefile("rb").readline())
    assert first["kind"] == "status"
