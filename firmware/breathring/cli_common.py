"""Shared pieces of the `breathring` command line: its errors, argument types and loading.

UsageError (exit 2) and CannotCreate (exit 73) are raised by the commands and
turned into exit codes by cli.main; the argument helpers are the ones several
subcommands share (--config, --hardware, seconds).
"""

from __future__ import annotations

import argparse
import importlib
import math
import os


class UsageError(Exception):
    """A bad command-line value: exit 2 with the message."""


class CannotCreate(Exception):
    """An output file cannot be written: exit 73 with the message."""


def open_output(path: str, mode: str = "w"):
    """Open `path` for writing, or CannotCreate naming the path and why."""
    try:
        if "b" in mode:
            return open(path, mode)
        return open(path, mode, encoding="utf-8")
    except OSError as exc:
        raise CannotCreate(f"cannot write {path}: {exc.strerror or exc}") from None


def add_config_arg(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", metavar="FILE", help="configuration file (TOML)")


def add_hardware_arg(
    p: argparse.ArgumentParser,
    text: str = "auto: the Pi's hardware on a Raspberry Pi, otherwise mocks (default: auto)",
) -> None:
    p.add_argument("--hardware", choices=("auto", "pi", "mock"), default="auto", help=text)


def time_arg(text: str) -> float:
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


def fps_arg(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number; allowed 1-240") from None
    if not 1 <= value <= 240:
        raise argparse.ArgumentTypeError(f"{value} is out of range; allowed 1-240")
    return value


def load_args_config(args: argparse.Namespace):
    from .config import config_path_from, load_config

    return load_config(config_path_from(getattr(args, "config", None), os.environ))


def with_pattern(cfg, pattern: str | None):
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


def missing_extra(command: str, module: str) -> str | None:
    """None if `module` imports; else the one line that names the extra `command` needs.

    `breathring web` and `breathring mqtt` need the optional dependencies of the extra
    of the same name (pyproject.toml); systemd/install.sh --web / --mqtt installs them.
    """
    try:
        importlib.import_module(module)
    except ImportError:
        return (
            f"breathring {command} needs the {command} extra: pip install 'breathring[{command}]' "
            f"(on the Pi: sudo systemd/install.sh --{command})"
        )
    return None
