"""The developer's tools of the `breathring` command line: simulate, demo, render, config.

They run on any machine, without the service and without a Pi: the device on a
FakeClock to JSON lines, in the terminal, as a PNG, and the configuration checked
or printed.
"""

from __future__ import annotations

import argparse
import os
import sys

from .cli_common import (
    UsageError,
    add_config_arg,
    fps_arg,
    load_args_config,
    open_output,
    time_arg,
    with_pattern,
)
from .exitcodes import EXIT_OK


def add_tool_parsers(sub) -> None:
    """simulate, demo, render, config: the subcommands that need neither service nor Pi."""
    from .patterns import PATTERN_NAMES

    p = sub.add_parser(
        "simulate",
        help="run the device in virtual time and print the frames as JSON lines",
        description="Run the service's controller and output stage in virtual time and write "
        "one JSON line per frame sent to the ring (after a header line). Nothing is written "
        "while the ring holds still.",
    )
    add_config_arg(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--seconds", type=time_arg, default=None, help="virtual seconds (default 60)")
    p.add_argument("--fps", type=fps_arg, help="frames per second (default: ring.fps)")
    p.add_argument(
        "--at", default="12:00", help="wall time at the start, HH:MM[:SS] (default 12:00)"
    )
    p.add_argument(
        "--date", default=None, help="date at the start, YYYY-MM-DD (default 2026-01-15)"
    )
    p.add_argument("--tz", default="UTC", help="time zone, e.g. Europe/London (default UTC)")
    p.add_argument(
        "--press", type=time_arg, action="append", metavar="T", help="short press at T s"
    )
    p.add_argument(
        "--double", type=time_arg, action="append", metavar="T", help="double press at T s"
    )
    p.add_argument("--hold", type=time_arg, action="append", metavar="T", help="hold from T s")
    p.add_argument(
        "--jump", action="append", metavar="T:±D", help="move the wall clock at T s, e.g. 600:+3h"
    )
    p.add_argument("--unsynced", action="store_true", help="the wall clock is not synchronised")
    add_breath_rate_args(p)
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
    add_config_arg(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--seconds", type=time_arg, default=None, help="quit after this long")
    p.add_argument(
        "--mute", action="store_true", help="no sound (default: cues through the speaker)"
    )
    add_breath_rate_args(p)

    p = sub.add_parser(
        "render",
        help="draw one session as a PNG picture",
        description="Draw the ring at key moments of one session above a plot of its total "
        "light over time, phases shaded.",
    )
    add_config_arg(p)
    p.add_argument("--pattern", choices=PATTERN_NAMES, help="breath pattern (default: config)")
    p.add_argument("--out", required=True, metavar="FILE.png", help="where to write the picture")

    p = sub.add_parser("config", help="check, show or print the configuration")
    csub = p.add_subparsers(dest="config_command", metavar="ACTION")
    csub.required = True
    c = csub.add_parser("check", help="validate a configuration file (exit 0 or 78)")
    add_config_arg(c)
    c = csub.add_parser("show", help="print the effective configuration as TOML")
    add_config_arg(c)
    csub.add_parser("defaults", help="print a commented default configuration file")


def add_breath_rate_args(p: argparse.ArgumentParser) -> None:
    """--breath-rate R | --breath-rate-file FILE: what a breath sensor would measure."""
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--breath-rate",
        type=float,
        metavar="R",
        help="a breath sensor measures R breaths a minute all along (e.g. 14; "
        "the follow pattern starts there)",
    )
    group.add_argument(
        "--breath-rate-file",
        metavar="FILE",
        help='timed readings instead: lines "SECONDS RATE" (seconds from the start, '
        "breaths a minute) in time order; # starts a comment",
    )


def rate_feed(args: argparse.Namespace):
    """The RateFeed of --breath-rate / --breath-rate-file (None: neither); UsageError if bad."""
    from .simulated_rate import RateFeed, RateFileError, check_rate, read_rate_file

    try:
        if args.breath_rate is not None:
            return RateFeed(constant=check_rate(args.breath_rate, "--breath-rate"))
        if args.breath_rate_file is not None:
            return RateFeed(readings=read_rate_file(args.breath_rate_file))
    except RateFileError as exc:
        raise UsageError(str(exc)) from None
    return None


def cmd_simulate(args: argparse.Namespace) -> int:
    from datetime import date

    from .simulate import DEFAULT_SECONDS, SimOptions, parse_at, parse_jump, write_jsonl

    cfg = with_pattern(load_args_config(args), args.pattern)
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
        rates=rate_feed(args),
    )
    if args.out == "-":
        write_jsonl(cfg, opts, sys.stdout)
    else:
        with open_output(args.out) as out:
            count = write_jsonl(cfg, opts, out)
        print(f"wrote {count} frames to {args.out}", file=sys.stderr)
    return EXIT_OK


def cmd_demo(args: argparse.Namespace) -> int:
    from .demo import run_demo

    cfg = with_pattern(load_args_config(args), args.pattern)
    return run_demo(cfg, seconds=args.seconds, mute=args.mute, rates=rate_feed(args))


def cmd_render(args: argparse.Namespace) -> int:
    from .render import render_png

    cfg = with_pattern(load_args_config(args), args.pattern)
    with open_output(args.out, "wb") as out:
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
    sys.stdout.write(to_toml(load_args_config(args)))
    return EXIT_OK
