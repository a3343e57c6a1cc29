"""`breathring web`: its arguments, `--url` (URL + QR code), and serving until SIGTERM."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TextIO

from ..cli_common import missing_extra
from ..exitcodes import EXIT_CONFIG, EXIT_OK, EXIT_UNAVAILABLE, EXIT_USAGE
from .auth import DEFAULT_TOKEN_FILE, TokenError, read_token

log = logging.getLogger("breathring.web")


DEFAULT_HOST = "0.0.0.0"
DEFAULT_PORT = 8080
DEFAULT_LISTEN = f"{DEFAULT_HOST}:{DEFAULT_PORT}"
PORT_MIN = 1
PORT_MAX = 65535
#: Seconds the server waits for open requests when it stops.
SHUTDOWN_TIMEOUT_S = 3.0
#: `ip` is asked for the addresses; it answers at once, but never wait long for it.
IP_COMMAND = ("ip", "-j", "addr", "show", "up")
IP_TIMEOUT_S = 2.0
#: Interfaces that are not the LAN a phone is on.
VIRTUAL_PREFIXES = ("lo", "docker", "br-", "veth", "virbr", "tun", "tap", "wg")
WILDCARD_HOSTS = ("0.0.0.0", "::", "")

URL_HELP = "print the URL with the token (and a QR code to scan with the phone), then exit"


@dataclass(frozen=True)
class Listen:
    host: str
    port: int


def parse_listen(text: str) -> Listen:
    """HOST:PORT, [IPv6]:PORT or :PORT; ValueError naming what is allowed."""
    allowed = "allowed: HOST:PORT, e.g. 0.0.0.0:8080, 127.0.0.1:8080 or [::]:8080"
    host, sep, port_text = text.rpartition(":")
    if not sep:
        raise ValueError(f"--listen {text!r} has no port; {allowed}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        _check_ip(host, text, allowed)
    elif ":" in host:
        raise ValueError(f"--listen {text!r}: put an IPv6 address in brackets; {allowed}")
    if not port_text.isascii() or not port_text.isdigit():
        raise ValueError(f"--listen {text!r}: port {port_text!r} is not a number; {allowed}")
    port = int(port_text)
    if not PORT_MIN <= port <= PORT_MAX:
        raise ValueError(f"--listen {text!r}: port {port} is out of range {PORT_MIN}-{PORT_MAX}")
    return Listen(host or DEFAULT_HOST, port)


def _check_ip(host: str, text: str, allowed: str) -> None:
    try:
        ipaddress.IPv6Address(host)
    except ValueError:
        raise ValueError(f"--listen {text!r}: {host!r} is not an IPv6 address; {allowed}") from None


def add_web_parser(subparsers: Any) -> argparse.ArgumentParser:
    """Add the `web` subcommand to `breathring`'s subparsers."""
    p = subparsers.add_parser(
        "web",
        help="serve the phone page and its JSON API (talks to the service's control socket)",
        description=(
            "Serve the phone page and the JSON API (docs/api.md). Every request needs the "
            "token from --token-file; open the URL that --url prints once on the phone."
        ),
    )
    p.add_argument(
        "--listen",
        metavar="HOST:PORT",
        default=DEFAULT_LISTEN,
        help=f"address and port to listen on (default: {DEFAULT_LISTEN})",
    )
    p.add_argument(
        "--token-file",
        metavar="FILE",
        default=str(DEFAULT_TOKEN_FILE),
        help=f"file holding the access token (default: {DEFAULT_TOKEN_FILE})",
    )
    p.add_argument("--socket", metavar="PATH", help="control socket of the service")
    p.add_argument("--url", action="store_true", help=URL_HELP)
    return p


