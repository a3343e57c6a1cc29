"""`breathring check`'s breath sensor row (a reading within N s, or why not); the console row."""

from __future__ import annotations

import errno
import io
import os

from testkit.process import run_cli
from testkit.radar_frames import (
    C1001_14,
    C1001_14_BAD_SUM,
    C1001_MODE_SLEEP,
    C1001_QUERY_MODE,
    C1001_QUERY_RATE,
)

from breathring.clock import SystemClock
from breathring.config import parse_config
from breathring.hw.breath_sensor import make_reader
from breathring.hw.breath_sensor.check import check_sensor, console_on_uart
from breathring.selftest import check_breath_sensor

#: How long these checks wait for a reading (a failing one waits all of it).
WAIT_S = 1.0
NO_CONSOLE = "coherent_pool=1M 8250.nr_uarts=1 console=tty1 root=PARTUUID=1-02 rootwait"


def sensor(kind: str, device: str):
    return parse_config(f'[breath_sensor]\nkind = "{kind}"\ndevice = "{device}"\n').breath_sensor


def rows(kind: str, device: str, cmdline: str = NO_CONSOLE) -> dict[str, tuple[bool, str]]:
    cfg = parse_config(f'[breath_sensor]\nkind = "{kind}"\ndevice = "{device}"\n')
    results = check_breath_sensor(cfg, SystemClock(), io.StringIO(), WAIT_S, cmdline)
    return {r.item: (r.ok, r.detail) for r in results}


def test_without_a_sensor_the_row_says_not_configured() -> None:
    assert rows("none", "/dev/serial0") == {
        "breath sensor": (True, 'not configured ([breath_sensor] kind = "none")')
    }


def test_a_c1001_that_answers_passes_with_its_rate(module) -> None:
    module.answers = {C1001_QUERY_MODE: C1001_MODE_SLEEP, C1001_QUERY_RATE: C1001_14}
    ok, detail = rows("c1001", module.path)["breath sensor"]
    assert ok, detail
    assert detail.startswith(f"14 breaths a minute from {module.path} after ")


def test_a_missing_device_is_named(tmp_path) -> None:
    ok, detail = rows("c1001", str(tmp_path / "ttyAMA9"))["breath sensor"]
    assert not ok
    assert detail.startswith(f"no {tmp_path / 'ttyAMA9'}: ") and "enable_uart=1" in detail


def test_no_permission_is_named() -> None:
    def denied(path: str, baud: int) -> int:
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), path)

    def make(settings, deliver, clock):
        return make_reader(settings, deliver, clock, opener=denied)

    ok, detail = check_sensor(sensor("mr60bha2", "/dev/serial0"), SystemClock(), WAIT_S, make)
    assert not ok
    assert detail == "no permission to open /dev/serial0: add the user to the dialout group"


def test_a_silent_module_is_told_apart_from_bad_checksums(module) -> None:
    module.silent = True
    ok, detail = rows("c1001", module.path)["breath sensor"]
    assert not ok and detail.startswith(f"not a byte from {module.path} in 1 s")
    module.silent = False
    module.answers = {C1001_QUERY_MODE: C1001_14_BAD_SUM, C1001_QUERY_RATE: C1001_14_BAD_SUM}
    ok, detail = rows("c1001", module.path)["breath sensor"]
    assert not ok and "frames with bad checksums and none good" in detail, detail


def test_a_serial_console_on_the_radars_uart_gets_a_row(module) -> None:
    module.answers = {C1001_QUERY_MODE: C1001_MODE_SLEEP, C1001_QUERY_RATE: C1001_14}
    console = "console=" + os.ttyname(module.slave).removeprefix("/dev/") + ",115200"
    table = rows("c1001", module.path, f"{console} console=tty1 rootwait")
    ok, detail = table["serial console"]
    assert not ok and detail.startswith(f"{console} in the kernel command line holds")
    assert "serial console" not in rows("c1001", module.path)


def test_the_console_is_found_through_the_serial0_alias() -> None:
    aliases = {"/dev/serial0": "/dev/ttyAMA0", "/dev/ttyAMA0": "/dev/ttyAMA0"}

    def resolve(path: str) -> str:
        return aliases.get(path, path)

    line = "console=ttyAMA0,115200 console=tty1"
    assert console_on_uart(line, "/dev/serial0", resolve) == "console=ttyAMA0,115200"
    assert console_on_uart("console=serial0,115200", "/dev/serial0", resolve)
    assert console_on_uart(NO_CONSOLE, "/dev/serial0", resolve) is None
    assert console_on_uart("console=ttyS0,115200", "/dev/serial0", resolve) is None


def test_breathring_check_prints_the_sensor_row(module, tmp_path) -> None:
    module.answers = {C1001_QUERY_MODE: C1001_MODE_SLEEP, C1001_QUERY_RATE: C1001_14}
    config = tmp_path / "config.toml"
    config.write_text(  # reminders off: the clock row passes on an unsynchronised machine
        f'[breath_sensor]\nkind = "c1001"\ndevice = "{module.path}"\n[reminder]\nenabled = false\n'
    )
    result = run_cli(
        "check", "--hardware", "mock", "--config", str(config), "--sensor-timeout", "5"
    )
    assert result.returncode == 0, result.stdout + result.stderr
    (row,) = [line for line in result.stdout.splitlines() if "breath sensor " in line]
    assert row.split()[:2] == ["breath", "sensor"]
    assert f"PASS  14 breaths a minute from {module.path} after " in row
