"""Configuration: TOML (stdlib tomllib) -> frozen dataclasses; every error names its key.

Each section is a frozen dataclass whose fields are the TOML keys. A field's
metadata holds its *spec* (how a raw TOML value is checked and normalised,
and how it is written back) and a one-line description, so the parser,
`to_toml`, `default_toml` and the documentation all come from one table.

Errors are raised as `ConfigError` with one line of text naming the file, the
key, the bad value and what is allowed, plus the line of the key when it can
be found. The first error found wins.

Modules: `values` (hour ranges, colours, pins, driver tables), `errors`, `validation`
(one spec per key, checks across keys), `schema` (the sections), `loading` (file and
TOML, `config check`), `writing` (TOML out), `session_patterns` (what a press starts).
"""

from .errors import ConfigError
from .loading import (
    CONFIG_ENV,
    DEFAULT_CONFIG_PATH,
    MAX_CONFIG_BYTES,
    check_file,
    config_path_from,
    load_config,
    parse_config,
    with_values,
)
from .schema import (
    SECTIONS,
    AudioConfig,
    ButtonConfig,
    Config,
    KeyInfo,
    MqttConfig,
    NightConfig,
    ReminderConfig,
    RingConfig,
    SessionConfig,
    key_infos,
)
from .session_patterns import long_pattern, session_pattern
from .values import (
    COLOR_ORDERS,
    CUSTOM_KEYS,
    DRIVER_GPIOS,
    GPIO_MAX,
    GPIO_MIN,
    REMINDER_PERIODS,
    RING_DRIVERS,
    SPI0_GPIOS,
    HourRange,
    format_color,
    gpio_number,
    parse_color,
    parse_hour_range,
)
from .writing import default_toml, to_toml

__all__ = [
    "COLOR_ORDERS",
    "CONFIG_ENV",
    "CUSTOM_KEYS",
    "DEFAULT_CONFIG_PATH",
    "DRIVER_GPIOS",
    "GPIO_MAX",
    "GPIO_MIN",
    "MAX_CONFIG_BYTES",
    "REMINDER_PERIODS",
    "RING_DRIVERS",
    "SECTIONS",
    "SPI0_GPIOS",
    "AudioConfig",
    "ButtonConfig",
    "Config",
    "ConfigError",
    "HourRange",
    "KeyInfo",
    "MqttConfig",
    "NightConfig",
    "ReminderConfig",
    "RingConfig",
    "SessionConfig",
    "check_file",
    "config_path_from",
    "default_toml",
    "format_color",
    "gpio_number",
    "key_infos",
    "load_config",
    "long_pattern",
    "parse_color",
    "parse_config",
    "parse_hour_range",
    "session_pattern",
    "to_toml",
    "with_values",
]
