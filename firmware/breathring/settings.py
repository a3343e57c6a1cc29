"""Settings the service owns: `set`/`unset` at run time, kept in $STATE_DIRECTORY/settings.toml.

The file holds only the keys that were set, in the config file's own layout
(`[ring]` / `brightness = 0.3`); at load (service start and SIGHUP) it
overrides the config file key by key. Values are checked by the config's own
specs (`config.with_values`), so `set` gives the same one-line errors as a bad
config file. Writes are atomic (temporary file, fsync, rename, fsync of the
directory). A corrupt file is moved aside to `settings.toml.corrupt` with one
warning, and the config file's values apply.
"""

from __future__ import annotations

import difflib
import logging
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .atomic_file import replace_file
from .config import CUSTOM_KEYS, Config, ConfigError, key_infos, with_values
from .config.toml_text import toml_scalar
from .control.protocol import ErrorCode
from .patterns import CUSTOM as CUSTOM_PATTERN

LOG = logging.getLogger("breathring.settings")

SETTINGS_FILE = "settings.toml"
TEMP_FILE = ".settings.toml.tmp"
CORRUPT_SUFFIX = ".corrupt"
FILE_MODE = 0o644
#: A settings file larger than this is corrupt (it holds a few dozen short keys at most).
MAX_SETTINGS_BYTES = 64 * 1024
SUGGEST_CUTOFF = 0.6

#: Where a value comes from, as `settings` reports it.
SOURCE_DEFAULT = "default"
SOURCE_CONFIG = "config"
SOURCE_SETTINGS = "settings"

#: Keys read only when the hardware is opened, and why; `set` refuses them.
RESTART_REASONS: dict[str, str] = {
    "ring.pixels": "the ring's driver is opened for a fixed number of pixels",
    "ring.order": "the ring's driver is opened with its colour order",
    "ring.pin": "the ring's data pin is claimed when the service starts",
    "ring.driver": "the LED driver is chosen when the service starts",
    "button.pin": "the button's pin is claimed when the service starts",
    "button.pi_revision": "the button's pin factory is made when the service starts",
    "audio.driver": "the sound device is opened when the service starts",
    "audio.device": "the sound device is opened when the service starts",
    "audio.cues_dir": "the cue sounds are loaded when the service starts",
    "audio.buffer_samples": "the sound device is opened when the service starts",
    "breath_sensor.kind": "the breath sensor's reader is started with the service",
    "breath_sensor.device": "the breath sensor's serial port is opened when the service starts",
    "breath_sensor.baud": "the breath sensor's serial port is opened when the service starts",
}
RESTART_KEYS: tuple[str, ...] = tuple(RESTART_REASONS)
#: Sections another process reads from the config file; the service neither lists nor sets them.
OTHER_PROCESS_SECTIONS: dict[str, str] = {"mqtt": "breathring-mqtt"}


class SettingError(Exception):
    """A refused set/unset: one line naming the key, the value and what is allowed."""

    def __init__(self, message: str, key: str, code: ErrorCode) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.code = code

    def __str__(self) -> str:
        return self.message


class SettingsCorrupt(Exception):
    """The settings file cannot be used; str(e) says why."""


def all_keys() -> tuple[str, ...]:
    """Every key the service owns, dotted, in file order."""
    return tuple(_SPECS)


_SPECS = {
    info.dotted: info.spec for info in key_infos() if info.section not in OTHER_PROCESS_SECTIONS
}


def check_key(key: object) -> str:
    """The key if it is known and may change at run time; else SettingError."""
    section = key.partition(".")[0] if isinstance(key, str) else ""
    if section in OTHER_PROCESS_SECTIONS:
        unit = OTHER_PROCESS_SECTIONS[section]
        raise SettingError(
            f"{key} is read by {unit} from the config file, not by the service; "
            f"set it there and restart: sudo systemctl restart {unit}",
            str(key),
            ErrorCode.RESTART,
        )
    if not isinstance(key, str) or key not in _SPECS:
        shown = key if isinstance(key, str) else repr(key)
        hint = difflib.get_close_matches(str(key), list(_SPECS), n=1, cutoff=SUGGEST_CUTOFF)
        tail = f"did you mean {hint[0]}?" if hint else "see `breathring settings` for the keys"
        raise SettingError(f"{shown} is not a known key; {tail}", str(key), ErrorCode.UNKNOWN_KEY)
    if key in RESTART_REASONS:
        raise SettingError(
            f"{key} cannot change while the service runs ({RESTART_REASONS[key]}); "
            "set it in the config file and restart: sudo systemctl restart breathring",
            key,
            ErrorCode.RESTART,
        )
    return key


