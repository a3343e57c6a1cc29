"""Run as the service (systemd-run with the unit's settings): what may it do? JSON on stdout."""

import glob
import json
import os
import socket
import stat
from collections.abc import Callable

#: Device nodes the unit allows (DeviceAllow=char-spi, char-gpiochip, char-alsa).
ALLOWED_GLOBS = ("/dev/gpiochip*", "/dev/snd/*", "/dev/spidev*")
#: Device nodes it must not open (DevicePolicy=closed, and root-only ones).
DENIED = ("/dev/vda", "/dev/mem", "/dev/tty0", "/dev/kmsg")


def _fails(action: Callable[[], object]) -> bool:
    try:
        action()
    except OSError:
        return True
    return False


def _write(path: str) -> None:
    with open(path, "w") as f:
        f.write("x")


def _opens(path: str) -> bool:
    try:
        fd = os.open(path, os.O_RDWR | os.O_NONBLOCK)
    except OSError:
        return False
    os.close(fd)
    return True


def _char_devices(patterns: tuple[str, ...]) -> list[str]:
    found = [p for pattern in patterns for p in glob.glob(pattern)]
    return sorted(p for p in found if stat.S_ISCHR(os.stat(p).st_mode))


def _home_invisible() -> bool:
    if not _fails(lambda: os.listdir("/root")):
        return False
    if not os.path.isdir("/home"):
        return True
    return _fails(lambda: os.listdir("/home")) or not os.listdir("/home")


def main() -> None:
    checks = {
        "inet_socket_denied": _fails(lambda: socket.socket(socket.AF_INET, socket.SOCK_STREAM)),
        "inet6_socket_denied": _fails(lambda: socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)),
        "etc_write_denied": _fails(lambda: _write("/etc/breathring-probe")),
        "usr_write_denied": _fails(lambda: _write("/usr/lib/breathring-probe")),
        "home_invisible": _home_invisible(),
    }
    opened = {p: _opens(p) for p in _char_devices(ALLOWED_GLOBS)}
    denied = {p: not _opens(p) for p in DENIED if os.path.exists(p)}
    checks["allowed_devices_open"] = bool(opened) and all(opened.values())
    checks["other_devices_denied"] = all(denied.values())
    report = {"ok": all(checks.values()), "checks": checks, "opened": opened, "denied": denied}
    print(json.dumps(report))


main()
