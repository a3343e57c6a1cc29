"""Reading a config: the file, its TOML, the keys it names, and `config check`."""

from __future__ import annotations

import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import fields
from pathlib import Path
from typing import Any

from .. import patterns
from ..exitcodes import EXIT_CONFIG, EXIT_OK
from .errors import BadValue, ConfigError, ErrorContext
from .schema import SECTIONS, Config, section_keys
from .validation import check_schedule, check_together, show_value, suggest
from .values import CUSTOM_KEYS
from .writing import to_data

#: Where the service looks when neither --config nor $BREATHRING_CONFIG is given.
DEFAULT_CONFIG_PATH = Path("/etc/breathring/config.toml")
#: Environment variable naming the config file.
CONFIG_ENV = "BREATHRING_CONFIG"
#: A config file larger than this is refused unread.
MAX_CONFIG_BYTES = 1024 * 1024
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)


_TOML_POS_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_END = " (at end of document)"


def _loads(text: str, ctx: ErrorContext) -> dict[str, Any]:
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        reason = str(e)
        if m := _TOML_POS_RE.match(reason):
            line = int(m.group("line"))
            raise ConfigError(
                f"{ctx.source}: invalid TOML at line {line}, column {m.group('col')}: "
                f"{m.group('msg')}",
                line=line,
            ) from None
        if reason.endswith(_TOML_END):
            line = max(len(ctx.lines), 1)
            raise ConfigError(
                f"{ctx.source}: invalid TOML at the end of the file (line {line}): "
                f"{reason.removesuffix(_TOML_END)}",
                line=line,
            ) from None
        raise ConfigError(f"{ctx.source}: invalid TOML: {reason}") from None
    except RecursionError:  # tomllib recurses once per nested array or inline table
        raise ConfigError(
            f"{ctx.source}: invalid TOML: arrays or inline tables nested too deeply; "
            "allowed: the flat keys of `breathring config defaults`"
        ) from None


def _unknown_section(name: str, value: object, ctx: ErrorContext) -> ConfigError:
    owners = [s for s in SECTIONS if name in section_keys(s)]
    if owners:
        return ctx.error(
            f"{name} is not a known section; did you mean {owners[0]}.{name}? "
            f"(put it under [{owners[0]}])",
            key=name,
        )
    hint = suggest(name, list(SECTIONS))
    tail = f"did you mean [{hint}]?" if hint else f"allowed sections: {', '.join(SECTIONS)}"
    return ctx.error(f"[{name}] is not a known section; {tail}", key=name)


def _unknown_key(section: str, key: str, ctx: ErrorContext) -> ConfigError:
    known = section_keys(section)
    hint = suggest(key, known)
    if hint:
        tail = f"did you mean {section}.{hint}?"
    else:
        others = [s for s in SECTIONS if key in section_keys(s)]
        tail = (
            "it belongs in " + " or ".join(f"[{o}]" for o in others)
            if others
            else f"allowed keys in [{section}]: {', '.join(known)}"
        )
    return ctx.error(f"{section}.{key} is not a known key; {tail}", key=f"{section}.{key}")


def _build(data: Mapping[str, Any], ctx: ErrorContext) -> Config:
    """Validate parsed TOML data and build the Config; raises the first ConfigError."""
    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for name, body in data.items():
        if name not in SECTIONS:
            raise _unknown_section(name, body, ctx)
        if not isinstance(body, dict):
            raise ctx.error(
                f"{name} = {show_value(body)} must be a table; write it as a [{name}] section",
                key=name,
            )
        specs = {f.name: f.metadata["spec"] for f in fields(SECTIONS[name])}
        for key, raw in body.items():
            if key not in specs:
                raise _unknown_key(name, key, ctx)
            dotted = f"{name}.{key}"
            try:
                values[name][key] = specs[key].parse(key, raw)
            except BadValue as bad:
                raise ctx.error(f"{dotted} = {show_value(raw)} {bad}", key=dotted) from None
    cfg = Config(**{name: SECTIONS[name](**values[name]) for name in SECTIONS})
    return check_together(cfg, values, ctx)


def parse_config(text: str, source: str = "<config>") -> Config:
    """TOML text -> Config; raises ConfigError (one line, naming `source`, the key and the line)."""
    text = text.removeprefix("\ufeff")
    ctx = ErrorContext(source, text)
    return _build(_loads(text, ctx), ctx)


def load_config(path: str | os.PathLike[str] | None) -> Config:
    """Read and parse a config file; None -> the defaults."""
    if path is None:
        return Config()
    source = os.fspath(path)
    try:
        # O_NONBLOCK: a FIFO must not block the service (or a reload) waiting for a writer.
        with open(os.open(source, _READ_FLAGS), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError(
                    f"{source}: cannot read the config file: not a regular file "
                    "(a directory, FIFO or device); allowed: a TOML file"
                )
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as e:
        reason = e.strerror or str(e)
        raise ConfigError(f"{source}: cannot read the config file: {reason}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(
            f"{source}: too large; a config file may be at most {MAX_CONFIG_BYTES} bytes (1 MiB)"
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[: e.start].count(b"\n") + 1
        raise ConfigError(
            f"{source}: not UTF-8 text (byte {e.start}, line {line}); save the file as UTF-8",
            line=line,
        ) from None
    cfg = parse_config(text, source)
    check_schedule(cfg, ErrorContext(source, text))
    return cfg


def with_values(
    cfg: Config, overrides: Mapping[str, object], source: str = "command line"
) -> Config:
    """cfg with some keys replaced ({"session.pattern": "box"}), validated like a file.

    A value of None unsets the key (e.g. {"session.inhale": None}).
    """
    data = to_data(cfg)
    new_pattern = overrides.get("session.pattern")
    if new_pattern is not None and new_pattern != patterns.CUSTOM:
        for key in CUSTOM_KEYS:  # leaving "custom": its durations no longer apply
            data["session"].pop(key, None)
    for dotted, value in overrides.items():
        section, _, key = dotted.partition(".")
        if value is None:  # None unsets a key
            data.get(section, {}).pop(key, None)
        else:
            data.setdefault(section, {})[key] = value
    return _build(data, ErrorContext(source, None))


def config_path_from(
    arg: str | None, env: Mapping[str, str], default: Path = DEFAULT_CONFIG_PATH
) -> Path | None:
    """--config wins, then $BREATHRING_CONFIG, then the default path if it exists, else None."""
    if arg:
        return Path(arg)
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV])
    return default if default.is_file() else None


def check_file(path: str | os.PathLike[str] | None) -> tuple[int, str]:
    """For `breathring config check`: (0, summary) or (78, the error)."""
    try:
        cfg = load_config(path)
    except ConfigError as e:
        return EXIT_CONFIG, str(e)
    where = os.fspath(path) if path is not None else "no config file, defaults"
    reminders = (
        f"reminders every {cfg.reminder.every_minutes} min {cfg.reminder.active_hours}"
        if cfg.reminder.enabled
        else "reminders off"
    )
    return EXIT_OK, (
        f"{where}: OK ({cfg.ring.pixels} pixels, {cfg.ring.driver} on {cfg.ring.pin}, "
        f"pattern {cfg.session.pattern} x {cfg.session.breaths}, {reminders}, "
        f"night {cfg.night.hours})"
    )
