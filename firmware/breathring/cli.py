"""`breathring` command line: subcommands and exit codes.

Each exit code means one thing (see EPILOG): 0 done, 1 refused (the service
refused the request, or a self-test item failed), 2 usage (a bad command-line
value), 69 unavailable (hardware, or the service is not running), 73 cannot
create an output file (EX_CANTCREAT), 78 bad configuration (EX_CONFIG),
130 interrupted.
"""

from __future__ import annotations

import argparse
import atexit
import contextlib
import logging
import math
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NoReturn

from .exitcodes import (
    EXIT_CANTCREAT,
    EXIT_CONFIG,
    EXIT_FAILURE,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_UNAVAILABLE,
    EXIT_USAGE,
)

log = logging.getLogger("breathring")

DESCRIPTION = """\
breathring: a guided-breathing light. A NeoPixel ring grows as you breathe in
and shrinks as you breathe out; a button starts a three-breath session.
"""

EPILOG = """\
exit codes: 0 done; 1 refused (the service refused the request, or a self-test
item failed); 2 usage (a bad command-line value); 69 unavailable (no hardware,
or the service is not running); 73 cannot create an output file; 78 bad
configuration; 130 interrupted (Ctrl-C).
Configuration: --config FILE, else $BREATHRING_CONFIG, else /etc/breathring/config.toml
(if it exists), else the defaults (see `breathring config defaults`).
"""


class UsageError(Exception):
    """A bad command-line value: exit 2 with the message."""


class CannotCreate(Exception):
    """An output file cannot be written: exit 73 with the message."""


def _open_output(path: str, mode: str = "w"):
    """Open `path` for writing, or CannotCreate naming the path and why."""
    try:
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding="utf-8")
    except OSError as exc:
        raise CannotCreate(f"cannot write {path}: {exc.strerror or exc}") from None


def _add_config(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")


def _add_hardware(
    p: argparse.ArgumentParser,
    text: str = "auto: the Pi's hardware on a Raspberry Pi, otherwise mocks (default: auto)",
) -> None:
    p.add_argument("--hardware", choices=("auto", "pi", "mock"), default="auto", help=text)


def _time_arg(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value):
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a finite number of seconds; allowed: seconds >= 0, e.g. 60"
        )
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is negative; allowed: seconds >= 0")
    return value


def _fps_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; allowed 1-240") from None
    if not 1 <= value <= 240:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed 1-240")
    return value