def cmd_web(args: argparse.Namespace) -> int:
    """Run `breathring web` (or `--url`); returns the exit code (69 without the web extra)."""
    if not args.url:
        missing = missing_extra("web", "aiohttp")
        if missing is not None:
            print(missing, file=sys.stderr)
            return EXIT_UNAVAILABLE
    try:
        listen = parse_listen(args.listen)
        from ..control.protocol import socket_path_from

        socket_path = socket_path_from(args.socket, os.environ)
    except ValueError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_USAGE
    token_file = Path(args.token_file)
    try:
        token = read_token(token_file)
    except TokenError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    if args.url:
        print_url(page_url(listen, token))
        return EXIT_OK
    try:
        import asyncio  # here: `breathring run` builds this parser too, and needs no asyncio

        return asyncio.run(serve(listen, token, socket_path))
    except OSError as exc:
        print(f"breathring: cannot listen on {args.listen}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


async def serve(listen: Listen, token: str, socket_path: Path) -> int:
    """Serve until SIGTERM or SIGINT; tell systemd when ready and when stopping."""
    import asyncio

    from aiohttp import web

    from ..control.async_client import ControlClient
    from ..systemd import Notifier
    from .app import create_app

    app = create_app(token, ControlClient(socket_path))
    # handler_cancellation: a page that closes ends its event stream (and frees its `watch`
    # place at the service) at once, not at the next keep-alive.
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=SHUTDOWN_TIMEOUT_S,
        handler_cancellation=True,
    )
    await runner.setup()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    with Notifier.from_env() as notifier:
        try:
            await web.TCPSite(runner, listen.host, listen.port, reuse_address=True).start()
            # The access log stays off: it would write ?token=... into the journal.
            log.info(
                "breathring web listening on http://%s (control socket %s)",
                _host_port(listen.host, listen.port),
                socket_path,
            )
            notifier.ready()
            await stop.wait()
            notifier.stopping()
        finally:
            await runner.cleanup()
    return EXIT_OK


# -- --url -----------------------------------------------------------------------------


def page_url(listen: Listen, token: str, lan: Callable[[], str] | None = None) -> str:
    """The URL a phone opens once: this machine's LAN address (or the listen address)."""
    host = listen.host
    if host in WILDCARD_HOSTS:
        host = (lan or lan_address)()
    return f"http://{_host_port(host, listen.port)}/?token={token}"


def _host_port(host: str, port: int) -> str:
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def lan_address(
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
    hostname: Callable[[], str] = socket.gethostname,
    resolve: Callable[..., list[Any]] = socket.getaddrinfo,
) -> str:
    """This machine's LAN IPv4 address, found locally (no packet leaves the machine).

    First `ip -j addr`: a global address on an interface that is up and not
    virtual; else the addresses the host name resolves to; else `HOSTNAME.local`
    (mDNS, which Raspberry Pi OS answers with avahi).
    """
    found = _address_from_ip(run)
    if found is None:
        found = _address_from_hostname(hostname(), resolve)
    if found is not None:
        return found
    name = hostname()
    return name if "." in name else f"{name}.local"


def _address_from_ip(run: Callable[..., subprocess.CompletedProcess[str]]) -> str | None:
    try:
        result = run(list(IP_COMMAND), capture_output=True, text=True, timeout=IP_TIMEOUT_S)
        interfaces = json.loads(result.stdout) if result.returncode == 0 else []
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    for iface in interfaces if isinstance(interfaces, list) else []:
        name = str(iface.get("ifname", ""))
        if "LOOPBACK" in iface.get("flags", ()) or name.startswith(VIRTUAL_PREFIXES):
            continue
        for addr in iface.get("addr_info", ()):
            if addr.get("family") == "inet" and addr.get("scope") == "global":
                return str(addr["local"])
    return None


def _address_from_hostname(name: str, resolve: Callable[..., list[Any]]) -> str | None:
    try:
        infos = resolve(name, None, socket.AF_INET, socket.SOCK_STREAM)
    except OSError:
        return None
    for *_rest, sockaddr in infos:
        address = str(sockaddr[0])
        if not ipaddress.ip_address(address).is_loopback:
            return address
    return None


def print_url(url: str, out: TextIO | None = None) -> None:
    """The URL on its own first line, then a QR code of it for the phone's camera."""
    out = sys.stdout if out is None else out
    print(url, file=out)
    try:
        import segno
    except ImportError:
        print("(no QR code: install the web extra, pip install 'breathring[web]')", file=out)
        return
    print("Scan with the phone (keep this link private: it is the key to the page):", file=out)
    segno.make(url, error="m").terminal(out=out, compact=True)


def main(argv: list[str] | None = None) -> int:
    """`python -m breathring.web`: the same as `breathring web`."""
    parser = argparse.ArgumentParser(prog="breathring")
    add_web_parser(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["web", *(sys.argv[1:] if argv is None else argv)])
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    return cmd_web(args)
