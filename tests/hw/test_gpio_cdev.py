"""hw/gpio_cdev.py off-device: the uAPI v2 structures byte by byte, event parsing, the watcher.

On a kernel GPIO chip (gpio-sim) the whole path runs in the VM test (tests/vm).
"""

from __future__ import annotations

import os
import struct
from datetime import UTC, datetime

import pytest

from breathring.clock import FakeClock
from breathring.gestures import DOWN, UP, ButtonEvent
from breathring.hw import HardwareMisconfigured, gpio_cdev
from breathring.hw.gpio_cdev import (
    GET_LINE_IOCTL,
    GET_VALUES_IOCTL,
    REQUEST_SIZE,
    CdevButton,
    chip_for,
    line_request,
    parse_events,
    request_fd,
)

#: <linux/gpio.h>: sizeof(struct gpio_v2_line_request) and the two ioctl numbers.
KERNEL_REQUEST_SIZE = 592
KERNEL_GET_LINE = 0xC250B407
KERNEL_GET_VALUES = 0xC010B40E


def test_the_structures_match_the_kernel_abi():
    assert REQUEST_SIZE == KERNEL_REQUEST_SIZE
    assert GET_LINE_IOCTL == KERNEL_GET_LINE
    assert GET_VALUES_IOCTL == KERNEL_GET_VALUES


def test_a_line_request_for_gpio17_with_pull_up_both_edges_and_debounce():
    buf = line_request(17, "breathring", 30_000)
    assert len(buf) == 592
    assert struct.unpack_from("<I", buf, 0)[0] == 17  # offsets[0]
    assert bytes(buf[256:266]) == b"breathring" and buf[266] == 0  # consumer
    # config.flags: INPUT (1<<2) | EDGE_RISING (1<<4) | EDGE_FALLING (1<<5) | PULL_UP (1<<8)
    assert struct.unpack_from("<Q", buf, 288)[0] == 0x134
    assert struct.unpack_from("<I", buf, 296)[0] == 1  # num_attrs
    # attrs[0]: id DEBOUNCE (3), the period in microseconds, mask: line 0
    assert struct.unpack_from("<IIQQ", buf, 320) == (3, 0, 30_000, 1)
    assert struct.unpack_from("<I", buf, 560)[0] == 1  # num_lines
    assert struct.unpack_from("<i", buf, 588)[0] == -1 and request_fd(buf) == -1
    no_bounce = line_request(17, "breathring", 0)
    assert struct.unpack_from("<I", no_bounce, 296)[0] == 0


def test_edge_events_are_parsed_whole():
    event = struct.Struct("<QIIII6I")
    data = event.pack(1_000, 2, 17, 1, 1, *[0] * 6) + event.pack(2_000, 1, 17, 2, 2, *[0] * 6)
    assert parse_events(data) == [(1_000, 2), (2_000, 1)]
    assert parse_events(data[:60]) == [(1_000, 2)]  # a torn second event is not one


def test_the_chip_is_gpiochip4_only_on_a_pi5_that_has_it(tmp_path):
    assert chip_for("Raspberry Pi 4 Model B Rev 1.5", None, tmp_path) == tmp_path / "gpiochip0"
    assert chip_for("Raspberry Pi 5 Model B Rev 1.0", None, tmp_path) == tmp_path / "gpiochip0"
    (tmp_path / "gpiochip4").touch()
    assert chip_for("Raspberry Pi 5 Model B Rev 1.0", None, tmp_path) == tmp_path / "gpiochip4"
    assert chip_for(None, 0xC04170, tmp_path) == tmp_path / "gpiochip4"  # a Pi 5 revision
    assert chip_for(None, 0xA02082, tmp_path) == tmp_path / "gpiochip0"


class PipeLine:
    """A stand-in for CdevLine: edge events come through a pipe."""

    def __init__(self, chip, offset, debounce_us, consumer):
        self.args = (chip, offset, debounce_us, consumer)
        self.fd, self.feed = os.pipe()
        self.closed = False

    def value(self) -> int:
        return 1

    def read_events(self):
        return parse_events(os.read(self.fd, 48 * 16))

    def close(self) -> None:
        self.closed = True
        os.close(self.fd)
        os.close(self.feed)


def test_the_watcher_turns_falling_and_rising_edges_into_down_and_up(monkeypatch):
    monkeypatch.setattr(gpio_cdev, "CdevLine", PipeLine)
    clock = FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    button = CdevButton(gpio_cdev.Path("/dev/gpiochip0"), 17, 0.03, clock)
    line = button._line
    assert line.args == (gpio_cdev.Path("/dev/gpiochip0"), 17, 30_000, "breathring")
    event = struct.Struct("<QIIII6I")
    os.write(line.feed, event.pack(1, 2, 17, 1, 1, *[0] * 6) + event.pack(2, 1, 17, 2, 2, *[0] * 6))
    got = [button.events.get(timeout=5), button.events.get(timeout=5)]
    assert got == [ButtonEvent(DOWN, clock.monotonic()), ButtonEvent(UP, clock.monotonic())]
    assert not button.is_pressed  # the line reads 1: pulled up, not pressed
    button.close()
    assert line.closed and not button._thread.is_alive()


