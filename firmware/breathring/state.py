"""State that survives a reboot: reminders on/off and the last hourly pulse.

Kept in `state.json` under $STATE_DIRECTORY (default /var/lib/breathring) as
versioned JSON, e.g. `{"version": 1, "reminders_enabled": false,
"last_pulse": "2026-06-15T10:00:00+01:00"}`. Writes are atomic (temporary
file, fsync, rename, fsync of the directory), so a power cut leaves the old
file or the new one, never half of one. Nothing here ever raises on bad or
missing storage: a bad file means defaults, a failing save keeps the state in
memory, and each problem is logged once, not once per save.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from .atomic_file import replace_file

DEFAULT_STATE_DIR = Path("/var/lib/breathring")
STATE_DIR_ENV = "STATE_DIRECTORY"
STATE_FILE = "state.json"
TEMP_FILE = ".state.json.tmp"
STATE_VERSION = 1
FILE_MODE = 0o644
LOG = logging.getLogger("breathring.state")


@dataclass
class DeviceState:
    """What the device remembers. `reminders_enabled` None means: follow the config."""

    reminders_enabled: bool | None = None
    last_pulse: datetime | None = None


def state_dir_from(env: Mapping[str, str] | None = None) -> Path:
    """$STATE_DIRECTORY (the first of several colon-separated paths), else the default."""
    value = (os.environ if env is None else env).get(STATE_DIR_ENV, "")
    first = value.split(":", 1)[0].strip()
    return Path(first) if first else DEFAULT_STATE_DIR


def to_json(state: DeviceState) -> dict[str, Any]:
    """The file's content for `state`."""
    last = state.last_pulse.isoformat() if state.last_pulse is not None else None
    return {
        "version": STATE_VERSION,
        "reminders_enabled": state.reminders_enabled,
        "last_pulse": last,
    }


def from_json(data: object) -> tuple[DeviceState, list[str]]:
    """Parse the file's content; fields that are wrong fall back to defaults, with reasons."""
    if not isinstance(data, dict):
        return DeviceState(), [f"expected a JSON object, got {type(data).__name__}"]
    version = data.get("version")
    if type(version) is not int or version != STATE_VERSION:
        return DeviceState(), [f"version is {version!r}; allowed: {STATE_VERSION}"]
    problems = []
    enabled = data.get("reminders_enabled")
    if enabled is not None and not isinstance(enabled, bool):
        problems.append(f"reminders_enabled is {enabled!r}; allowed: true, false or null")
        enabled = None
    last = _parse_time(data.get("last_pulse"))
    if isinstance(last, str):
        problems.append(last)
        last = None
    return DeviceState(reminders_enabled=enabled, last_pulse=last), problems


def _parse_time(value: object) -> datetime | str | None:
    """A timezone-aware datetime, None, or the reason the value is not one."""
    if value is None:
        return None
    reason = f"last_pulse is {value!r}; allowed: an ISO 8601 time with UTC offset, or null"
    if not isinstance(value, str):
        return reason
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return reason
    return parsed if parsed.tzinfo is not None else reason


class StateStore:
    """Loads and atomically saves `DeviceState` in `directory/state.json`."""

    def __init__(self, directory: Path, log: logging.Logger = LOG) -> None:
        self.directory = Path(directory)
        self.path = self.directory / STATE_FILE
        self.log = log
        #: The latest state loaded or saved, kept even when saving fails.
        self.state = DeviceState()
        self._failing = False

    def load(self) -> DeviceState:
        """The saved state, or defaults (one warning) if the file is bad or unreadable."""
        self.state = self._read()
        return replace(self.state)

    def _read(self) -> DeviceState:
        try:
            raw = self.path.read_bytes()
        except FileNotFoundError:
            return DeviceState()  # first start: nothing saved yet
        except OSError as error:
            self.log.warning("cannot read saved state %s (%s); using defaults", self.path, error)
            return DeviceState()
        try:
            data = json.loads(raw.decode("utf-8"))
        except ValueError as error:  # includes UnicodeDecodeError and JSONDecodeError
            reason = "empty file" if not raw.strip() else f"not valid JSON: {error}"
            self.log.warning("ignoring saved state %s (%s); using defaults", self.path, reason)
            return DeviceState()
        state, problems = from_json(data)
        if problems:
            self.log.warning(
                "ignoring parts of saved state %s (%s); using defaults for them",
                self.path,
                "; ".join(problems),
            )
        return state

    def save(self, state: DeviceState) -> bool:
        """Write `state` atomically; False (warned once until it works again) on failure."""
        self.state = replace(state)
        try:
            self._write(json.dumps(to_json(state), indent=2).encode("utf-8") + b"\n")
        except OSError as error:
            if not self._failing:
                self.log.warning(
                    "cannot save state to %s (%s); keeping it in memory only", self.path, error
                )
                self._failing = True
            else:
                self.log.debug("still cannot save state to %s (%s)", self.path, error)
            return False
        if self._failing:
            self.log.info("saving state to %s works again", self.path)
            self._failing = False
        return True

    def _write(self, payload: bytes) -> None:
        replace_file(self.path, payload, TEMP_FILE, FILE_MODE)