def build_parser() -> argparse.ArgumentParser:
    from . import __version__
    from .patterns import PATTERN_NAMES

    parser = argparse.ArgumentParser(
        prog="breathring",
        description=DESCRIPTION,
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    parser.add_argument("--version", action="version", version=f"breathring {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser(
        "simulate",
        help="run the device in virtual time and print the frames as JSON lines",
        description="Run the service's controller and output stage in virtual time and write "
        "one JSON line per frame sent to the ring (after a header line). Nothing is written "
        "while the ring holds still.",
    )
    _add_config(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--seconds", type=_time_arg, default=None, help="virtual seconds (default 60)")
    p.add_argument("--fps", type=_fps_arg, help="frames per second (default: ring.fps)")
    p.add_argument(
        "--at", default="12:00", help="wall time at the start, HH:MM[:SS] (default 12:00)"
    )
    p.add_argument(
        "--date", default=None, help="date at the start, YYYY-MM-DD (default 2026-01-15)"
    )
    p.add_argument("--tz", default="UTC", help="time zone, e.g. Europe/London (default UTC)")
    p.add_argument(
        "--press", type=_time_arg, action="append", metavar="T", help="short press at T s"
    )
    p.add_argument(
        "--double", type=_time_arg, action="append", metavar="T", help="double press at T s"
    )
    p.add_argument("--hold", type=_time_arg, action="append", metavar="T", help="hold from T s")
    p.add_argument(
        "--jump", action="append", metavar="T:±D", help="move the wall clock at T s, e.g. 600:+3h"
    )
    p.add_argument("--unsynced", action="store_true", help="the wall clock is not synchronised")
    p.add_argument("--idle", action="store_true", help="no press at t = 0")
    p.add_argument("--out", default="-", metavar="FILE|-", help="output file (default: stdout)")

    p = sub.add_parser(
        "demo",
        help="the device in your terminal and speaker (real time)",
        description="A session at once, with the ring drawn in the terminal and the cues and "
        "guide tones played through the speaker (--mute: silent). Keys: space = press, "
        "d = double press, h = hold (reminders on/off), q or Ctrl-C = quit. "
        "Not a terminal: plain text lines instead.",
    )
    _add_config(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--seconds", type=_time_arg, default=None, help="quit after this long")
    p.add_argument(
        "--mute", action="store_true", help="no sound (default: cues through the speaker)"
    )

    p = sub.add_parser(
        "render",
        help="draw one session as a PNG picture",
        description="Draw the ring at key moments of one session above a plot of its total "
        "light over time, phases shaded.",
    )
    _add_config(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the picture")

    p = sub.add_parser("config", help="check, show or print the configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    c = csub.add_parser("check", help="validate a configuration file (exit 0 or 78)")
    _add_config(c)
    c = csub.add_parser("show", help="print the effective configuration as TOML")
    _add_config(c)
    csub.add_parser("defaults", help="print a commented default configuration file")

    p = sub.add_parser(
        "check",
        help="self-test a freshly wired device: ring, audio, button",
        description="Lights each pixel in turn in red, green and blue (a wrong colour order shows "
        "as wrong colours), plays every cue, then waits up to 30 s for a press and a hold. "
        "Prints a pass/fail table; exit 0 only if everything passed.",
    )
    _add_config(p)
    _add_hardware(
        p,
        "auto (default) and pi: the Pi's hardware, else exit 69; mock: the self-test on "
        "simulated hardware (it presses its own button, so it proves nothing about wiring)",
    )
    p.add_argument(
        "--button-timeout",
        type=_time_arg,
        default=30.0,
        metavar="S",
        help="how long to wait for the press and the hold (default 30)",
    )

    p = sub.add_parser(
        "run",
        help="run the device (the systemd service)",
        description="The headless service: waits for the button, the control socket and the "
        "hourly schedule; LEDs off at start and on exit. SIGTERM/SIGINT: fade out and exit 0; "
        "SIGHUP: reload the configuration (a bad file keeps the old one).",
    )
    _add_config(p)
    _add_hardware(p)
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
    _add_config(p)
    from .hw.boot_config import add_arguments as add_boot_config_arguments

    add_boot_config_arguments(p)

    for name, text in (
        ("press", "press the button (start a session, or fade out the running one)"),
        ("start", "start a session"),
        ("stop", "fade out the running session"),
        ("status", "what the device is doing"),
        ("reminders", "turn the hourly reminders on or off"),
    ):
        p = sub.add_parser(
            name, help=f"service: {text}", description=f"Ask the running service to {text}."
        )
        p.add_argument("--socket", metavar="PATH", help="control socket of the service")
        if name == "start":
            p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern")
        if name == "reminders":
            p.add_argument("value", choices=("on", "off"))
        if name == "status":
            p.add_argument("--json", action="store_true", help="print the reply as JSON")
    _add_settings_commands(sub)
    from .web.cli import add_web_parser

    add_web_parser(sub)
    from .mqtt.cli import add_mqtt_parser  # argparse only: paho is imported when it runs

    add_mqtt_parser(sub)
    return parser


def _days_arg(text: str) -> int:
    from .history import MAX_DAYS, MIN_DAYS

    allowed = f"allowed {MIN_DAYS}-{MAX_DAYS}"
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; {allowed}") from None
    if not MIN_DAYS <= value <= MAX_DAYS:
        raise argparse.ArgumentTypeError(f"{value} is out of range; {allowed}")
    return value


def _add_settings_commands(sub) -> None:
    """set, unset, settings, stats, history: the service's settings and history."""
    socket_help = "control socket of the service"
    p = sub.add_parser(
        "set",
        help="service: change a setting now and keep it (settings.toml)",
        description="Change a config key in the running service at once and keep it in "
        "$STATE_DIRECTORY/settings.toml, which overrides the config file. VALUE is TOML "
        '(0.3, true, "#FF8C32"); a bare word that is not TOML is taken as a string. '
        "Exit 78 for a bad key or value.",
    )
    p.add_argument("key", metavar="KEY", help="config key, e.g. ring.brightness")
    p.add_argument("value", metavar="VALUE", help="new value (TOML)")
    p.add_argument("--socket", metavar="PATH", help=socket_help)
    p = sub.add_parser(
        "unset",
        help="service: drop a setting (back to the config file's value)",
        description="Remove KEY from settings.toml; the config file's value (or the default) "
        "applies again at once.",
    )
    p.add_argument("key", metavar="KEY", help="config key, e.g. ring.brightness")
    p.add_argument("--socket", metavar="PATH", help=socket_help)
    p = sub.add_parser(
        "settings",
        help="service: every setting, its value and where it comes from",
        description="Every config key with its effective value and its source: default, "
        "config (the config file) or settings (set at run time).",
    )
    p.add_argument("--json", action="store_true", help="print the settings as JSON")
    p.add_argument("--socket", metavar="PATH", help=socket_help)
    p = sub.add_parser(
        "stats",
        help="service: sessions, breaths and streak of the last days",
        description="A summary of the breathing history with a bar chart of the last days.",
    )
    from .history import DEFAULT_DAYS, MAX_DAYS, MIN_DAYS

    p.add_argument(
        "--days",
        type=_days_arg,
        default=DEFAULT_DAYS,
        help=f"days to show, {MIN_DAYS}-{MAX_DAYS} (default {DEFAULT_DAYS})",
    )
    p.add_argument("--json", action="store_true", help="print the stats object as JSON")
    p.add_argument("--png", metavar="FILE", help="also draw the chart into this PNG file")
    p.add_argument("--socket", metavar="PATH", help=socket_help)
    p = sub.add_parser(
        "history",
        help="service: erase the breathing history",
        description="breathring history --clear erases every recorded session and pulse.",
    )
    p.add_argument("--clear", action="store_true", help="erase the history")
    p.add_argument("--socket", metavar="PATH", help=socket_help)


def _load(args: argparse.Namespace):
    from .config import config_path_from, load_config

    return load_config(config_path_from(getattr(args, "config", None), os.environ))


def _with_pattern(cfg, pattern: str | None):
    """The config with session.pattern replaced (and checked) by --pattern.

    A --pattern the configuration cannot serve (custom without its durations)
    is a command-line mistake: UsageError (2), not a bad file (78).
    """
    from .config import ConfigError, with_values
    from .patterns import CUSTOM, PRESETS

    if pattern is None or pattern == cfg.session.pattern:
        return cfg
    try:
        return with_values(cfg, {"session.pattern": pattern}, source="--pattern")
    except ConfigError as exc:
        hint = ""
        if pattern == CUSTOM:
            hint = (
                '; it needs session.pattern = "custom" with session.inhale and session.exhale '
                f"in the configuration; allowed without them: {', '.join(PRESETS)}"
            )
        raise UsageError(f"--pattern {pattern}: {exc}{hint}") from None


def cmd_simulate(args: argparse.Namespace) -> int:
    from datetime import date

    from .simulate import DEFAULT_SECONDS, SimOptions, parse_at, parse_jump, write_jsonl

    cfg = _with_pattern(_load(args), args.pattern)
    try:
        at = parse_at(args.at)
        jumps = [parse_jump(j) for j in args.jump or []]
        day = date.fromisoformat(args.date) if args.date else SimOptions().day
        from zoneinfo import ZoneInfo

        ZoneInfo(args.tz)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except Exception:
        raise UsageError(f"--tz {args.tz!r} is not a known time zone, e.g. Europe/London") from None
    presses = list(args.press or [])
    if not args.idle and not presses and not args.hold and not args.double:
        presses = [0.0]
    opts = SimOptions(
        seconds=DEFAULT_SECONDS if args.seconds is None else args.seconds,
        fps=args.fps,
        at=at,
        day=day,
        tz=args.tz,
        presses=presses,
        holds=list(args.hold or []),
        doubles=list(args.double or []),
        jumps=jumps,
        synced=not args.unsynced,
    )
    if args.out == "-":
        write_jsonl(cfg, opts, sys.stdout)
    else:
        with _open_output(args.out) as out:
            count = write_jsonl(cfg, opts, out)
        print(f"wrote {count} frames to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    cfg = _with_pattern(_load(args), args.pattern)
    return run_demo(cfg, seconds=args.seconds, mute=args.mute)


def cmd_render(args: argparse.Namespace) -> int:
    from .render import render_png

    cfg = _with_pattern(_load(args), args.pattern)
    with _open_output(args.out, "wb") as out:
        render_png(cfg, out)
    print(f"wrote {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_config(args: argparse.Namespace) -> int:
    from .config import check_file, config_path_from, default_toml, to_toml

    if args.config_command == "defaults":
        sys.stdout.write(default_toml())
        return EXIT_OK
    if args.config_command == "check":
        path = config_path_from(args.config, os.environ)
        code, message = check_file(path)
        print(message, file=sys.stdout if code == 0 else sys.stderr)
        return code
    sys.stdout.write(to_toml(_load(args)))
    return EXIT_OK


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

    cfg = _load(args)
    clock = SystemClock()
    # A self-test of the wiring never passes on mocks unless they were asked for.
    mode = "pi" if args.hardware == "auto" else args.hardware
    try:
        hardware = open_hardware(cfg, mode, clock, log)
    except HardwareUnavailable as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", EXIT_UNAVAILABLE)
    try:
        return run_check(cfg, hardware, clock, sys.stdout, args.button_timeout)
    finally:
        hardware.close()


def cmd_boot_config(args: argparse.Namespace) -> int:
    from .hw.boot_config import run as run_boot_config

    return run_boot_config(args, _load(args).ring)


def cmd_client(args: argparse.Namespace) -> int:
    import json

    from .control_socket import ControlError, send_request, socket_path_from

    request: dict[str, object] = {"cmd": args.command}
    if args.command == "start":
        request["trigger"] = "remote"
        if args.pattern:
            request["pattern"] = args.pattern
    if args.command == "reminders":
        request["value"] = args.value
    try:
        path = socket_path_from(args.socket, os.environ)
        reply = send_request(path, request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except ControlError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    if not reply.get("ok"):
        print(f"breathring: {reply.get('error', 'the service refused')}", file=sys.stderr)
        return EXIT_FAILURE
    if getattr(args, "json", False):
        print(json.dumps(reply, sort_keys=True))
    else:
        details = {k: v for k, v in reply.items() if k != "ok"}
        print("  ".join(f"{k}: {v}" for k, v in details.items()))
    return EXIT_OK


def _ask(args: argparse.Namespace, request: dict[str, object]) -> dict[str, object] | int:
    """The service's reply, or an exit code (69: not running) after one line on stderr."""
    from .control_socket import ControlError, send_request, socket_path_from

    try:
        path = socket_path_from(args.socket, os.environ)
        return send_request(path, request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except ControlError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def parse_value(text: str) -> object:
    """A command-line VALUE: TOML (0.3, true, "#FF8C32"); else the text itself as a string."""
    import math
    import tomllib

    try:
        value = tomllib.loads(f"value = {text}")["value"]
    except (tomllib.TOMLDecodeError, RecursionError):
        return text
    if isinstance(value, float) and not math.isfinite(value):
        return text
    if isinstance(value, bool | int | float | str | list | dict):
        return value
    return text  # a TOML date or time: the text as written


def cmd_settings(args: argparse.Namespace) -> int:
    """set / unset / settings over the control socket."""
    import json

    if args.command == "set":
        request: dict[str, object] = {
            "cmd": "set",
            "key": args.key,
            "value": parse_value(args.value),
        }
    elif args.command == "unset":
        request = {"cmd": "unset", "key": args.key}
    else:
        request = {"cmd": "settings"}
    reply = _ask(args, request)
    if isinstance(reply, int):
        return reply
    if not reply.get("ok"):
        print(f"breathring: {reply.get('error', 'the service refused')}", file=sys.stderr)
        return EXIT_CONFIG if reply.get("code") or args.command != "settings" else EXIT_FAILURE
    if args.command in ("set", "unset"):
        print(f"{reply.get('key')} = {json.dumps(reply.get('value'))}")
        return EXIT_OK
    settings = reply.get("settings") or {}
    if args.json:
        out = {"settings": settings, "restart_keys": reply.get("restart_keys", [])}
        print(json.dumps(out, indent=2, sort_keys=False))
        return EXIT_OK
    width = max((len(k) for k in settings), default=0)
    for key, item in settings.items():
        print(f"{key:<{width}} = {json.dumps(item.get('value'))}  ({item.get('source')})")
    return EXIT_OK


def cmd_stats(args: argparse.Namespace) -> int:
    import json

    reply = _ask(args, {"cmd": "stats", "days": args.days})
    if isinstance(reply, int):
        return reply
    if not reply.get("ok"):
        print(f"breathring: {reply.get('error', 'the service refused')}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    stats = reply.get("stats")
    if args.png:
        try:
            from .stats_view import render_stats_png

            render_stats_png(stats, args.png)
        except OSError as exc:
            print(
                f"breathring: cannot write {args.png}: {exc.strerror or exc}; "
                "allowed: a writable path ending in .png",
                file=sys.stderr,
            )
            return EXIT_CANTCREAT
        print(f"wrote {args.png}", file=sys.stderr)
    if args.json:
        print(json.dumps(stats))
    else:
        from .stats_view import format_stats

        print(format_stats(stats))
    return EXIT_OK


def cmd_history(args: argparse.Namespace) -> int:
    if not args.clear:
        raise UsageError("history needs --clear (breathring history --clear erases the history)")
    reply = _ask(args, {"cmd": "history-clear"})
    if isinstance(reply, int):
        return reply
    if not reply.get("ok"):
        print(f"breathring: {reply.get('error', 'the service refused')}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    print("history cleared")
    return EXIT_OK


def _cmd_web(args: argparse.Namespace) -> int:
    from .web.cli import cmd_web

    return cmd_web(args)


def _cmd_mqtt(args: argparse.Namespace) -> int:
    from .mqtt.cli import cmd_mqtt

    return cmd_mqtt(args)


COMMANDS = {
    "run": cmd_run,
    "check": cmd_check,
    "press": cmd_client,
    "start": cmd_client,
    "stop": cmd_client,
    "status": cmd_client,
    "reminders": cmd_client,
    "set": cmd_settings,
    "unset": cmd_settings,
    "settings": cmd_settings,
    "stats": cmd_stats,
    "history": cmd_history,
    "simulate": cmd_simulate,
    "demo": cmd_demo,
    "render": cmd_render,
    "config": cmd_config,
    "web": _cmd_web,
    "mqtt": _cmd_mqtt,
    "boot-config": cmd_boot_config,
}


def setup_logging(verbose: bool) -> None:
    """Log to stderr; no timestamps under journald (it adds its own)."""
    under_journal = bool(os.environ.get("JOURNAL_STREAM"))
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not under_journal:
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(
        level=logging.DEBUG if verbose else logging.INFO, format=fmt, stream=sys.stderr
    )


def main(argv: Sequence[str] | None = None) -> int:
    from .config import ConfigError

    parser = build_parser()
    args = parser.parse_args(argv)
    setup_logging(args.verbose)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"breathring: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except UsageError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except CannotCreate as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_CANTCREAT
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # Output piped into `head`: not an error of ours.
        sys.stderr.close()
        return EXIT_OK


def entry(argv: Sequence[str] | None = None) -> NoReturn:
    """The `breathring` command: main(), then the process ends with its exit code.

    Once `run` has stopped in order (ring dark, sound, socket and history closed), the exit
    handlers run as usual (they release what the libraries hold: rpi_ws281x's DMA and memory
    are freed only in Blinka's, gpiozero's pin factory in its own) and the log is flushed,
    then the process ends (os._exit) without the interpreter's finalization: freeing every
    module and object, which no hardware needs. Exit handlers and finalization together took
    1.07 s of a 1.61-s `systemctl stop` on the emulated arm64 CPU (tests/vm/run --arch arm64;
    issue 13 asks for 1 s).
    """
    code = main(argv)
    if PROCESS_END.stopped_in_order:
        atexit._run_exitfuncs()  # what sys.exit would run first, logging.shutdown among them
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):  # a closed or broken stream: nothing to keep
                stream.flush()
        os._exit(code)
    sys.exit(code)


if __name__ == "__main__":
    entry()