def test_a_missing_chip_is_unavailable_with_the_fix(tmp_path):
    clock = FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    with pytest.raises(gpio_cdev.HardwareUnavailable, match="user is in group gpio"):
        CdevButton(tmp_path / "gpiochip0", 17, 0.03, clock)


class KernelLineValues:
    """Stands in for the kernel's GPIO_V2_LINE_GET_VALUES_IOCTL on one requested line.

    The kernel reads `mask` (the lines asked for) and writes their levels into `bits`,
    leaving `mask` as it was: struct gpio_v2_line_values { u64 bits; u64 mask; }.
    """

    def __init__(self, fd: int, bits: int) -> None:
        self.fd, self.bits = fd, bits
        self.masks: list[int] = []

    def ioctl(self, fd: int, request: int, buf: bytearray) -> int:
        assert (fd, request, len(buf)) == (self.fd, KERNEL_GET_VALUES, 16)
        _bits, mask = struct.unpack("<QQ", buf)
        self.masks.append(mask)
        struct.pack_into("<QQ", buf, 0, self.bits & mask, mask)
        return 0


@pytest.mark.parametrize(
    ("bits", "level", "pressed"),
    [(0b0, 0, True), (0b1, 1, False), (0b10, 0, True), (0b11, 1, False)],
)
def test_the_line_level_is_read_from_the_bits_not_the_mask(monkeypatch, bits, level, pressed):
    kernel = KernelLineValues(fd=42, bits=bits)
    monkeypatch.setattr(gpio_cdev.fcntl, "ioctl", kernel.ioctl)
    line = object.__new__(gpio_cdev.CdevLine)
    line.fd = 42
    assert line.value() == level
    assert kernel.masks == [1]  # only the first (only) line of the request is asked for
    button = object.__new__(CdevButton)
    button._line = line
    assert button.is_pressed is pressed


# -- written-down values (mutation testing: the ioctl numbers are worked out at import) -----


def test_the_ioctl_numbers_are_worked_out_as_the_kernel_does():
    assert gpio_cdev._iowr(0x07, 592) == KERNEL_GET_LINE
    assert gpio_cdev._iowr(0x0E, 16) == KERNEL_GET_VALUES


def test_the_request_is_zero_apart_from_what_is_set_and_the_name_is_cut():
    buf = line_request(5, "x" * 40, 0)
    assert bytes(buf[256:287]) == b"x" * 31 and buf[287] == 0  # 31 bytes and a NUL
    assert struct.unpack_from("<Q", buf, 288)[0] == 0x134
    untouched = bytes(buf[4:256]) + bytes(buf[300:560]) + bytes(buf[564:588])
    assert untouched == bytes(len(untouched))
    with pytest.raises(ValueError, match="line offset -1 out of range"):
        line_request(-1, "breathring", 0)


class FakeChip:
    """os.open and fcntl.ioctl of a GPIO chip: the line request gets fd 77, or an errno."""

    def __init__(self, errno: int | None = None) -> None:
        self.errno = errno
        self.closed: list[int] = []
        self.requests: list[tuple[int, int]] = []

    def open(self, path, flags):
        assert flags & os.O_RDWR
        return 55

    def ioctl(self, fd, request, buf):
        self.requests.append((fd, request))
        if self.errno is not None:
            raise OSError(self.errno, os.strerror(self.errno))
        struct.pack_into("<i", buf, 588, 77)
        return 0

    def close(self, fd):
        self.closed.append(fd)


def test_a_line_is_requested_on_the_chip_and_the_chip_closed(monkeypatch):
    chip = FakeChip()
    monkeypatch.setattr(gpio_cdev.os, "open", chip.open)
    monkeypatch.setattr(gpio_cdev.os, "close", chip.close)
    monkeypatch.setattr(gpio_cdev.fcntl, "ioctl", chip.ioctl)
    line = gpio_cdev.CdevLine(gpio_cdev.Path("/dev/gpiochip0"), 17, 30_000, "breathring")
    assert line.fd == 77
    assert chip.requests == [(55, KERNEL_GET_LINE)] and chip.closed == [55]
    line.close()
    assert chip.closed == [55, 77]


@pytest.mark.parametrize(
    ("errno", "error", "message"),
    [
        (16, HardwareMisconfigured, "button.pin = GPIO17 is already in use"),
        (13, gpio_cdev.HardwareUnavailable, "cannot request GPIO17 on /dev/gpiochip0"),
    ],
)
def test_a_line_that_cannot_be_had_names_the_pin(monkeypatch, errno, error, message):
    chip = FakeChip(errno)
    monkeypatch.setattr(gpio_cdev.os, "open", chip.open)
    monkeypatch.setattr(gpio_cdev.os, "close", chip.close)
    monkeypatch.setattr(gpio_cdev.fcntl, "ioctl", chip.ioctl)
    with pytest.raises(error, match=message):
        gpio_cdev.CdevLine(gpio_cdev.Path("/dev/gpiochip0"), 17, 30_000, "breathring")
    assert chip.closed == [55]


