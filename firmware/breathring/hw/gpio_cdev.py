"""The button on the kernel's GPIO character device (uAPI v2), read without polling.

lgpio (gpiozero's default on a Pi) watches edges with a thread that wakes every
0.5 ms (ppoll with a 0.5 ms timeout), 2000 times a second for as long as the
service runs: measured in the test VM, a fifth of a CPU, more than the audio
thread and close to the 100 fps frame loop. Here one thread blocks in poll()
on the line's file descriptor until the kernel reports an edge; the kernel
also does the debouncing (the line's debounce attribute). Idle, it never wakes.

The packing of the ioctl structures and the parsing of edge events are pure
functions (tested off-device); only CdevLine and CdevButton touch /dev.
"""

from __future__ import annotations

import fcntl
import os
import queue
import select
import struct
import threading
from pathlib import Path

from ..clock import Clock
from ..gestures import DOWN, UP, ButtonEvent
from . import HardwareUnavailable, pin_in_use

# <linux/gpio.h>, uAPI v2.
GPIO_MAX_LINES = 64
MAX_ATTRS = 10
CONSUMER_SIZE = 32
FLAG_INPUT = 1 << 2
FLAG_EDGE_RISING = 1 << 4
FLAG_EDGE_FALLING = 1 << 5
FLAG_BIAS_PULL_UP = 1 << 8
ATTR_ID_DEBOUNCE = 3
EVENT_RISING_EDGE = 1
EVENT_FALLING_EDGE = 2
#: struct gpio_v2_line_attribute + mask (gpio_v2_line_config_attribute): id, pad, value, mask.
_CONFIG_ATTR = struct.Struct("=IIQQ")
#: struct gpio_v2_line_config: flags, num_attrs, padding[5] (then the attributes).
_CONFIG_HEAD = struct.Struct("=QI5I")
CONFIG_SIZE = _CONFIG_HEAD.size + MAX_ATTRS * _CONFIG_ATTR.size
#: struct gpio_v2_line_request: offsets, consumer, config, num_lines, event_buffer_size,
#: padding[5], fd.
REQUEST_SIZE = 4 * GPIO_MAX_LINES + CONSUMER_SIZE + CONFIG_SIZE + 4 + 4 + 20 + 4
_REQUEST_TAIL = struct.Struct("=II5Ii")
#: struct gpio_v2_line_event: timestamp_ns, id, offset, seqno, line_seqno, padding[6].
EVENT = struct.Struct("=QIIII6I")
#: struct gpio_v2_line_values: bits, mask.
_VALUES = struct.Struct("=QQ")


def _iowr(nr: int, size: int) -> int:
    """_IOWR(0xB4, nr, size) of <linux/gpio.h>."""
    return (3 << 30) | (size << 16) | (0xB4 << 8) | nr


GET_LINE_IOCTL = _iowr(0x07, REQUEST_SIZE)
GET_VALUES_IOCTL = _iowr(0x0E, _VALUES.size)
#: Edge events read at once (the kernel queues up to 16 per line by default).
EVENTS_PER_READ = 16
#: The line's file descriptor offset in struct gpio_v2_line_request.
_FD_OFFSET = REQUEST_SIZE - 4


def line_request(offset: int, consumer: str, debounce_us: int) -> bytearray:
    """A gpio_v2_line_request for one input line with pull-up, both edges and debounce."""
    if offset < 0:
        raise ValueError(f"line offset {offset} out of range")
    buf = bytearray(REQUEST_SIZE)
    struct.pack_into("=I", buf, 0, offset)
    name = consumer.encode()[: CONSUMER_SIZE - 1]
    buf[4 * GPIO_MAX_LINES : 4 * GPIO_MAX_LINES + len(name)] = name
    config_at = 4 * GPIO_MAX_LINES + CONSUMER_SIZE
    flags = FLAG_INPUT | FLAG_BIAS_PULL_UP | FLAG_EDGE_RISING | FLAG_EDGE_FALLING
    attrs = 1 if debounce_us > 0 else 0
    _CONFIG_HEAD.pack_into(buf, config_at, flags, attrs, 0, 0, 0, 0, 0)
    if attrs:
        # The attribute applies to the lines in its mask: bit 0 = the first (only) line.
        _CONFIG_ATTR.pack_into(
            buf, config_at + _CONFIG_HEAD.size, ATTR_ID_DEBOUNCE, 0, debounce_us, 1
        )
    _REQUEST_TAIL.pack_into(buf, config_at + CONFIG_SIZE, 1, 0, 0, 0, 0, 0, 0, -1)
    return buf


