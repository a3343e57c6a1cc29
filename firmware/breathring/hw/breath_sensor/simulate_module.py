"""A pretend breath radar on a pseudo-terminal, for trying the reader without the module.

    python -m breathring.hw.breath_sensor.simulate_module --kind c1001 --rate 14

prints the pseudo-terminal's path (put it in `[breath_sensor] device`) and answers like the
module until Ctrl-C: a C1001 answers the work-mode query (sleep mode) and each breathing-rate
query; an MR60BHA2 reports its breathing rate once a second by itself. Its frames come from its
own small encoders, written from the vendors' documents (not from the reader's parsers):

- C1001 (DFRobot SEN0623, MR60BHA1): 53 59 | control | command | length (2, big-endian) | data |
  low byte of the sum of all bytes before | 54 43;
- MR60BHA2 (Seeed): 01 | id (2) | length (2) | type (2) | inverted XOR of those 7 bytes | data |
  inverted XOR of the data; type 0A 14 is the breathing rate as a little-endian float32.
"""

from __future__ import annotations

import argparse
import os
import select
import signal
import struct
import sys
import tty
from pathlib import Path

C1001_KIND = "c1001"
MR60BHA2_KIND = "mr60bha2"
#: The MR60BHA2 reports about once a second.
REPORT_EVERY_S = 1.0
C1001_BREATH = (0x81, 0x82)
C1001_QUERY_MODE = (0x02, 0xA8)
C1001_SET_MODE = (0x02, 0x08)
C1001_SLEEP_MODE = 0x02


def c1001_frame(control: int, command: int, data: bytes) -> bytes:
    head = bytes([0x53, 0x59, control, command, len(data) >> 8, len(data) & 0xFF]) + data
    return head + bytes([sum(head) % 256, 0x54, 0x43])


def _inverted_xor(data: bytes) -> int:
    value = 0
    for byte in data:
        value ^= byte
    return value ^ 0xFF


def mr60bha2_frame(frame_id: int, frame_type: int, data: bytes) -> bytes:
    head = bytes([0x01]) + struct.pack(">HHH", frame_id & 0xFFFF, len(data), frame_type)
    return head + bytes([_inverted_xor(head)]) + data + bytes([_inverted_xor(data)])


def mr60bha2_breath(frame_id: int, rate: float) -> bytes:
    return mr60bha2_frame(frame_id, 0x0A14, struct.pack("<f", rate))


class C1001Answers:
    """Reads queries out of what the reader sends; answers each one it knows."""

    def __init__(self, rate: float) -> None:
        self.rate = rate
        self.mode = C1001_SLEEP_MODE
        self.pending = b""

    def __call__(self, data: bytes) -> bytes:
        self.pending += data
        out = b""
        while True:
            at = self.pending.find(b"\x53\x59")
            if at < 0 or len(self.pending) < at + 6:
                return out
            length = (self.pending[at + 4] << 8) | self.pending[at + 5]
            end = at + 6 + length + 3
            if len(self.pending) < end:
                return out
            control, command = self.pending[at + 2], self.pending[at + 3]
            data_part = self.pending[at + 6 : at + 6 + length]
            self.pending = self.pending[end:]
            if (control, command) == C1001_BREATH:
                out += c1001_frame(*C1001_BREATH, bytes([round(self.rate) & 0xFF]))
            elif (control, command) == C1001_QUERY_MODE:
                out += c1001_frame(*C1001_QUERY_MODE, bytes([self.mode]))
            elif (control, command) == C1001_SET_MODE and data_part:
                self.mode = data_part[0]
                out += c1001_frame(*C1001_SET_MODE, data_part[:1])


def open_pty(link: Path | None) -> tuple[int, int, str]:
    """(master, slave, path): the slave stays open here so the master never sees a hang-up."""
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    if link is not None:
        tmp = link.with_name(link.name + ".tmp")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(path)
        tmp.replace(link)
        path = str(link)
    return master, slave, path


def run(kind: str, rate: float, link: Path | None = None) -> int:
    master, slave, path = open_pty(link)
    print(path, flush=True)
    answer = C1001Answers(rate) if kind == C1001_KIND else None
    frame_id = 0
    try:
        while True:
            ready, _, _ = select.select([master], [], [], REPORT_EVERY_S)
            if ready:
                data = os.read(master, 4096)
                if answer is not None and (reply := answer(data)):
                    os.write(master, reply)
            elif kind == MR60BHA2_KIND:
                frame_id += 1
                os.write(master, mr60bha2_breath(frame_id, rate))
    except KeyboardInterrupt:
        return 0
    finally:
        os.close(master)
        os.close(slave)
        if link is not None:
            link.unlink(missing_ok=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m breathring.hw.breath_sensor.simulate_module",
        description="A pretend breath radar on a pseudo-terminal: prints its path, then "
        "answers like the module until Ctrl-C.",
    )
    parser.add_argument("--kind", choices=(C1001_KIND, MR60BHA2_KIND), default=C1001_KIND)
    parser.add_argument(
        "--rate", type=float, default=14.0, help="breaths a minute it measures (default 14)"
    )
    parser.add_argument(
        "--link",
        type=Path,
        help="also make this symlink to the pseudo-terminal (e.g. a "
        "stable path for [breath_sensor] device)",
    )
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    return run(args.kind, args.rate, args.link)


if __name__ == "__main__":
    sys.exit(main())
