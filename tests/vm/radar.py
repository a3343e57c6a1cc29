"""The VM's breath radar: a pretend C1001 on the guest's second serial port (host side).

QEMU wires the guest's /dev/ttyS1 to a Unix socket (`-chardev socket,server=on`); this program
connects to it and answers the reader's queries as the module would, with the product's own
pretend module (breathring.hw.breath_sensor.simulate_module: frames written from DFRobot's
document, not from the reader's parser). The bytes cross QEMU's emulated 16550 UART and the
guest kernel's serial driver into the hardened unit, as they would cross the Pi's UART.

While the file given by --quiet-file exists, the module says nothing (a pulled cable): the
guest scenario creates and removes it through the 9p share. The socket goes when QEMU exits
(the scenario's reboot); the program connects again to the next one, until it is killed.

    radar.py --socket RUN/radar.sock --quiet-file SHARE/out/radar-quiet --rate 13 [--log FILE]
"""

from __future__ import annotations

import argparse
import socket
import sys
import time
from pathlib import Path

from breathring.hw.breath_sensor.simulate_module import C1001Answers

#: How often to try the socket again while QEMU is not (yet) listening.
CONNECT_RETRY_S = 0.2
READ_SIZE = 4096


def serve(conn: socket.socket, answers: C1001Answers, quiet: Path, counts: dict[str, int]) -> None:
    """Answer on one connection until QEMU closes it."""
    while data := conn.recv(READ_SIZE):
        counts["bytes_in"] += len(data)
        reply = answers(data)
        if not reply:
            continue
        if quiet.exists():
            counts["held_back"] += 1
            continue
        conn.sendall(reply)
        counts["replies"] += 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--socket", required=True, type=Path, help="QEMU's chardev socket")
    parser.add_argument("--quiet-file", required=True, type=Path, help="silent while it exists")
    parser.add_argument("--rate", type=float, default=13.0, help="breaths a minute (default 13)")
    parser.add_argument("--log", type=Path, help="append a line per connection here")
    args = parser.parse_args(argv)
    answers = C1001Answers(args.rate)
    while True:
        counts = {"bytes_in": 0, "replies": 0, "held_back": 0}
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as conn:
            try:
                conn.connect(str(args.socket))
            except OSError:
                time.sleep(CONNECT_RETRY_S)
                continue
            try:
                serve(conn, answers, args.quiet_file, counts)
            except OSError as exc:
                counts["error"] = exc.errno or 0
        if args.log:
            with args.log.open("a") as log:
                log.write(f"{time.strftime('%H:%M:%S')} connection ended: {counts}\n")


if __name__ == "__main__":
    sys.exit(main())
