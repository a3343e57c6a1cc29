"""The service's commands of the `breathring` command line: they talk to the running service.

press, start, stop, status, reminders; set, unset, settings; stats, history.
Each sends one request over the control socket and prints the reply; exit 69
when the service is not running, 1 when it refuses, 78 for a bad setting.
"""

from __future__ import annotations

import argparse
import os
import sys

from .cli_common import UsageError
from .exitcodes import EXIT_CANTCREAT, EXIT_CONFIG, EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE


def add_client_parsers(sub) -> None:
    """press, start, stop, status, reminders, and the settings and history commands."""
    from .patterns import PATTERN_NAMES

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


def days_arg(text: str) -> int:
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
        "Several KEY VALUE pairs are set together, all or none: keys that only make sense "
        "together, e.g. `breathring set session.pattern custom session.inhale 4 "
        "session.exhale 6`. Exit 78 for a bad key or value (nothing changes).",
    )
    p.add_argument("key", metavar="KEY", help="config key, e.g. ring.brightness")
    p.add_argument("value", metavar="VALUE", help="new value (TOML)")
    p.add_argument(
        "more",
        nargs="*",
        metavar="KEY VALUE",
        help="more keys and their values, set with the first at once",
    )
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
        type=days_arg,
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


def cmd_client(args: argparse.Namespace) -> int:
    import json

    request: dict[str, object] = {"cmd": args.command}
    if args.command == "start":
        request["trigger"] = "remote"
        if args.pattern:
            request["pattern"] = args.pattern
    if args.command == "reminders":
        request["value"] = args.value
    reply = _ask(args, request)
    if isinstance(reply, int):
        return reply
    if not reply.get("ok"):
        return _refused(reply, EXIT_FAILURE)
    if getattr(args, "json", False):
        print(json.dumps(reply, sort_keys=True))
    else:
        details = {k: v for k, v in reply.items() if k != "ok"}
        print("  ".join(f"{k}: {v}" for k, v in details.items()))
    return EXIT_OK


def _ask(args: argparse.Namespace, request: dict[str, object]) -> dict[str, object] | int:
    """The service's reply, or an exit code (69: not running) after one line on stderr."""
    from .control.client import send_request
    from .control.protocol import ControlError, socket_path_from

    try:
        path = socket_path_from(args.socket, os.environ)
        return send_request(path, request)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    except ControlError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE


def _refused(reply: dict[str, object], code: int) -> int:
    """The service said no: its reason in one line on stderr, and `code`."""
    print(f"breathring: {reply.get('error', 'the service refused')}", file=sys.stderr)
    return code


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

    from .control.protocol import SETTING_CODES, ErrorCode, error_code

    if args.command == "set":
        words = [args.key, args.value, *args.more]
        if len(words) % 2:
            raise UsageError(f"set: {words[-1]} has no VALUE; give KEY VALUE pairs")
        keys = words[::2]
        twice = next((k for i, k in enumerate(keys) if k in keys[:i]), None)
        if twice is not None:
            raise UsageError(f"set: {twice} is given twice; give each KEY once")
        pairs = dict(zip(keys, map(parse_value, words[1::2]), strict=True))
        request: dict[str, object] = (
            {"cmd": "set", "key": args.key, "value": pairs[args.key]}
            if len(pairs) == 1
            else {"cmd": "set", "values": pairs}
        )
    elif args.command == "unset":
        request = {"cmd": "unset", "key": args.key}
    else:
        request = {"cmd": "settings"}
    reply = _ask(args, request)
    if isinstance(reply, int):
        return reply
    if not reply.get("ok"):
        error = error_code(reply)
        bad_key = error is ErrorCode.BAD_REQUEST and args.command != "settings"
        code = EXIT_CONFIG if error in SETTING_CODES or bad_key else EXIT_FAILURE
        return _refused(reply, code)
    if args.command in ("set", "unset"):
        values = reply.get("values")
        taken = values if isinstance(values, dict) else {reply.get("key"): reply.get("value")}
        for key, value in taken.items():
            print(f"{key} = {json.dumps(value)}")
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
        return _refused(reply, EXIT_UNAVAILABLE)
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
        return _refused(reply, EXIT_UNAVAILABLE)
    print("history cleared")
    return EXIT_OK
