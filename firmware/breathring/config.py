"""Configuration: TOML (stdlib tomllib) -> frozen dataclasses; every error names its key.

Each section is a frozen dataclass whose fields are the TOML keys. A field's
metadata holds its *spec* (how a raw TOML value is checked and normalised,
and how it is written back) and a one-line description, so the parser,
`to_toml`, `default_toml` and the documentation all come from one table.

Errors are raised as `ConfigError` with one line of text naming the file, the
key, the bad value and what is allowed, plus the line of the key when it can
be found. The first error found wins.
"""

from __future__ import annotations

import difflib
import os
import re
import stat
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from . import patterns
from .patterns import Pattern, PatternError

#: Where the service looks when neither --config nor $BREATHRING_CONFIG is given.
DEFAULT_CONFIG_PATH = Path("/etc/breathring/config.toml")
#: Environment variable naming the config file.
CONFIG_ENV = "BREATHRING_CONFIG"
#: A config file larger than this is refused unread.
MAX_CONFIG_BYTES = 1024 * 1024
_READ_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)

#: Exit codes returned by `check_file`.
EXIT_OK = 0
EXIT_CONFIG = 78

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR
SECONDS_PER_MINUTE = 60
#: Reminder periods: divisors of an hour, or whole hours dividing a day (pulses align to the hour).
REMINDER_PERIODS = tuple(
    [m for m in range(1, MINUTES_PER_HOUR) if MINUTES_PER_HOUR % m == 0]
    + [
        m
        for m in range(MINUTES_PER_HOUR, MINUTES_PER_DAY + 1, MINUTES_PER_HOUR)
        if MINUTES_PER_DAY % m == 0
    ]
)

#: BCM GPIO numbers on the 40-pin header.
GPIO_MIN = 0
GPIO_MAX = 27
#: LED drivers and the pins each can drive (None = any GPIO).
RING_DRIVERS = ("spi", "pwm", "pi5")
SPI_MOSI_GPIO = 10
#: rpi_ws281x: PWM0 on 12/18, PWM1 on 13/19, PCM on 21, SPI on 10.
PWM_GPIOS = (10, 12, 13, 18, 19, 21)
DRIVER_GPIOS: dict[str, tuple[int, ...] | None] = {
    "spi": (SPI_MOSI_GPIO,),
    "pwm": PWM_GPIOS,
    "pi5": None,
}
#: GPIOs held by SPI0 (CE1, CE0, MISO, MOSI, SCLK) once the spi driver is in use.
SPI0_GPIOS = (7, 8, 9, 10, 11)

COLOR_ORDERS = ("RGB", "RBG", "GRB", "GBR", "BRG", "BGR", "RGBW", "GRBW")
BYTE_MAX = 255

#: Longest value shown in an error message before it is cut short.
SHOWN_MAX_CHARS = 60
#: Fuzzy-match threshold for "did you mean" suggestions.
SUGGEST_CUTOFF = 0.6


class ConfigError(Exception):
    """A bad configuration: str(e) is the full one-line message.

    `key` is the dotted key at fault (if any) and `line` its line in the file (if found).
    """

    def __init__(self, message: str, key: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line

    def __str__(self) -> str:
        return self.message


class _Bad(Exception):
    """Internal: why a value is wrong, without the file prefix."""


# --------------------------------------------------------------------------- hour ranges


@dataclass(frozen=True)
class HourRange:
    """A daily span of local time, [start, end) in minutes since midnight; may wrap midnight.

    end_minute may be 1440 (written "24:00") so that "00:00-24:00" is the whole day.
    """

    start_minute: int
    end_minute: int

    def __post_init__(self) -> None:
        if not 0 <= self.start_minute < MINUTES_PER_DAY:
            raise ValueError(f"start_minute = {self.start_minute} must be 0-{MINUTES_PER_DAY - 1}")
        if not 0 <= self.end_minute <= MINUTES_PER_DAY:
            raise ValueError(f"end_minute = {self.end_minute} must be 0-{MINUTES_PER_DAY}")
        if self.start_minute == self.end_minute:
            raise ValueError(f"{self} is an empty range; start and end must differ")

    @property
    def wraps(self) -> bool:
        """True when the range runs past midnight (e.g. 22:00-07:00)."""
        return self.end_minute < self.start_minute

    def contains(self, minute_of_day: float) -> bool:
        """Whether `minute_of_day` (0 <= m < 1440, fractions allowed) lies in the range."""
        if self.wraps:
            return minute_of_day >= self.start_minute or minute_of_day < self.end_minute
        return self.start_minute <= minute_of_day < self.end_minute

    def __str__(self) -> str:
        return f"{_hhmm(self.start_minute)}-{_hhmm(self.end_minute)}"


def _hhmm(minute: int) -> str:
    return f"{minute // MINUTES_PER_HOUR:02d}:{minute % MINUTES_PER_HOUR:02d}"


_HOURS_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")


def parse_hour_range(text: str) -> HourRange:
    """'HH:MM-HH:MM' -> HourRange; raises ValueError with the reason."""
    m = _HOURS_RE.match(text)
    if m is None:
        raise ValueError("not HH:MM-HH:MM")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2 != 0):
        raise ValueError("not a time of day")
    return HourRange(h1 * MINUTES_PER_HOUR + m1, h2 * MINUTES_PER_HOUR + m2)


