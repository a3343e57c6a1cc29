"""The bridge's runtime settings: the validated `[mqtt]` section, resolved.

The config package checks every key of `[mqtt]` (breathring.config.MqttConfig),
like every other section. What is left here is the bridge's own business:
read the broker password from `password_file`, check that `ca_file` can be
read, derive the default device id from the machine id, and pick the port
(`port = 0`: 1883, or 8883 with TLS). Errors are `ConfigError`s with one line
naming the file, the key, the value, what is allowed and the line of the key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from ..breath_rate import MQTT as SENSOR_MQTT
from ..breath_rate import NO_SENSOR
from ..config import ConfigError, MqttConfig, load_config
from ..config.errors import ErrorContext
from ..config.schema import BreathSensorConfig
from ..config.validation import show_value
from ..config.values import MQTT_PORT, MQTT_PORT_AUTO, MQTT_TLS_PORT

#: Where the default device_id comes from (hashed, never published as is).
MACHINE_ID_PATH = Path("/etc/machine-id")
#: Mixed into the machine id before hashing, so the id is ours alone (machine-id(5) asks this).
DEVICE_ID_SALT = b"breathring-mqtt-device-id\n"
#: Hex digits of the hash kept as the default device_id: short, stable, unlikely to collide.
DEVICE_ID_HEX_CHARS = 12
#: A password file larger than this is not a password file.
MAX_PASSWORD_BYTES = 4096
#: Names the source in messages when no config file is read.
NO_FILE = "no config file"

_DEFAULTS = MqttConfig()
T = TypeVar("T")


@dataclass(frozen=True)
class MqttSettings:
    """What the bridge connects with; `password` comes from `password_file`."""

    host: str = _DEFAULTS.host
    port: int = MQTT_PORT
    username: str | None = None
    password: str | None = None
    tls: bool = False
    ca_file: Path | None = None
    discovery_prefix: str = _DEFAULTS.discovery_prefix
    topic: str = _DEFAULTS.topic
    device_id: str = ""
    keepalive: int = _DEFAULTS.keepalive
    #: `[breath_sensor] kind`: anything but "none" announces the Breathing rate sensor.
    breath_sensor: str = NO_SENSOR
    #: With `kind = "mqtt"`: the topic whose readings the bridge passes to the service.
    breath_topic: str | None = None

    def __repr__(self) -> str:  # never show the password in a log or traceback
        shown = "***" if self.password is not None else None
        return (
            f"MqttSettings(host={self.host!r}, port={self.port}, username={self.username!r}, "
            f"password={shown}, tls={self.tls}, ca_file={self.ca_file}, "
            f"discovery_prefix={self.discovery_prefix!r}, topic={self.topic!r}, "
            f"device_id={self.device_id!r}, keepalive={self.keepalive}, "
            f"breath_sensor={self.breath_sensor!r}, breath_topic={self.breath_topic!r})"
        )


class FileProblem(Exception):
    """Why a file named by the section cannot be used (the caller adds file, key and line)."""


def default_device_id(machine_id_path: Path = MACHINE_ID_PATH) -> str:
    """A short, stable id derived from the machine id (hashed, so the id itself stays private).

    Without a readable machine id the host name stands in (stable enough).
    """
    try:
        seed = machine_id_path.read_bytes().strip()
    except OSError:
        seed = b""
    if not seed:
        seed = os.uname().nodename.encode("utf-8", "replace")
    return hashlib.sha256(DEVICE_ID_SALT + seed).hexdigest()[:DEVICE_ID_HEX_CHARS]


def resolved_port(mqtt: MqttConfig) -> int:
    """The port to connect to: `port`, or by `tls` when it is 0."""
    if mqtt.port != MQTT_PORT_AUTO:
        return mqtt.port
    return MQTT_TLS_PORT if mqtt.tls else MQTT_PORT


def read_password(path: Path) -> str:
    """The password: the file's first line. Raises FileProblem saying what is wrong."""
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_PASSWORD_BYTES + 1)
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise FileProblem(
            f"cannot read {path}: {reason}; "
            "allowed: a file readable by the bridge holding the broker password"
        ) from None
    if len(raw) > MAX_PASSWORD_BYTES:
        raise FileProblem(
            f"{path} is larger than {MAX_PASSWORD_BYTES} bytes; "
            "allowed: a file holding only the broker password"
        )
    try:
        lines = raw.decode("utf-8").splitlines()
    except UnicodeDecodeError:
        raise FileProblem(
            f"{path} is not UTF-8 text; allowed: a text file holding the broker password"
        ) from None
    password = lines[0] if lines else ""
    if not password:
        raise FileProblem(
            f"{path} is empty; allowed: a file whose first line is the broker password"
        )
    return password


def check_ca_file(path: Path) -> Path:
    """`path` if the bridge can read it; raises FileProblem otherwise."""
    if not os.access(path, os.R_OK):
        raise FileProblem(
            f"cannot read {path}; "
            "allowed: a readable PEM file of CA certificates (or leave it out: system CAs)"
        )
    return path


def resolve(
    mqtt: MqttConfig,
    source: str | os.PathLike[str] | None = None,
    machine_id_path: Path = MACHINE_ID_PATH,
    breath: BreathSensorConfig | None = None,
) -> MqttSettings:
    """The validated `[mqtt]` section of `source` -> the settings the bridge connects with;
    `breath`: its `[breath_sensor]` (which sensor, and the topic of kind "mqtt")."""
    breath = breath or BreathSensorConfig()
    password = None
    if mqtt.password_file:
        password = _checked(mqtt, "password_file", read_password, source)
    ca_file = _checked(mqtt, "ca_file", check_ca_file, source) if mqtt.ca_file else None
    return MqttSettings(
        host=mqtt.host,
        port=resolved_port(mqtt),
        username=mqtt.username or None,
        password=password,
        tls=mqtt.tls,
        ca_file=ca_file,
        discovery_prefix=mqtt.discovery_prefix,
        topic=mqtt.topic,
        device_id=mqtt.device_id or default_device_id(machine_id_path),
        keepalive=mqtt.keepalive,
        breath_sensor=breath.kind,
        breath_topic=breath.topic if breath.kind == SENSOR_MQTT else None,
    )


def _checked(
    mqtt: MqttConfig,
    key: str,
    check: Callable[[Path], T],
    source: str | os.PathLike[str] | None,
) -> T:
    """check(the file named by mqtt.<key>), its FileProblem raised as a ConfigError."""
    value = getattr(mqtt, key)
    try:
        return check(Path(value))
    except FileProblem as problem:
        raise _file_error(source, key, value, problem) from None


def _file_error(
    source: str | os.PathLike[str] | None, key: str, value: str, problem: FileProblem
) -> ConfigError:
    """One line like every config error: file, key = value, what is wrong, (line N)."""
    text = None
    if source is not None:
        try:  # only for the line number: the file was read and checked a moment ago
            text = Path(source).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            text = None
    ctx = ErrorContext(os.fspath(source) if source is not None else NO_FILE, text)
    dotted = f"mqtt.{key}"
    return ctx.error(f"{dotted} = {show_value(value)}: {problem}", key=dotted)


def load_mqtt_settings(
    path: str | os.PathLike[str] | None, machine_id_path: Path = MACHINE_ID_PATH
) -> MqttSettings:
    """Load and check the whole config file at `path` (None: defaults); resolve its `[mqtt]`
    (and its `[breath_sensor]`)."""
    cfg = load_config(path)
    return resolve(cfg.mqtt, path, machine_id_path, cfg.breath_sensor)