def wire_value(cfg: Config, key: str) -> object:
    """The effective value of `key` as TOML/JSON writes it ("#3C9BFF", "22:00-07:00", 0.5)."""
    section, _, name = key.partition(".")
    value = getattr(getattr(cfg, section), name)
    return None if value is None else _SPECS[key].dump(value)


# --------------------------------------------------------------------------- the file


def parse_settings(text: str, source: str) -> dict[str, object]:
    """settings.toml text -> {dotted key: raw value}; SettingsCorrupt names what is wrong."""
    try:
        data = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise SettingsCorrupt(f"{source}: invalid TOML: {exc}") from None
    values: dict[str, object] = {}
    for section, body in data.items():
        if not isinstance(body, dict):
            raise SettingsCorrupt(f"{source}: {section} is not a [section]")
        for name, raw in body.items():
            key = f"{section}.{name}"
            try:
                check_key(key)
                _SPECS[key].parse(name, raw)
            except SettingError as exc:
                raise SettingsCorrupt(f"{source}: {exc}") from None
            except Exception as exc:  # a spec's BadValue: the value is not allowed
                raise SettingsCorrupt(f"{source}: {key} {exc}") from None
            values[key] = raw
    return values


def render_settings(values: Mapping[str, object]) -> str:
    """{dotted key: native TOML scalar} -> the file's text, sections in config order."""
    lines = ["# Set by `breathring set` (or the web page); overrides the config file key by key."]
    sections: dict[str, list[str]] = {}
    for key in all_keys():
        if key in values and values[key] is not None:
            section, _, name = key.partition(".")
            sections.setdefault(section, []).append(f"{name} = {toml_scalar(values[key])}")
    for section, body in sections.items():
        lines += ["", f"[{section}]", *body]
    return "\n".join(lines) + "\n"