def request_fd(buf: bytes | bytearray) -> int:
    """The line's file descriptor the kernel wrote into a gpio_v2_line_request."""
    return int(struct.unpack_from("=i", buf, _FD_OFFSET)[0])


def parse_events(data: bytes) -> list[tuple[int, int]]:
    """(timestamp_ns, id) of each whole gpio_v2_line_event in `data`."""
    whole = len(data) - len(data) % EVENT.size
    return [(ts, kind) for ts, kind, *_ in EVENT.iter_unpack(data[:whole])]


class CdevLine:
    """One input line of a GPIO chip, requested with pull-up, both edges and debounce."""

    def __init__(self, chip: Path, offset: int, debounce_us: int, consumer: str) -> None:
        try:
            chip_fd = os.open(chip, os.O_RDWR | os.O_CLOEXEC)
        except OSError as error:
            raise HardwareUnavailable(
                f"cannot open {chip} for the button: {error.strerror}; check that a GPIO "
                "chip exists and that the user is in group gpio"
            ) from error
        try:
            buf = line_request(offset, consumer, debounce_us)
            fcntl.ioctl(chip_fd, GET_LINE_IOCTL, buf)
        except OSError as error:
            if error.errno == 16:  # EBUSY
                raise pin_in_use(f"GPIO{offset}") from error
            raise HardwareUnavailable(
                f"cannot request GPIO{offset} on {chip}: {error.strerror}"
            ) from error
        finally:
            os.close(chip_fd)
        self.fd = request_fd(buf)

    def value(self) -> int:
        """The line's level now (0 or 1)."""
        buf = bytearray(_VALUES.pack(0, 1))
        fcntl.ioctl(self.fd, GET_VALUES_IOCTL, buf)
        return _VALUES.unpack(buf)[0] & 1

    def read_events(self) -> list[tuple[int, int]]:
        return parse_events(os.read(self.fd, EVENT.size * EVENTS_PER_READ))

    def close(self) -> None:
        os.close(self.fd)


class CdevButton:
    """A button between a GPIO line and ground (pull-up on): falling = down, rising = up."""

    def __init__(self, chip: Path, offset: int, bounce_seconds: float | None, clock: Clock) -> None:
        self.clock = clock
        self.events: queue.SimpleQueue[ButtonEvent] = queue.SimpleQueue()
        self._line = CdevLine(chip, offset, round((bounce_seconds or 0) * 1e6), "breathring")
        self._wake_r, self._wake_w = os.pipe2(os.O_CLOEXEC)
        self._thread = threading.Thread(target=self._watch, name="breathring-button", daemon=True)
        self._thread.start()

    @property
    def is_pressed(self) -> bool:
        return self._line.value() == 0

    def _watch(self) -> None:
        poller = select.poll()
        poller.register(self._line.fd, select.POLLIN)
        poller.register(self._wake_r, select.POLLIN)
        while True:
            ready = {fd for fd, _ in poller.poll()}
            if self._wake_r in ready:
                return
            try:
                edges = self._line.read_events()
            except OSError:
                return
            for _ts, kind in edges:
                edge = DOWN if kind == EVENT_FALLING_EDGE else UP
                self.events.put(ButtonEvent(edge, self.clock.monotonic()))

    def close(self) -> None:
        os.write(self._wake_w, b"x")
        self._thread.join(1.0)
        self._line.close()
        os.close(self._wake_r)
        os.close(self._wake_w)


def chip_for(model: str | None, revision: int | None, dev: Path = Path("/dev")) -> Path:
    """The GPIO chip of the header pins: gpiochip4 on a Pi 5 that has it, else gpiochip0."""
    pi5 = (model or "").find("Raspberry Pi 5") >= 0 or (
        revision is not None and (revision & 0xFF0) >> 4 == 0x17
    )
    if pi5 and (dev / "gpiochip4").exists():
        return dev / "gpiochip4"
    return dev / "gpiochip0"
