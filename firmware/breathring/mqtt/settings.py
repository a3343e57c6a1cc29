"""The `[mqtt]` section of the config file: a frozen dataclass and its validation.

The bridge reads only the `[mqtt]` table of the same TOML file the service
reads (other sections are the service's business). Errors are `ConfigError`s
with one line naming the file, the key, the bad value and what is allowed,
like every other section. The broker password is read from `password_file`,
never from the config itself.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import ConfigError

SECTION = "mqtt"
DEFAULT_HOST = "localhost"
DEFAULT_PORT = 1883
DEFAULT_TLS_PORT = 8883
PORT_MIN, PORT_MAX = 1, 65535
DEFAULT_KEEPALIVE_S = 60
KEEPALIVE_MIN_S, KEEPALIVE_MAX_S = 5, 3600
DEFAULT_DISCOVERY_PREFIX = "homeassistant"
DEFAULT_TOPIC = "breathring"
#: Where the default device_id comes from (hashed, never published as is).
MACHINE_ID_PATH = Path("/etc/machine-id")
#: Mixed into the machine id before hashing, so the id is ours alone (machine-id(5) asks this).
DEVICE_ID_SALT = b"breathring-mqtt-device-id\n"
#: Hex digits of the hash kept as the default device_id: short, stable, unlikely to collide.
DEVICE_ID_HEX_CHARS = 12
DEVICE_ID_MAX_CHARS = 64
TOPIC_MAX_CHARS = 200
HOST_MAX_CHARS = 253
#: A password file larger than this is not a password file.
MAX_PASSWORD_BYTES = 4096
SHOWN_MAX_CHARS = 60
MAX_CONFIG_BYTES = 1024 * 1024
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

#: Home Assistant's rule for node and object ids in discovery topics.
_DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
_HOST_RE = re.compile(r"^[A-Za-z0-9._:\[\]-]+$")

KEYS = (
    "host",
    "port",
    "username",
    "password_file",
    "tls",
    "ca_file",
    "discovery_prefix",
    "topic",
    "device_id",
    "keepalive",
)


@dataclass(frozen=True)
class MqttSettings:
    """The validated `[mqtt]` section; `password` comes from `password_file`."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    username: str | None = None
    password_file: Path | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    discovery_prefix: str = DEFAULT_DISCOVERY_PREFIX
    topic: str = DEFAULT_TOPIC
    device_id: str = ""
    keepalive: int = DEFAULT_KEEPALIVE_S

    def __repr__(self) -> str:  # never show the password in a log or traceback
        shown = "***" if self.password is not None else None
        return (
            f"MqttSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={shown}, tls={self.tls}, ca_file={self.ca_file}, "
            f"discovery_prefix={self.discovery_prefix!r}, topic={self.topic!r}, "
            f"device_id={self.device_id!r}, keepalive={self.keepalive})"
        )


class _Bad(Exception):
    """Internal: why a value is wrong (the caller adds file, key and value)."""


def _show(value: object) -> str:
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str):
        text = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    else:
        text = str(value)
    return text if len(text) <= SHOWN_MAX_CHARS else text[: SHOWN_MAX_CHARS - 3] + "..."


def _string(value: object, allowed: str) -> str:
    if not isinstance(value, str):
        raise _Bad(f"must be a string ({allowed})")
    return value


def _int(value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Bad(f"must be an integer ({low}-{high})")
    if not low <= value <= high:
        raise _Bad(f"is out of range; allowed {low}-{high}")
    return value


def check_topic(value: str, what: str) -> str:
    """An MQTT topic prefix we publish under: no wildcards, no empty levels."""
    allowed = f"{what} like \"breathring\" or \"home/bedroom\" (no + or #, no empty levels)"
    if not value:
        raise _Bad(f"is empty; allowed: {allowed}")
    if len(value) > TOPIC_MAX_CHARS:
        raise _Bad(f"is longer than {TOPIC_MAX_CHARS} characters; allowed: {allowed}")
    if "+" in value or "#" in value:
        raise _Bad(f"contains an MQTT wildcard (+ or #); allowed: {allowed}")
    if "" in value.split("/"):
        raise _Bad(f"has an empty level (a leading, trailing or double /); allowed: {allowed}")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in value):
        raise _Bad(f"contains a control character; allowed: {allowed}")
    return value


def check_device_id(value: str) -> str:
    """One topic level that Home Assistant accepts as a node id."""
    allowed = f"letters, digits, _ and -, 1-{DEVICE_ID_MAX_CHARS} characters"
    if not value or len(value) > DEVICE_ID_MAX_CHARS or not _DEVICE_ID_RE.match(value):
        raise _Bad(f"is not allowed; allowed: {allowed}")
    return value


def _readable_file(value: object) -> Path:
    text = _string(value, "a file path")
    if not text:
        raise _Bad("is empty; allowed: a file path")
    return Path(text)


def default_device_id(machine_id_path: Path = MACHINE_ID_PATH) -> str:
    """A short, stable id derived from the machine id (hashed, so the id itself stays private).

    Without a readable machine id the host name stands in (stable enough; say so in the log).
    """
    try:
        seed = machine_id_path.read_bytes().strip()
    except OSError:
        seed = b""
    if not seed:
        seed = os.uname().nodename.encode("utf-8", "replace")
    return hashlib.sha256(DEVICE_ID_SALT + seed).hexdigest()[:DEVICE_ID_HEX_CHARS]


