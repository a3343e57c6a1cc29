"""A serial port opened with termios alone: raw bytes at a given baud rate, 8N1, no flow control.

No pyserial: the reader needs open, read, write and close on one file descriptor, and the
standard library's termios does the rest. The descriptor is non-blocking; the reader waits on it
with select().
"""

from __future__ import annotations

import os
import termios

#: Baud rates termios knows (the ones `[breath_sensor] baud` allows).
BAUD_CONSTANTS: dict[int, int] = {
    rate: getattr(termios, f"B{rate}")
    for rate in (9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600)
    if hasattr(termios, f"B{rate}")
}
# termios.tcgetattr's list: iflag, oflag, cflag, lflag, ispeed, ospeed, cc.
IFLAG, OFLAG, CFLAG, LFLAG, ISPEED, OSPEED, CC = range(7)


def open_port(path: str, baud: int) -> int:
    """The open, raw, non-blocking descriptor of the serial device `path` at `baud`.

    OSError as os.open and termios raise it (ENOENT: no such device; EACCES: no permission;
    ENOTTY: not a serial device); ValueError for a baud rate termios does not know.
    """
    speed = BAUD_CONSTANTS.get(baud)
    if speed is None:
        raise ValueError(f"baud {baud} is not one of {', '.join(map(str, BAUD_CONSTANTS))}")
    fd = os.open(path, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        configure_raw(fd, speed)
    except termios.error as exc:
        os.close(fd)
        errno, text = exc.args if len(exc.args) == 2 else (0, str(exc))
        raise OSError(errno, f"{text} (not a serial device?)", path) from None
    except BaseException:
        os.close(fd)
        raise
    return fd


def configure_raw(fd: int, speed: int) -> None:
    """Raw mode (no echo, no line editing, no translation), 8N1, receiver on, no modem lines."""
    attrs = termios.tcgetattr(fd)
    attrs[IFLAG] &= ~(
        termios.IGNBRK
        | termios.BRKINT
        | termios.PARMRK
        | termios.ISTRIP
        | termios.INLCR
        | termios.IGNCR
        | termios.ICRNL
        | termios.IXON
        | termios.IXOFF
        | termios.IXANY
    )
    attrs[OFLAG] &= ~termios.OPOST
    attrs[LFLAG] &= ~(
        termios.ECHO | termios.ECHONL | termios.ICANON | termios.ISIG | termios.IEXTEN
    )
    no_flow = getattr(termios, "CRTSCTS", 0)
    attrs[CFLAG] &= ~(termios.CSIZE | termios.PARENB | termios.CSTOPB | no_flow)
    attrs[CFLAG] |= termios.CS8 | termios.CREAD | termios.CLOCAL
    attrs[ISPEED] = attrs[OSPEED] = speed
    attrs[CC][termios.VMIN] = 0
    attrs[CC][termios.VTIME] = 0
    termios.tcsetattr(fd, termios.TCSANOW, attrs)
    termios.tcflush(fd, termios.TCIFLUSH)
