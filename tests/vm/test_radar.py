"""The VM's pretend radar (tests/vm/radar.py) on a socket pair: what QEMU's serial port gets."""

from __future__ import annotations

import importlib.util
import socket
import sys
from pathlib import Path

from breathring.hw.breath_sensor.simulate_module import C1001Answers

_spec = importlib.util.spec_from_file_location("vm_radar", Path(__file__).with_name("radar.py"))
assert _spec is not None and _spec.loader is not None
radar = importlib.util.module_from_spec(_spec)
sys.modules["vm_radar"] = radar
_spec.loader.exec_module(radar)

#: DFRobot's breathing-value query and the C1001's answer of 13 a minute, byte by byte.
BREATH_QUERY = bytes.fromhex("53 59 81 82 00 01 0F BF 54 43")
ANSWER_13 = bytes.fromhex("53 59 81 82 00 01 0D BD 54 43")


def exchange(tmp_path: Path, quiet: bool, sent: list[bytes]) -> tuple[bytes, dict[str, int]]:
    quiet_file = tmp_path / "radar-quiet"
    if quiet:
        quiet_file.touch()
    qemu, ours = socket.socketpair()
    for chunk in sent:
        qemu.sendall(chunk)
    qemu.shutdown(socket.SHUT_WR)  # QEMU went: serve returns
    counts = {"bytes_in": 0, "replies": 0, "held_back": 0}
    with ours:
        radar.serve(ours, C1001Answers(13.0), quiet_file, counts)
    with qemu:
        qemu.settimeout(1.0)
        received = b""
        while chunk := qemu.recv(4096):
            received += chunk
    return received, counts


def test_a_query_is_answered_with_the_rate(tmp_path: Path) -> None:
    received, counts = exchange(tmp_path, quiet=False, sent=[BREATH_QUERY])
    assert received == ANSWER_13
    assert counts == {"bytes_in": 10, "replies": 1, "held_back": 0}


def test_a_query_sent_in_two_pieces_is_answered_once(tmp_path: Path) -> None:
    received, counts = exchange(tmp_path, quiet=False, sent=[BREATH_QUERY[:4], BREATH_QUERY[4:]])
    assert received == ANSWER_13
    assert counts["replies"] == 1


def test_a_quiet_module_answers_nothing(tmp_path: Path) -> None:
    received, counts = exchange(tmp_path, quiet=True, sent=[BREATH_QUERY, BREATH_QUERY])
    assert received == b""
    assert counts["held_back"] >= 1 and counts["replies"] == 0
