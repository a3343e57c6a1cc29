"""The device's own commands of the `breathring` command line: check, run, boot-config.

`run` is the systemd service; `check` self-tests the wired ring, audio and
button; `boot-config` checks (or fixes) the Pi's boot files for the ring.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass

from .breath_rate import SENSOR_WAIT_S
from .cli_common import add_config_arg, add_hardware_arg, load_args_config, time_arg
from .exitcodes import EXIT_UNAVAILABLE

log = logging.getLogger("breathring")


def add_device_parsers(sub) -> None:
    """check, run, boot-config: the subcommands that run the device itself."""
    p = sub.add_parser(
        "check",
        help="self-test a freshly wired device: ring, audio, button, breath sensor",
        description="Lights each pixel in turn in red, green and blue (a wrong colour order shows "
        "as wrong colours), plays every cue, then waits up to 30 s for a press and a hold; with a "
        "serial breath sensor, up to --sensor-timeout for a reading. "
        "Prints a pass/fail table; exit 0 only if everything passed.",
    )
    add_config_arg(p)
    add_hardware_arg(
        p,
        "auto (default) and pi: the Pi's hardware, else exit 69; mock: the self-test on "
        "simulated hardware (it presses its own button, so it proves nothing about wiring)",
    )
    p.add_argument(
        "--button-timeout",
        type=time_arg,
        default=30.0,
        metavar="S",
        help="how long to wait for the press and the hold (default 30)",
    )
    p.add_argument(
        "--sensor-timeout",
        type=time_arg,
        default=SENSOR_WAIT_S,
        metavar="S",
        help="a serial breath sensor ([breath_sensor] kind mr60bha2 or c1001): how long to "
        f"wait for a reading (default {SENSOR_WAIT_S:g})",
    )

    p = sub.add_parser(
        "run",
        help="run the device (the systemd service)",
        description="The headless service: waits for the button, the control socket and the "
        "hourly schedule; LEDs off at start and on exit. SIGTERM/SIGINT: fade out and exit 0; "
        "SIGHUP: reload the configuration (a bad file keeps the old one).",
    )
    add_config_arg(p)
    add_hardware_arg(p)
    p.add_argument(
        "--socket",
        metavar="PATH",
        help="control socket (default: "
        "$RUNTIME_DIRECTORY/control.sock, else /run/breathring/control.sock)",
    )

    p = sub.add_parser(
        "boot-config",
        help="check (or --fix) the Pi's boot files for the ring's SPI timing",
        description="Names what /boot/firmware/config.txt and cmdline.txt lack for the ring "
        "on SPI (core_freq for the model, dtparam=spi=on, spidev.bufsiz for long rings); "
        "--fix writes it (a backup first, idempotent) and says a reboot is due. "
        "Exit 0 all set or fixed, 1 something missing, 69 not a Pi / no such file.",
    )
    add_config_arg(p)
    from .hw.boot_config import add_arguments as add_boot_config_arguments

    add_boot_config_arguments(p)


@dataclass
class ProcessEnd:
    """How the `breathring` process ends (see entry())."""

    #: `run` stopped in order: ring dark, sound, socket and history closed, threads joined.
    stopped_in_order: bool = False


PROCESS_END = ProcessEnd()


def cmd_run(args: argparse.Namespace) -> int:
    from .hw import HardwareUnavailable
    from .service import run

    try:
        code = run(args.config, args.hardware, args.socket)
    except HardwareUnavailable as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_UNAVAILABLE)
    PROCESS_END.stopped_in_order = True
    return code


def cmd_check(args: argparse.Namespace) -> int:
    from .clock import SystemClock
    from .hw import HardwareUnavailable
    from .hw.selection import open_hardware
    from .selftest import run_check

    cfg = load_args_config(args)
    clock = SystemClock()
    # A self-test of the wiring never passes on mocks unless they were asked for.
    mode = "pi" if args.hardware == "auto" else args.hardware
    try:
        hardware = open_hardware(cfg, mode, clock, log)
    except HardwareUnavailable as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_UNAVAILABLE)
    try:
        return run_check(cfg, hardware, clock, sys.stdout, args.button_timeout, args.sensor_timeout)
    finally:
        hardware.close()


def cmd_boot_config(args: argparse.Namespace) -> int:
    from .hw.boot_config import run as run_boot_config

    return run_boot_config(args, load_args_config(args).ring)
