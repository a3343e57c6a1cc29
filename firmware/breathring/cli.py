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
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .cli_client import add_client_parsers, cmd_client, cmd_history, cmd_settings, cmd_stats
from .cli_common import CannotCreate, UsageError
from .cli_device import PROCESS_END, add_device_parsers, cmd_boot_config, cmd_check, cmd_run
from .cli_tools import add_tool_parsers, cmd_config, cmd_demo, cmd_render, cmd_simulate
from .exitcodes import (
    EXIT_CANTCREAT,
    EXIT_CONFIG,
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_USAGE,
)

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


def build_parser() -> argparse.ArgumentParser:
    from . import __version__

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
    add_tool_parsers(sub)
    add_device_parsers(sub)
    add_client_parsers(sub)
    from .web.cli import add_web_parser

    add_web_parser(sub)
    from .mqtt.cli import add_mqtt_parser  # argparse only: paho is imported when it runs

    add_mqtt_parser(sub)
    return parser


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