class SettingsFile:
    """`directory/settings.toml`: read, atomic write, move aside."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.path = self.directory / SETTINGS_FILE

    def read(self) -> dict[str, object]:
        """The saved keys ({} when there is no file); SettingsCorrupt when it cannot be used."""
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise SettingsCorrupt(f"{self.path}: cannot read: {exc.strerror or exc}") from None
        if len(raw) > MAX_SETTINGS_BYTES:
            raise SettingsCorrupt(f"{self.path}: larger than {MAX_SETTINGS_BYTES} bytes")
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise SettingsCorrupt(f"{self.path}: not UTF-8 text") from None
        return parse_settings(text, str(self.path))

    def write(self, values: Mapping[str, object]) -> None:
        """Replace the file atomically; raises OSError."""
        replace_file(self.path, render_settings(values).encode("utf-8"), TEMP_FILE, FILE_MODE)

    def move_aside(self) -> Path | None:
        """Rename a corrupt file to settings.toml.corrupt; the new name, or None."""
        aside = self.path.with_name(self.path.name + CORRUPT_SUFFIX)
        try:
            os.replace(self.path, aside)
        except OSError:
            return None
        return aside


def config_file_keys(path: Path | None) -> frozenset[str]:
    """The dotted keys a (valid) config file sets; empty when there is none."""
    if path is None:
        return frozenset()
    try:
        with open(path, "rb") as f:
            data = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError, RecursionError):
        return frozenset()
    return frozenset(
        f"{section}.{name}"
        for section, body in data.items()
        if isinstance(body, dict)
        for name in body
    )


# --------------------------------------------------------------------------- the overlay


#: Saved keys that are only valid together: a pattern with its custom breaths.
_PATTERN_GROUP = frozenset({"session.pattern", *(f"session.{k}" for k in CUSTOM_KEYS)})


def _fitting_groups(saved: Mapping[str, object]) -> list[dict[str, object]]:
    """The saved keys in the groups they are laid over the config in: each key alone, but
    the pattern and its breaths together (they were set together), where the first is."""
    groups: list[dict[str, object]] = []
    pattern: dict[str, object] | None = None
    for key, value in saved.items():
        if key not in _PATTERN_GROUP:
            groups.append({key: value})
        elif pattern is None:
            pattern = {key: value}
            groups.append(pattern)
        else:
            pattern[key] = value
    return groups


def _strip(message: str, source: str) -> str:
    return message.removeprefix(f"{source}: ")


@dataclass
class Settings:
    """The file's config, the saved overrides and the effective config they make."""

    base: Config
    store: SettingsFile | None = None
    config_keys: frozenset[str] = frozenset()
    log: logging.Logger = LOG
    overrides: dict[str, object] = field(default_factory=dict)
    effective: Config | None = None

    @property
    def cfg(self) -> Config:
        return self.effective if self.effective is not None else self.base

    def load(self) -> Config:
        """Read settings.toml and lay it over `base`; never raises (warns and falls back)."""
        self.overrides = {}
        self.effective = self.base
        if self.store is None:
            return self.base
        try:
            saved = self.store.read()
        except SettingsCorrupt as exc:
            aside = self.store.move_aside()
            where = f"moved to {aside}" if aside else "left in place"
            self.log.warning(
                "ignoring corrupt settings (%s); %s; using the config file", exc, where
            )
            return self.base
        kept: dict[str, object] = {}
        skipped: list[str] = []
        cfg = self.base
        for group in _fitting_groups(saved):  # one that no longer fits is left out
            try:
                cfg = with_values(cfg, group, source=str(self.store.path))
            except ConfigError as exc:
                skipped.append(str(exc))
                continue
            kept.update(group)
        if skipped:
            self.log.warning(
                "settings that no longer fit the config file are not applied: %s",
                "; ".join(skipped),
            )
        self.overrides = kept
        self.effective = cfg
        return cfg

    def rebase(self, base: Config, config_keys: frozenset[str]) -> Config:
        """A new config file (SIGHUP): re-read settings.toml over it."""
        self.base = base
        self.config_keys = config_keys
        return self.load()

    def proposed_set(self, changes: Mapping[str, object]) -> tuple[list[str], Config]:
        """The effective config with every key = value at once (one key, or several that only
        make sense together, such as a custom pattern and its breaths); SettingError naming
        the key at fault when refused. Changes nothing."""
        keys = []
        for raw, value in changes.items():
            key = check_key(raw)
            if value is None:
                raise SettingError(
                    f"{key} needs a value; to remove a setting use unset", key, ErrorCode.INVALID
                )
            keys.append(key)
        try:
            return keys, with_values(self.cfg, dict(changes), source="set")
        except ConfigError as exc:
            at = exc.key if exc.key in keys else keys[0]
            raise SettingError(_strip(str(exc), "set"), at, ErrorCode.INVALID) from None

    def commit_set(self, keys: Sequence[str], cfg: Config) -> None:
        """Persist the keys (as `cfg` has them) and make `cfg` effective; OSError on write."""
        overrides = dict(self.overrides)
        for key in keys:
            overrides[key] = wire_value(cfg, key)
        if "session.pattern" in keys:  # keys that with_values dropped with the pattern
            for other in list(overrides):
                if other.startswith("session.") and wire_value(cfg, other) is None:
                    del overrides[other]
        self._save(overrides)
        self.overrides = overrides
        self.effective = cfg

    def proposed_unset(self, key: object) -> tuple[str, Config, dict[str, object]]:
        """The effective config without the saved key; SettingError when refused."""
        if not isinstance(key, str) or key not in _SPECS:
            check_key(key)
        assert isinstance(key, str)
        overrides = {k: v for k, v in self.overrides.items() if k != key}
        if key == "session.pattern" and self.base.session.pattern != CUSTOM_PATTERN:
            # Back to the file's preset: the saved custom breaths go with the saved pattern.
            overrides = {k: v for k, v in overrides.items() if k not in _PATTERN_GROUP}
        source = str(self.store.path) if self.store else "settings"
        try:
            cfg = with_values(self.base, overrides, source=source)
        except ConfigError as exc:
            raise SettingError(
                f"unset {key} would leave the settings invalid: {_strip(str(exc), source)}",
                key,
                ErrorCode.INVALID,
            ) from None
        return key, cfg, overrides

    def commit_unset(self, cfg: Config, overrides: dict[str, object]) -> None:
        self._save(overrides)
        self.overrides = overrides
        self.effective = cfg

    def _save(self, overrides: Mapping[str, object]) -> None:
        if self.store is not None:
            self.store.write(overrides)

    def source(self, key: str) -> str:
        if key in self.overrides:
            return SOURCE_SETTINGS
        if key in self.config_keys:
            return SOURCE_CONFIG
        return SOURCE_DEFAULT

    def listing(self) -> dict[str, dict[str, object]]:
        """Every key: its effective value and where it comes from."""
        cfg = self.cfg
        return {
            key: {"value": wire_value(cfg, key), "source": self.source(key)} for key in all_keys()
        }