def test_read_events_reads_sixteen_events_at_most(monkeypatch):
    reads: list[tuple[int, int]] = []
    event = struct.pack("<QIIII6I", 7, 2, 17, 1, 1, *[0] * 6)

    def read(fd, size):
        reads.append((fd, size))
        return event

    monkeypatch.setattr(gpio_cdev.os, "read", read)
    line = object.__new__(gpio_cdev.CdevLine)
    line.fd = 9
    assert line.read_events() == [(7, 2)]
    assert reads == [(9, 48 * 16)]


# -- written-down values (mutation testing: the button's thread, debounce and messages) -----


def test_line_zero_and_the_largest_u32_offset_are_packed_as_the_kernel_reads_them():
    """offsets[] is a __u32 array: GPIO0 is a line like any other."""
    assert struct.unpack_from("<I", line_request(0, "breathring", 0), 0)[0] == 0
    assert bytes(line_request(0xFFFFFFFF, "breathring", 0)[:4]) == b"\xff\xff\xff\xff"


def test_a_debounce_of_one_microsecond_is_still_asked_for():
    buf = line_request(17, "breathring", 1)
    assert struct.unpack_from("<I", buf, 296)[0] == 1  # num_attrs
    assert struct.unpack_from("<IIQQ", buf, 320) == (3, 0, 1, 1)


@pytest.mark.parametrize(
    ("bounce_seconds", "debounce_us"), [(None, 0), (0.0, 0), (0.03, 30_000), (1.0, 1_000_000)]
)
def test_the_button_asks_the_kernel_for_its_bounce_time_in_microseconds(
    monkeypatch, bounce_seconds, debounce_us
):
    monkeypatch.setattr(gpio_cdev, "CdevLine", PipeLine)
    clock = FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    button = CdevButton(gpio_cdev.Path("/dev/gpiochip0"), 17, bounce_seconds, clock)
    try:
        assert button._line.args[2] == debounce_us
    finally:
        button.close()


class JoinRecorder:
    """Wraps the watcher thread and records the time limit close() gives its join."""

    def __init__(self, thread) -> None:
        self.thread = thread
        self.timeouts: list[float | None] = []

    def join(self, timeout=None) -> None:
        self.timeouts.append(timeout)
        self.thread.join(timeout)


def test_the_watcher_is_a_named_daemon_thread_that_close_waits_a_second_for(monkeypatch):
    """A daemon, so a stuck watcher never keeps the service from exiting; close() gives it
    one second (observed, not waited out)."""
    monkeypatch.setattr(gpio_cdev, "CdevLine", PipeLine)
    clock = FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    button = CdevButton(gpio_cdev.Path("/dev/gpiochip0"), 17, 0.03, clock)
    thread = button._thread
    assert (thread.name, thread.daemon) == ("breathring-button", True)
    recorder = JoinRecorder(thread)
    button._thread = recorder
    button.close()
    assert recorder.timeouts == [1.0]
    assert not thread.is_alive()


def test_a_missing_chip_is_named_word_for_word(tmp_path):
    chip = tmp_path / "gpiochip0"
    with pytest.raises(gpio_cdev.HardwareUnavailable) as caught:
        gpio_cdev.CdevLine(chip, 17, 30_000, "breathring")
    assert str(caught.value) == (
        f"cannot open {chip} for the button: No such file or directory; check that a GPIO "
        "chip exists and that the user is in group gpio"
    )


@pytest.mark.parametrize(
    ("errno", "offset", "message"),
    [
        (
            16,
            5,
            "button.pin = GPIO5 is already in use (by the ring or another device); "
            "choose another pin, e.g. GPIO17",
        ),
        (13, 17, "cannot request GPIO17 on /dev/gpiochip0: Permission denied"),
    ],
)
def test_a_line_that_cannot_be_had_is_named_word_for_word(monkeypatch, errno, offset, message):
    chip = FakeChip(errno)
    monkeypatch.setattr(gpio_cdev.os, "open", chip.open)
    monkeypatch.setattr(gpio_cdev.os, "close", chip.close)
    monkeypatch.setattr(gpio_cdev.fcntl, "ioctl", chip.ioctl)
    with pytest.raises(gpio_cdev.HardwareUnavailable) as caught:
        gpio_cdev.CdevLine(gpio_cdev.Path("/dev/gpiochip0"), offset, 30_000, "breathring")
    assert str(caught.value) == message


def test_a_busy_gpio17_is_not_told_to_choose_gpio17(monkeypatch):
    """GPIO17 is the default button.pin: when it is the one in use, another pin is named."""
    chip = FakeChip(16)
    monkeypatch.setattr(gpio_cdev.os, "open", chip.open)
    monkeypatch.setattr(gpio_cdev.os, "close", chip.close)
    monkeypatch.setattr(gpio_cdev.fcntl, "ioctl", chip.ioctl)
    with pytest.raises(HardwareMisconfigured) as caught:
        gpio_cdev.CdevLine(gpio_cdev.Path("/dev/gpiochip0"), 17, 30_000, "breathring")
    assert str(caught.value) == (
        "button.pin = GPIO17 is already in use (by the ring or another device); "
        "choose another pin, e.g. GPIO27"
    )