def read_password(path: Path) -> str:
    """The password: the file's first line. Raises _Bad saying what is wrong with the file."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_PASSWORD_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise _Bad(
            f"cannot read {path}: {reason}; "
            "allowed: a file readable by the bridge holding the broker password"
        ) from None
    if len(raw) > MAX_PASSWORD_BYTES:
        raise _Bad(
            f"{path} is larger than {MAX_PASSWORD_BYTES} bytes; "
            "allowed: a file holding only the broker password"
        )
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise _Bad(
            f"{path} is not UTF-8 text; allowed: a text file holding the broker password"
        ) from None
    password = lines[0] if lines else ""
    if not password:
        raise _Bad(f"{path} is empty; allowed: a file whose first line is the broker password")
    return password


def _find_line(text: str | None, key: str) -> int | None:
    """Best effort: the line of `key = ...` inside [mqtt], else of the [mqtt] header."""
    if text is None:
        return None
    header = re.compile(r"^\s*\[\s*\"?([A-Za-z0-9_-]+)\"?\s*\]")
    key_re = re.compile(rf"^\s*\"?{re.escape(key)}\"?\s*=")
    current = ""
    header_line = None
    for number, line in enumerate(text.splitlines(), start=1):
        if m := header.match(line):
            current = m.group(1)
            if current == SECTION and header_line is None:
                header_line = number
            continue
        if current == SECTION and key_re.match(line):
            return number
    return header_line


def parse_mqtt(
    table: Mapping[str, Any] | None,
    source: str = "<config>",
    text: str | None = None,
    machine_id_path: Path = MACHINE_ID_PATH,
) -> MqttSettings:
    """The `[mqtt]` table (None: absent) -> MqttSettings; raises ConfigError (the first error)."""

    def error(message: str, key: str | None) -> ConfigError:
        dotted = f"{SECTION}.{key}" if key else SECTION
        line = _find_line(text, key or "")
        suffix = f" (line {line})" if line is not None else ""
        return ConfigError(f"{source}: {message}{suffix}", key=dotted, line=line)

    if table is None:
        table = {}
    if not isinstance(table, Mapping):
        raise error(f"mqtt = {_show(table)} must be a table; write it as an [mqtt] section", None)
    values: dict[str, Any] = {}
    for key, raw in table.items():
        if key not in KEYS:
            raise error(
                f"mqtt.{key} is not a known key; allowed keys in [mqtt]: {', '.join(KEYS)}", key
            )
        try:
            values[key] = _parse_key(key, raw)
        except _Bad as bad:
            raise error(f"mqtt.{key} = {_show(raw)} {bad}", key) from None
    if "ca_file" in values and not values.get("tls", False):
        raise error("mqtt.ca_file is only used with mqtt.tls = true; set tls = true", "ca_file")
    if "password_file" in values and "username" not in values:
        raise error(
            "mqtt.password_file needs mqtt.username (the broker checks the pair)", "password_file"
        )
    if values.get("tls") and "port" not in values:
        values["port"] = DEFAULT_TLS_PORT
    if "device_id" not in values:
        values["device_id"] = default_device_id(machine_id_path)
    if "password_file" in values:
        path = values["password_file"]
        try:
            values["password"] = read_password(path)
        except _Bad as bad:
            shown = _show(str(path))
            raise error(f"mqtt.password_file = {shown}: {bad}", "password_file") from None
    if "ca_file" in values and not os.access(values["ca_file"], os.R_OK):
        path = values["ca_file"]
        raise error(
            f"mqtt.ca_file = {_show(str(path))}: cannot read {path}; "
            "allowed: a readable PEM file of CA certificates (or leave it out: system CAs)",
            "ca_file",
        )
    return MqttSettings(**values)


def _parse_key(key: str, raw: object) -> object:
    if key == "host":
        host = _string(raw, "a host name or IP address")
        if not host or len(host) > HOST_MAX_CHARS or not _HOST_RE.match(host):
            raise _Bad("is not a host name; allowed: a host name or IP address, e.g. \"localhost\"")
        return host
    if key == "port":
        return _int(raw, PORT_MIN, PORT_MAX)
    if key == "keepalive":
        return _int(raw, KEEPALIVE_MIN_S, KEEPALIVE_MAX_S)
    if key == "username":
        name = _string(raw, "the broker user name")
        if not name:
            raise _Bad("is empty; allowed: the broker user name (or leave it out)")
        return name
    if key in ("password_file", "ca_file"):
        return _readable_file(raw)
    if key == "tls":
        if not isinstance(raw, bool):
            raise _Bad("must be true or false")
        return raw
    if key in ("discovery_prefix", "topic"):
        return check_topic(_string(raw, "an MQTT topic"), "a topic")
    if key == "device_id":
        return check_device_id(_string(raw, "an id"))
    raise AssertionError(key)


def load_mqtt_settings(
    path: str | os.PathLike[str] | None, machine_id_path: Path = MACHINE_ID_PATH
) -> MqttSettings:
    """Read the `[mqtt]` table of the config file at `path` (None: defaults)."""
    if path is None:
        return parse_mqtt(None, "no config file", None, machine_id_path)
    source = os.fspath(path)
    try:
        # O_NONBLOCK: a FIFO must not hang the bridge waiting for a writer.
        with open(os.open(source, _READ_FLAGS), "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise ConfigError(
                    f"{source}: cannot read the config file: not a regular file; "
                    "allowed: a TOML file"
                )
            raw = f.read(MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ConfigError(f"{source}: cannot read the config file: {reason}") from None
    if len(raw) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{source}: too large; a config file may be at most 1 MiB")
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
        data = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{source}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source}: invalid TOML: {exc}") from None
    return parse_mqtt(data.get(SECTION), source, text, machine_id_path)