# --------------------------------------------------------------------------- colours and pins

_COLOR_RE = re.compile(r"^#([0-9a-fA-F]{6})$")


def format_color(rgb: tuple[int, int, int]) -> str:
    """(60, 155, 255) -> '#3C9BFF'."""
    r, g, b = rgb
    return f"#{r:02X}{g:02X}{b:02X}"


def parse_color(text: str) -> tuple[int, int, int]:
    """'#3C9BFF' (any case) -> (60, 155, 255); raises ValueError otherwise."""
    m = _COLOR_RE.match(text)
    if m is None:
        raise ValueError("not #RRGGBB")
    value = int(m.group(1), 16)
    return (value >> 16) & BYTE_MAX, (value >> 8) & BYTE_MAX, value & BYTE_MAX


_PIN_RE = re.compile(r"^(?:GPIO|D)(\d{1,2})$", re.IGNORECASE)


def gpio_number(pin: str) -> int:
    """'GPIO17' -> 17."""
    return int(pin.removeprefix("GPIO"))


# --------------------------------------------------------------------------- value specs


def _toml_string(text: str) -> str:
    """A TOML basic string for any text (control characters escaped)."""
    out = ['"']
    for ch in text:
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 0x20 or ord(ch) == 0x7F:
            out.append(f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _toml_scalar(value: object) -> str:
    """A TOML literal for a native TOML scalar (bool, int, float, str)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return _toml_string(value)
    return repr(value)


def _show(value: object) -> str:
    """A raw TOML value as it would be written, cut short for messages."""
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {_show(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(_show(v) for v in value) + "]"
    else:
        text = _toml_scalar(value) if isinstance(value, bool | int | float | str) else str(value)
    if len(text) > SHOWN_MAX_CHARS:
        text = text[: SHOWN_MAX_CHARS - 3] + "..."
    return text


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=SUGGEST_CUTOFF)
    return found[0] if found else None


class _Spec:
    """How one key's raw TOML value is checked, normalised and written back."""

    def parse(self, name: str, value: object) -> object:
        raise NotImplementedError

    def dump(self, value: object) -> object:
        """The stored value as a native TOML scalar (None = unset)."""
        return value

    def allowed(self, name: str) -> str:
        """Allowed values, for messages and docs."""
        raise NotImplementedError


@dataclass(frozen=True)
class _Int(_Spec):
    low: int
    high: int
    #: Allowed range in words, when it depends on another key.
    note: str = ""

    def parse(self, name: str, value: object) -> int:
        if not _is_int(value):
            raise _Bad(f"must be an integer ({self.allowed(name)})")
        assert isinstance(value, int)
        if not self.low <= value <= self.high:
            raise _Bad(f"is out of range; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return self.note or f"{self.low}-{self.high}"


@dataclass(frozen=True)
class _Float(_Spec):
    low: float
    high: float
    low_open: bool = False

    def parse(self, name: str, value: object) -> float:
        if not _is_number(value):
            raise _Bad(f"must be a number ({self.allowed(name)})")
        number = float(value)  # type: ignore[arg-type]
        low_ok = number > self.low if self.low_open else number >= self.low
        if not (low_ok and number <= self.high):
            raise _Bad(f"is out of range; allowed {self.allowed(name)}")
        return number

    def allowed(self, name: str) -> str:
        if self.low_open:
            return f"{self.low:g} < {name} <= {self.high:g}"
        return f"{self.low:g}-{self.high:g}"


@dataclass(frozen=True)
class _OptionalSeconds(_Spec):
    """A duration that is unset by default; its range is checked by patterns.custom_pattern."""

    low: float
    high: float

    def parse(self, name: str, value: object) -> float:
        if not _is_number(value):
            raise _Bad(f"must be a number of seconds ({self.allowed(name)})")
        return float(value)  # type: ignore[arg-type]

    def allowed(self, name: str) -> str:
        return f'{self.low:g}-{self.high:g} s; only with pattern = "custom"'


@dataclass(frozen=True)
class _Bool(_Spec):
    def parse(self, name: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise _Bad("must be true or false")
        return value

    def allowed(self, name: str) -> str:
        return "true or false"


@dataclass(frozen=True)
class _Choice(_Spec):
    choices: tuple[str, ...]
    noun: str
    #: "upper", "lower" or "" (case-sensitive).
    fold: str = ""

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be a string ({self.allowed(name)})")
        text = value.upper() if self.fold == "upper" else value.lower() if self.fold else value
        if text not in self.choices:
            hint = _suggest(text, self.choices)
            tail = f"; did you mean {_toml_string(hint)}?" if hint else ""
            raise _Bad(f"is not {self.noun}; allowed: {', '.join(self.choices)}{tail}")
        return text

    def allowed(self, name: str) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class _IntChoice(_Spec):
    choices: tuple[int, ...]
    why: str

    def parse(self, name: str, value: object) -> int:
        if not _is_int(value):
            raise _Bad(f"must be an integer ({self.allowed(name)})")
        if value not in self.choices:
            raise _Bad(f"is not allowed; allowed {self.allowed(name)}")
        return value  # type: ignore[return-value]

    def allowed(self, name: str) -> str:
        return f"{', '.join(map(str, self.choices))} ({self.why})"


@dataclass(frozen=True)
class _PowerOfTwo(_Spec):
    low: int
    high: int

    def parse(self, name: str, value: object) -> int:
        if not _is_int(value):
            raise _Bad(f"must be an integer ({self.allowed(name)})")
        assert isinstance(value, int)
        if not (self.low <= value <= self.high and value & (value - 1) == 0):
            raise _Bad(f"is not allowed; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return f"a power of two, {self.low}-{self.high}"


@dataclass(frozen=True)
class _Color(_Spec):
    example: str

    def parse(self, name: str, value: object) -> tuple[int, int, int]:
        try:
            if not isinstance(value, str):
                raise ValueError
            return parse_color(value)
        except ValueError:
            raise _Bad(f"is not a colour; allowed {self.allowed(name)}") from None

    def dump(self, value: object) -> object:
        return format_color(value)  # type: ignore[arg-type]

    def allowed(self, name: str) -> str:
        return f'"#RRGGBB", e.g. "{self.example}"'


@dataclass(frozen=True)
class _Pin(_Spec):
    def parse(self, name: str, value: object) -> str:
        number: int | None = None
        if _is_int(value):
            number = value  # type: ignore[assignment]
        elif isinstance(value, str) and (m := _PIN_RE.match(value.strip())):
            number = int(m.group(1))
        if number is None or not GPIO_MIN <= number <= GPIO_MAX:
            raise _Bad(f"is not a GPIO pin; allowed {self.allowed(name)}")
        return f"GPIO{number}"

    def allowed(self, name: str) -> str:
        return f'"GPIO{GPIO_MIN}"-"GPIO{GPIO_MAX}" (BCM numbers; "D17" or 17 also accepted)'


@dataclass(frozen=True)
class _Hours(_Spec):
    example: str

    def parse(self, name: str, value: object) -> HourRange:
        if not isinstance(value, str):
            raise _Bad(f"is not an hour range; allowed {self.allowed(name)}")
        try:
            return parse_hour_range(value)
        except ValueError as e:
            if "empty" in str(e):
                raise _Bad(
                    'is an empty range; start and end must differ ("00:00-24:00" = all day)'
                ) from None
            raise _Bad(f"is not an hour range; allowed {self.allowed(name)}") from None

    def dump(self, value: object) -> object:
        return str(value)

    def allowed(self, name: str) -> str:
        return f'"HH:MM-HH:MM" (may wrap midnight), e.g. "{self.example}"'


@dataclass(frozen=True)
class _Word(_Spec):
    """Empty, or one lower-case word of [a-z0-9_]."""

    examples: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be a string ({self.allowed(name)})")
        word = value.strip().lower()
        if word and not re.fullmatch(r"[a-z0-9_]+", word):
            raise _Bad(f"is not allowed; allowed {self.allowed(name)}")
        return word

    def allowed(self, name: str) -> str:
        return f'"" (automatic) or a name of letters, digits and _, e.g. {self.examples}'


@dataclass(frozen=True)
class _Text(_Spec):
    meaning: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise _Bad(f"must be a string ({self.allowed(name)})")
        return value

    def allowed(self, name: str) -> str:
        return self.meaning


def _meta(spec: _Spec, doc: str) -> dict[str, Any]:
    return {"spec": spec, "doc": doc}


# --------------------------------------------------------------------------- sections


@dataclass(frozen=True)
class RingConfig:
    """[ring]: the LED ring and how bright it may get."""

    pixels: int = field(default=24, metadata=_meta(_Int(1, 1000), "number of LEDs on the ring"))
    brightness: float = field(
        default=0.5,
        metadata=_meta(_Float(0.0, 1.0, low_open=True), "daytime cap on every wire value (linear)"),
    )
    color: tuple[int, int, int] = field(
        default=(0x3C, 0x9B, 0xFF), metadata=_meta(_Color("#3C9BFF"), "colour of the breath")
    )
    max_milliamps: float = field(
        default=400.0,
        metadata=_meta(_Float(50.0, 20000.0), "estimated-current budget of the ring (mA)"),
    )
    milliamps_per_channel: float = field(
        default=20.0, metadata=_meta(_Float(1.0, 100.0), "current of one LED channel at 255 (mA)")
    )
    idle_milliamps: float = field(
        default=1.0, metadata=_meta(_Float(0.0, 10.0), "idle draw of one pixel's driver chip (mA)")
    )
    start_pixel: int = field(
        default=0,
        metadata=_meta(
            _Int(0, 999, note="0 to ring.pixels - 1"), "pixel the light grows from (0 = bottom)"
        ),
    )
    fps: int = field(
        default=100, metadata=_meta(_Int(1, 240), "frames per second while the light changes")
    )
    order: str = field(
        default="GRB",
        metadata=_meta(
            _Choice(COLOR_ORDERS, "a known colour order", fold="upper"),
            "colour order the LEDs expect (most WS2812 rings: GRB)",
        ),
    )
    pin: str = field(
        default=f"GPIO{SPI_MOSI_GPIO}",
        metadata=_meta(_Pin(), "data pin (spi: GPIO10; pwm: GPIO10, 12, 13, 18, 19 or 21)"),
    )
    driver: str = field(
        default="spi",
        metadata=_meta(
            _Choice(RING_DRIVERS, "a known LED driver", fold="lower"),
            "spi (no root), pwm (root; Pi 1-4), pi5 (Pi 5 PIO)",
        ),
    )


@dataclass(frozen=True)
class SessionConfig:
    """[session]: what a press (and a double press) starts."""

    pattern: str = field(
        default="three-breath",
        metadata=_meta(
            _Choice(patterns.PATTERN_NAMES, "a known pattern"), "breath pattern of a short press"
        ),
    )
    breaths: int = field(
        default=3, metadata=_meta(_Int(1, 100), "breaths in a short-press session")
    )
    inhale: float | None = field(
        default=None,
        metadata=_meta(
            _OptionalSeconds(patterns.BREATH_MIN_S, patterns.BREATH_MAX_S), "custom in-breath (s)"
        ),
    )
    hold_in: float | None = field(
        default=None,
        metadata=_meta(
            _OptionalSeconds(patterns.HOLD_MIN_S, patterns.HOLD_MAX_S),
            "custom hold after the in-breath (s; default 0)",
        ),
    )
    exhale: float | None = field(
        default=None,
        metadata=_meta(
            _OptionalSeconds(patterns.BREATH_MIN_S, patterns.BREATH_MAX_S), "custom out-breath (s)"
        ),
    )
    hold_out: float | None = field(
        default=None,
        metadata=_meta(
            _OptionalSeconds(patterns.HOLD_MIN_S, patterns.HOLD_MAX_S),
            "custom hold after the out-breath (s; default 0)",
        ),
    )
    long_pattern: str = field(
        default="coherent",
        metadata=_meta(
            _Choice(tuple(patterns.PRESETS), "a preset pattern"), "breath pattern of a double press"
        ),
    )
    long_breaths: int = field(
        default=10, metadata=_meta(_Int(1, 100), "breaths in a double-press session")
    )


CUSTOM_KEYS = ("inhale", "hold_in", "exhale", "hold_out")


@dataclass(frozen=True)
class ReminderConfig:
    """[reminder]: the gentle pulse that invites three breaths."""

    enabled: bool = field(
        default=True, metadata=_meta(_Bool(), "pulse at set times (a long press toggles this)")
    )
    every_minutes: int = field(
        default=60,
        metadata=_meta(
            _IntChoice(REMINDER_PERIODS, "divides an hour, or whole hours dividing a day"),
            "minutes between pulses, aligned to the hour",
        ),
    )
    active_hours: HourRange = field(
        default=HourRange(8 * MINUTES_PER_HOUR, 22 * MINUTES_PER_HOUR),
        metadata=_meta(_Hours("08:00-22:00"), "local hours in which pulses happen"),
    )
    seconds: float = field(
        default=30.0, metadata=_meta(_Float(5.0, 300.0), "how long a pulse glows (s)")
    )
    sound: bool = field(
        default=False, metadata=_meta(_Bool(), "play the reminder cue with the pulse")
    )


@dataclass(frozen=True)
class NightConfig:
    """[night]: quiet hours: dim, warm light and soft cues."""

    hours: HourRange = field(
        default=HourRange(22 * MINUTES_PER_HOUR, 7 * MINUTES_PER_HOUR),
        metadata=_meta(_Hours("22:00-07:00"), "local quiet hours"),
    )
    brightness: float = field(
        default=0.05,
        metadata=_meta(
            _Float(0.0, 1.0, low_open=True),
            "brightness cap in quiet hours (replaces ring.brightness)",
        ),
    )
    color: tuple[int, int, int] = field(
        default=(0xFF, 0x8C, 0x32),
        metadata=_meta(_Color("#FF8C32"), "colour in quiet hours (replaces ring.color)"),
    )
    volume: float = field(
        default=0.25,
        metadata=_meta(_Float(0.0, 1.0), "cue volume in quiet hours (replaces audio.volume)"),
    )


@dataclass(frozen=True)
class AudioConfig:
    """[audio]: the sound cues that guide a session with eyes closed."""

    enabled: bool = field(default=True, metadata=_meta(_Bool(), "play sound cues"))
    volume: float = field(default=0.6, metadata=_meta(_Float(0.0, 1.0), "cue volume by day"))
    driver: str = field(
        default="",
        metadata=_meta(
            _Word('"alsa", "pulseaudio", "pipewire", "disk", "dummy"'),
            "SDL audio driver; empty = let SDL choose",
        ),
    )
    device: str = field(
        default="",
        metadata=_meta(
            _Text('"" (default) or an SDL device name'), "SDL audio device; empty = default"
        ),
    )
    cues_dir: str = field(
        default="",
        metadata=_meta(
            _Text('"" (bundled) or a directory path'), "directory of cue WAVs; empty = bundled"
        ),
    )
    guide_tone: bool = field(
        default=False, metadata=_meta(_Bool(), "a soft tone that swells and fades with each phase")
    )
    buffer_samples: int = field(
        default=1024,
        metadata=_meta(_PowerOfTwo(256, 8192), "mixer buffer (samples): smaller = lower latency"),
    )


@dataclass(frozen=True)
class ButtonConfig:
    """[button]: the bedside push button (to ground; internal pull-up)."""

    pin: str = field(default="GPIO17", metadata=_meta(_Pin(), "GPIO pin of the button"))
    hold_seconds: float = field(
        default=2.0, metadata=_meta(_Float(0.5, 10.0), "press this long to toggle reminders (s)")
    )
    double_seconds: float = field(
        default=0.4,
        metadata=_meta(_Float(0.1, 2.0), "longest gap between the presses of a double (s)"),
    )
    bounce_seconds: float = field(
        default=0.03, metadata=_meta(_Float(0.0, 0.5), "contact-bounce filter (s)")
    )


@dataclass(frozen=True)
class Config:
    """The whole configuration; `Config()` is the default one."""

    ring: RingConfig = field(default_factory=RingConfig)
    session: SessionConfig = field(default_factory=SessionConfig)
    reminder: ReminderConfig = field(default_factory=ReminderConfig)
    night: NightConfig = field(default_factory=NightConfig)
    audio: AudioConfig = field(default_factory=AudioConfig)
    button: ButtonConfig = field(default_factory=ButtonConfig)


#: Section name -> its dataclass, in file order.
SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Config)}  # type: ignore[misc]


@dataclass(frozen=True)
class KeyInfo:
    """One documented key: for docs, `default_toml` and tools."""

    section: str
    key: str
    spec: _Spec
    doc: str
    default: object

    @property
    def dotted(self) -> str:
        return f"{self.section}.{self.key}"

    @property
    def allowed(self) -> str:
        return self.spec.allowed(self.key)


def key_infos() -> Iterator[KeyInfo]:
    """Every key of every section, in file order."""
    for section, cls in SECTIONS.items():
        for f in fields(cls):
            yield KeyInfo(section, f.name, f.metadata["spec"], f.metadata["doc"], f.default)


def _section_keys(section: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(SECTIONS[section]))


# --------------------------------------------------------------------------- parsing


class _Ctx:
    """Builds messages: file name prefix and best-effort line numbers."""

    def __init__(self, source: str, text: str | None) -> None:
        self.source = source
        self.lines = text.splitlines() if text is not None else []

    def error(self, message: str, key: str | None = None, line: int | None = None) -> ConfigError:
        if line is None and key is not None:
            line = self.find_line(key)
        suffix = f" (line {line})" if line is not None else ""
        return ConfigError(f"{self.source}: {message}{suffix}", key=key, line=line)

    def find_line(self, dotted: str) -> int | None:
        """Line (1-based) of `section.key = ...` or of `[section]`; best effort."""
        section, _, key = dotted.partition(".")
        header = re.compile(r"^\s*\[\s*(\"?)([A-Za-z0-9_-]+)\1\s*\]")
        key_re = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=") if key else None
        dotted_re = re.compile(
            rf"^\s*(\"?){re.escape(section)}\1\s*\.\s*(\"?){re.escape(key)}\2\s*="
        )
        current = ""
        for number, line in enumerate(self.lines, start=1):
            if m := header.match(line):
                current = m.group(2)
                if not key and current == section:
                    return number
                continue
            if key_re and current == section and key_re.match(line):
                return number
            if not key and not current and re.match(rf"^\s*(\"?){re.escape(section)}\1\s*=", line):
                return number
            if key and not current and dotted_re.match(line):
                return number
        if key:  # inline table, or key absent: fall back to the section header
            for number, line in enumerate(self.lines, start=1):
                if (m := header.match(line)) and m.group(2) == section:
                    return number
        return None


_TOML_POS_RE = re.compile(r"^(?P<msg>.*) \(at line (?P<line>\d+), column (?P<col>\d+)\)$")
_TOML_END = " (at end of document)"


def _loads(text: str, ctx: _Ctx) -> dict[str, Any]:
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


def _unknown_section(name: str, value: object, ctx: _Ctx) -> ConfigError:
    owners = [s for s in SECTIONS if name in _section_keys(s)]
    if owners:
        return ctx.error(
            f"{name} is not a known section; did you mean {owners[0]}.{name}? "
            f"(put it under [{owners[0]}])",
            key=name,
        )
    hint = _suggest(name, list(SECTIONS))
    tail = f"did you mean [{hint}]?" if hint else f"allowed sections: {', '.join(SECTIONS)}"
    return ctx.error(f"[{name}] is not a known section; {tail}", key=name)


def _unknown_key(section: str, key: str, ctx: _Ctx) -> ConfigError:
    known = _section_keys(section)
    hint = _suggest(key, known)
    if hint:
        tail = f"did you mean {section}.{hint}?"
    else:
        others = [s for s in SECTIONS if key in _section_keys(s)]
        tail = (
            "it belongs in " + " or ".join(f"[{o}]" for o in others)
            if others
            else f"allowed keys in [{section}]: {', '.join(known)}"
        )
    return ctx.error(f"{section}.{key} is not a known key; {tail}", key=f"{section}.{key}")


def _build(data: Mapping[str, Any], ctx: _Ctx) -> Config:
    """Validate parsed TOML data and build the Config; raises the first ConfigError."""
    values: dict[str, dict[str, Any]] = {name: {} for name in SECTIONS}
    for name, body in data.items():
        if name not in SECTIONS:
            raise _unknown_section(name, body, ctx)
        if not isinstance(body, dict):
            raise ctx.error(
                f"{name} = {_show(body)} must be a table; write it as a [{name}] section",
                key=name,
            )
        specs = {f.name: f.metadata["spec"] for f in fields(SECTIONS[name])}
        for key, raw in body.items():
            if key not in specs:
                raise _unknown_key(name, key, ctx)
            dotted = f"{name}.{key}"
            try:
                values[name][key] = specs[key].parse(key, raw)
            except _Bad as bad:
                raise ctx.error(f"{dotted} = {_show(raw)} {bad}", key=dotted) from None
    cfg = Config(**{name: SECTIONS[name](**values[name]) for name in SECTIONS})
    return _check_together(cfg, values, ctx)


def _check_together(cfg: Config, given: dict[str, dict[str, Any]], ctx: _Ctx) -> Config:
    """Checks that involve more than one key; returns cfg with custom holds filled in."""
    ring, button, reminder = cfg.ring, cfg.button, cfg.reminder
    if ring.start_pixel >= ring.pixels:
        raise ctx.error(
            f"ring.start_pixel = {ring.start_pixel} is out of range; "
            f"allowed 0-{ring.pixels - 1} (0 to ring.pixels - 1)",
            key="ring.start_pixel" if "start_pixel" in given["ring"] else "ring.pixels",
        )
    driver_pins = DRIVER_GPIOS[ring.driver]
    if driver_pins is not None and gpio_number(ring.pin) not in driver_pins:
        allowed = ", ".join(f'"GPIO{n}"' for n in driver_pins)
        raise ctx.error(
            f'ring.pin = "{ring.pin}" cannot be used with ring.driver = "{ring.driver}"; '
            f"allowed {allowed}",
            key="ring.pin" if "pin" in given["ring"] else "ring.driver",
        )
    idle_draw = ring.idle_milliamps * ring.pixels
    if ring.max_milliamps <= idle_draw:
        raise ctx.error(
            f"ring.max_milliamps = {ring.max_milliamps:g} leaves nothing to light the ring: "
            f"{ring.pixels} pixels idle at {ring.idle_milliamps:g} mA draw {idle_draw:g} mA; "
            f"raise ring.max_milliamps or lower ring.idle_milliamps",
            key="ring.max_milliamps",
        )
    if button.pin == ring.pin:
        raise ctx.error(
            f'button.pin = "{button.pin}" is also ring.pin; the button needs a pin of its own',
            key="button.pin",
        )
    if ring.driver == "spi" and gpio_number(button.pin) in SPI0_GPIOS:
        raise ctx.error(
            f'button.pin = "{button.pin}" is held by the SPI bus that ring.driver = "spi" uses '
            f'(GPIO{SPI0_GPIOS[0]}-{SPI0_GPIOS[-1]}); choose another pin, e.g. "GPIO17"',
            key="button.pin",
        )
    period_s = reminder.every_minutes * SECONDS_PER_MINUTE
    if reminder.seconds >= period_s:
        raise ctx.error(
            f"reminder.seconds = {reminder.seconds:g} is not shorter than the "
            f"{period_s} s between pulses (reminder.every_minutes = {reminder.every_minutes})",
            key="reminder.seconds",
        )
    return _check_session(cfg, ctx)


def _check_session(cfg: Config, ctx: _Ctx) -> Config:
    session = cfg.session
    if session.pattern != patterns.CUSTOM:
        for key in CUSTOM_KEYS:
            if getattr(session, key) is not None:
                raise ctx.error(
                    f'session.{key} is only used with session.pattern = "custom"',
                    key=f"session.{key}",
                )
        return cfg
    missing = [k for k in ("inhale", "exhale") if getattr(session, k) is None]
    if missing:
        raise ctx.error(
            'session.pattern = "custom" needs '
            + " and ".join(f"session.{k}" for k in missing)
            + f" (seconds, {patterns.BREATH_MIN_S:g}-{patterns.BREATH_MAX_S:g})",
            key="session.pattern",
        )
    session = replace(
        session,
        hold_in=session.hold_in if session.hold_in is not None else 0.0,
        hold_out=session.hold_out if session.hold_out is not None else 0.0,
    )
    try:
        patterns.custom_pattern(session.inhale, session.exhale, session.hold_in, session.hold_out)  # type: ignore[arg-type]
    except PatternError as e:
        key = str(e).split(" ", 1)[0]
        raise ctx.error(str(e), key=key) from None
    return replace(cfg, session=session)


def parse_config(text: str, source: str = "<config>") -> Config:
    """TOML text -> Config; raises ConfigError (one line, naming `source`, the key and the line)."""
    text = text.removeprefix("\ufeff")
    ctx = _Ctx(source, text)
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
    _check_schedule(cfg, _Ctx(source, text))
    return cfg


def _check_schedule(cfg: Config, ctx: _Ctx) -> None:
    """The pulse schedule needs a slot: `config check` must refuse what `run` refuses."""
    reminder = cfg.reminder
    slots = range(0, MINUTES_PER_DAY, reminder.every_minutes)
    if not any(reminder.active_hours.contains(m) for m in slots):
        raise ctx.error(
            f'reminder.active_hours = "{reminder.active_hours}" contains no pulse time of '
            f"reminder.every_minutes = {reminder.every_minutes} (pulses fall on multiples of "
            f"{reminder.every_minutes} min after midnight); allowed: a range that includes one",
            key="reminder.active_hours",
        )


def with_values(
    cfg: Config, overrides: Mapping[str, object], source: str = "command line"
) -> Config:
    """cfg with some keys replaced ({"session.pattern": "box"}), validated like a file.

    A value of None unsets the key (e.g. {"session.inhale": None}).
    """
    data = _to_data(cfg)
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
    return _build(data, _Ctx(source, None))


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


# --------------------------------------------------------------------------- patterns


def session_pattern(cfg: Config) -> Pattern:
    """The pattern a short press starts (a preset, or the validated custom one)."""
    s = cfg.session
    if s.pattern == patterns.CUSTOM:
        if s.inhale is None or s.exhale is None:
            raise ConfigError('session.pattern = "custom" needs session.inhale and session.exhale')
        try:
            return patterns.custom_pattern(s.inhale, s.exhale, s.hold_in or 0.0, s.hold_out or 0.0)
        except PatternError as e:
            raise ConfigError(str(e)) from None
    return _preset("session.pattern", s.pattern)


def long_pattern(cfg: Config) -> Pattern:
    """The pattern a double press starts."""
    return _preset("session.long_pattern", cfg.session.long_pattern)


def _preset(key: str, name: str) -> Pattern:
    if name not in patterns.PRESETS:
        raise ConfigError(
            f"{key} = {_toml_string(name)} is not a preset pattern; "
            f"allowed: {', '.join(patterns.PRESETS)}"
        )
    return patterns.PRESETS[name]


# --------------------------------------------------------------------------- writing TOML


def _to_data(cfg: Config) -> dict[str, dict[str, object]]:
    """Config -> native TOML data (unset keys left out)."""
    data: dict[str, dict[str, object]] = {}
    for section in SECTIONS:
        obj = getattr(cfg, section)
        body: dict[str, object] = {}
        for f in fields(obj):
            value = getattr(obj, f.name)
            if value is not None:
                body[f.name] = f.metadata["spec"].dump(value)
        data[section] = body
    return data


def _render(cfg: Config, comments: bool) -> str:
    out: list[str] = []
    if comments:
        out += [
            "# breathring configuration (TOML). Every key is optional; these are the defaults.",
            "# Check it with: breathring config check",
            "",
        ]
    for section, cls in SECTIONS.items():
        if comments:
            title = (cls.__doc__ or "").splitlines()[0].split("]: ", 1)[-1]
            out.append(f"# {title[:1].upper()}{title[1:]}")
        out.append(f"[{section}]")
        obj = getattr(cfg, section)
        for f in fields(obj):
            spec: _Spec = f.metadata["spec"]
            value = getattr(obj, f.name)
            if comments:
                out.append(f"# {f.metadata['doc']}; allowed {spec.allowed(f.name)}")
            if value is None:
                example = _CUSTOM_EXAMPLES.get(f.name)
                out.append(f"# {f.name} = {example!r}" if comments else f"# {f.name} is unset")
            else:
                out.append(f"{f.name} = {_toml_scalar(spec.dump(value))}")
        out.append("")
    return "\n".join(out)


#: Values shown (commented out) for the custom-pattern keys in `default_toml`.
_CUSTOM_EXAMPLES = {"inhale": 4.0, "hold_in": 0.0, "exhale": 6.0, "hold_out": 0.0}


def to_toml(cfg: Config) -> str:
    """The effective config as TOML: every key; parses back to an equal Config."""
    return _render(cfg, comments=False)


def default_toml() -> str:
    """A commented default config file: every key, its default, meaning and allowed values."""
    return _render(Config(), comments=True)
