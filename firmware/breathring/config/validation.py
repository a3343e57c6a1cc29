"""Checking values: one spec per key (range, type, allowed words), then checks across keys."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, TypeGuard

from .. import patterns
from ..output import PowerBudget
from ..patterns import PatternError
from ..reminder import slot_minutes
from .errors import BadValue, ErrorContext
from .toml_text import toml_scalar, toml_string
from .values import (
    CUSTOM_KEYS,
    DEVICE_ID_MAX_CHARS,
    DEVICE_ID_RE,
    DEVICE_PATH_MAX_CHARS,
    DRIVER_GPIOS,
    GPIO_MAX,
    GPIO_MIN,
    HOST_MAX_CHARS,
    HOST_RE,
    NO_BUTTON,
    NO_RING,
    PI_REVISION_RE,
    PIN_RE,
    SECONDS_PER_MINUTE,
    SPI0_GPIOS,
    TOPIC_MAX_CHARS,
    HourRange,
    format_color,
    gpio_number,
    parse_color,
    parse_hour_range,
)

if TYPE_CHECKING:
    from .schema import Config

#: Longest value shown in an error message before it is cut short.
SHOWN_MAX_CHARS = 60
#: Fuzzy-match threshold for "did you mean" suggestions.
SUGGEST_CUTOFF = 0.6


def show_value(value: object) -> str:
    """A raw TOML value as it would be written, cut short for messages."""
    if isinstance(value, dict):
        text = "{" + ", ".join(f"{k} = {show_value(v)}" for k, v in value.items()) + "}"
    elif isinstance(value, list):
        text = "[" + ", ".join(show_value(v) for v in value) + "]"
    else:
        text = toml_scalar(value) if isinstance(value, bool | int | float | str) else str(value)
    if len(text) > SHOWN_MAX_CHARS:
        text = text[: SHOWN_MAX_CHARS - 3] + "..."
    return text


def is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def is_number(value: object) -> TypeGuard[float]:
    """An int or a float, not a bool (a bool is an int to Python, never a number to us)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


def suggest(word: str, choices: tuple[str, ...] | list[str]) -> str | None:
    found = difflib.get_close_matches(word, list(choices), n=1, cutoff=SUGGEST_CUTOFF)
    return found[0] if found else None


class Spec:
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
class IntSpec(Spec):
    low: int
    high: int
    #: Allowed range in words, when it depends on another key.
    note: str = ""

    def parse(self, name: str, value: object) -> int:
        if not is_int(value):
            raise BadValue(f"must be an integer ({self.allowed(name)})")
        assert isinstance(value, int)
        if not self.low <= value <= self.high:
            raise BadValue(f"is out of range; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return self.note or f"{self.low}-{self.high}"


@dataclass(frozen=True)
class FloatSpec(Spec):
    low: float
    high: float
    low_open: bool = False

    def parse(self, name: str, value: object) -> float:
        if not is_number(value):
            raise BadValue(f"must be a number ({self.allowed(name)})")
        number = float(value)  # type: ignore[arg-type]
        low_ok = number > self.low if self.low_open else number >= self.low
        if not (low_ok and number <= self.high):
            raise BadValue(f"is out of range; allowed {self.allowed(name)}")
        return number

    def allowed(self, name: str) -> str:
        if self.low_open:
            return f"{self.low:g} < {name} <= {self.high:g}"
        return f"{self.low:g}-{self.high:g}"


@dataclass(frozen=True)
class OptionalSecondsSpec(Spec):
    """A duration that is unset by default; its range is checked by patterns.custom_pattern."""

    low: float
    high: float

    def parse(self, name: str, value: object) -> float:
        if not is_number(value):
            raise BadValue(f"must be a number of seconds ({self.allowed(name)})")
        return float(value)  # type: ignore[arg-type]

    def allowed(self, name: str) -> str:
        return f'{self.low:g}-{self.high:g} s; only with pattern = "custom"'


@dataclass(frozen=True)
class BoolSpec(Spec):
    def parse(self, name: str, value: object) -> bool:
        if not isinstance(value, bool):
            raise BadValue("must be true or false")
        return value

    def allowed(self, name: str) -> str:
        return "true or false"


@dataclass(frozen=True)
class ChoiceSpec(Spec):
    choices: tuple[str, ...]
    noun: str
    #: "upper", "lower" or "" (case-sensitive).
    fold: str = ""

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        text = value.upper() if self.fold == "upper" else value.lower() if self.fold else value
        if text not in self.choices:
            hint = suggest(text, self.choices)
            tail = f"; did you mean {toml_string(hint)}?" if hint else ""
            raise BadValue(f"is not {self.noun}; allowed: {', '.join(self.choices)}{tail}")
        return text

    def allowed(self, name: str) -> str:
        return "one of " + ", ".join(self.choices)


@dataclass(frozen=True)
class IntChoiceSpec(Spec):
    choices: tuple[int, ...]
    why: str

    def parse(self, name: str, value: object) -> int:
        if not is_int(value):
            raise BadValue(f"must be an integer ({self.allowed(name)})")
        if value not in self.choices:
            raise BadValue(f"is not allowed; allowed {self.allowed(name)}")
        return value  # type: ignore[return-value]

    def allowed(self, name: str) -> str:
        return f"{', '.join(map(str, self.choices))} ({self.why})"


@dataclass(frozen=True)
class PowerOfTwoSpec(Spec):
    low: int
    high: int

    def parse(self, name: str, value: object) -> int:
        if not is_int(value):
            raise BadValue(f"must be an integer ({self.allowed(name)})")
        assert isinstance(value, int)
        if not (self.low <= value <= self.high and value & (value - 1) == 0):
            raise BadValue(f"is not allowed; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return f"a power of two, {self.low}-{self.high}"


@dataclass(frozen=True)
class ColorSpec(Spec):
    example: str

    def parse(self, name: str, value: object) -> tuple[int, int, int]:
        try:
            if not isinstance(value, str):
                raise ValueError
            return parse_color(value)
        except ValueError:
            raise BadValue(f"is not a colour; allowed {self.allowed(name)}") from None

    def dump(self, value: object) -> object:
        return format_color(value)  # type: ignore[arg-type]

    def allowed(self, name: str) -> str:
        return f'"#RRGGBB", e.g. "{self.example}"'


@dataclass(frozen=True)
class PinSpec(Spec):
    #: Also accept "none" (no such part wired).
    optional: bool = False

    def parse(self, name: str, value: object) -> str:
        if self.optional and isinstance(value, str) and value.strip().lower() == NO_BUTTON:
            return NO_BUTTON
        number: int | None = None
        if is_int(value):
            number = value  # type: ignore[assignment]
        elif isinstance(value, str) and (m := PIN_RE.match(value.strip())):
            number = int(m.group(1))
        if number is None or not GPIO_MIN <= number <= GPIO_MAX:
            raise BadValue(f"is not a GPIO pin; allowed {self.allowed(name)}")
        return f"GPIO{number}"

    def allowed(self, name: str) -> str:
        none = ', or "none"' if self.optional else ""
        return f'"GPIO{GPIO_MIN}"-"GPIO{GPIO_MAX}" (BCM numbers; "D17" or 17 also accepted){none}'


@dataclass(frozen=True)
class PiRevisionSpec(Spec):
    """Empty, or a Raspberry Pi revision code in hex."""

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str) or not (value == "" or PI_REVISION_RE.match(value)):
            raise BadValue(f"is not a Pi revision code; allowed {self.allowed(name)}")
        return value.lower()

    def allowed(self, name: str) -> str:
        return '"" (read it from the Pi) or 4-8 hex digits, e.g. "a02082" (Pi 3B)'


@dataclass(frozen=True)
class HoursSpec(Spec):
    example: str

    def parse(self, name: str, value: object) -> HourRange:
        if not isinstance(value, str):
            raise BadValue(f"is not an hour range; allowed {self.allowed(name)}")
        try:
            return parse_hour_range(value)
        except ValueError as e:
            if "empty" in str(e):
                raise BadValue(
                    'is an empty range; start and end must differ ("00:00-24:00" = all day)'
                ) from None
            raise BadValue(f"is not an hour range; allowed {self.allowed(name)}") from None

    def dump(self, value: object) -> object:
        return str(value)

    def allowed(self, name: str) -> str:
        return f'"HH:MM-HH:MM" (may wrap midnight), e.g. "{self.example}"'


@dataclass(frozen=True)
class WordSpec(Spec):
    """Empty, or one lower-case word of [a-z0-9_]."""

    examples: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        word = value.strip().lower()
        if word and not re.fullmatch(r"[a-z0-9_]+", word):
            raise BadValue(f"is not allowed; allowed {self.allowed(name)}")
        return word

    def allowed(self, name: str) -> str:
        return f'"" (automatic) or a name of letters, digits and _, e.g. {self.examples}'


@dataclass(frozen=True)
class TextSpec(Spec):
    meaning: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        return value

    def allowed(self, name: str) -> str:
        return self.meaning


def has_control_character(text: str) -> bool:
    """Whether `text` holds a C0 control character or DEL."""
    return any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in text)


@dataclass(frozen=True)
class HostSpec(Spec):
    """A host name or IP address (v4, or v6 with or without brackets)."""

    example: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        if not value or len(value) > HOST_MAX_CHARS or not HOST_RE.match(value):
            raise BadValue(f"is not a host name; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return f'a host name or IP address, e.g. "{self.example}"'


@dataclass(frozen=True)
class TopicSpec(Spec):
    """An MQTT topic prefix we publish under: no wildcards, no empty levels, no controls."""

    examples: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        allowed = self.allowed(name)
        if not value:
            raise BadValue(f"is empty; allowed {allowed}")
        if len(value) > TOPIC_MAX_CHARS:
            raise BadValue(f"is longer than {TOPIC_MAX_CHARS} characters; allowed {allowed}")
        if "+" in value or "#" in value:
            raise BadValue(f"contains an MQTT wildcard (+ or #); allowed {allowed}")
        if "" in value.split("/"):
            raise BadValue(
                f"has an empty level (a leading, trailing or double /); allowed {allowed}"
            )
        if has_control_character(value):
            raise BadValue(f"contains a control character; allowed {allowed}")
        return value

    def allowed(self, name: str) -> str:
        return f"an MQTT topic like {self.examples} (no + or #, no empty levels)"


@dataclass(frozen=True)
class DeviceIdSpec(Spec):
    """Empty (derived from the machine id), or one topic level Home Assistant accepts."""

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        if value and (len(value) > DEVICE_ID_MAX_CHARS or not DEVICE_ID_RE.match(value)):
            raise BadValue(f"is not allowed; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return f'"" (from the machine id) or 1-{DEVICE_ID_MAX_CHARS} letters, digits, _ and -'


@dataclass(frozen=True)
class DevicePathSpec(Spec):
    """A device's absolute path, e.g. "/dev/serial0"; no spaces (it goes into DeviceAllow=)."""

    example: str

    def parse(self, name: str, value: object) -> str:
        if not isinstance(value, str):
            raise BadValue(f"must be a string ({self.allowed(name)})")
        if (
            not value.startswith("/")
            or len(value) > DEVICE_PATH_MAX_CHARS
            or any(ch.isspace() for ch in value)
            or has_control_character(value)
        ):
            raise BadValue(f"is not a device path; allowed {self.allowed(name)}")
        return value

    def allowed(self, name: str) -> str:
        return (
            f"an absolute path without spaces, e.g. {self.example}, "
            '"/dev/ttyAMA0" or "/dev/ttyUSB0"'
        )


# --------------------------------------------------------------------------- across keys


def check_together(cfg: Config, given: dict[str, dict[str, Any]], ctx: ErrorContext) -> Config:
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
    budget = PowerBudget(ring.max_milliamps, ring.milliamps_per_channel, ring.idle_milliamps)
    if budget.usable_milliamps(ring.pixels) <= 0.0:
        idle_draw = ring.idle_milliamps * ring.pixels
        raise ctx.error(
            f"ring.max_milliamps = {ring.max_milliamps:g} leaves nothing to light the ring: "
            f"{ring.pixels} pixels idle at {ring.idle_milliamps:g} mA draw {idle_draw:g} mA "
            f"and dithering may add {budget.dither_allowance(ring.pixels):.3g} mA; "
            f"raise ring.max_milliamps or lower ring.idle_milliamps",
            key="ring.max_milliamps",
        )
    if button.pin == ring.pin and ring.driver != NO_RING:
        raise ctx.error(
            f'button.pin = "{button.pin}" is also ring.pin; the button needs a pin of its own',
            key="button.pin",
        )
    if ring.driver == "spi" and button.pin != NO_BUTTON and gpio_number(button.pin) in SPI0_GPIOS:
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
    _check_mqtt(cfg, ctx)
    return _check_session(cfg, ctx)


def _check_mqtt(cfg: Config, ctx: ErrorContext) -> None:
    """The broker keys that only make sense together."""
    mqtt = cfg.mqtt
    if mqtt.ca_file and not mqtt.tls:
        raise ctx.error(
            "mqtt.ca_file is only used with mqtt.tls = true; set tls = true (or leave ca_file out)",
            key="mqtt.ca_file",
        )
    if mqtt.password_file and not mqtt.username:
        raise ctx.error(
            "mqtt.password_file needs mqtt.username (the broker checks the pair)",
            key="mqtt.password_file",
        )


def _check_session(cfg: Config, ctx: ErrorContext) -> Config:
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


def check_schedule(cfg: Config, ctx: ErrorContext) -> None:
    """The pulse schedule needs a slot: `config check` must refuse what `run` refuses."""
    reminder = cfg.reminder
    if not slot_minutes(reminder.every_minutes, reminder.active_hours):
        raise ctx.error(
            f'reminder.active_hours = "{reminder.active_hours}" contains no pulse time of '
            f"reminder.every_minutes = {reminder.every_minutes} (pulses fall on multiples of "
            f"{reminder.every_minutes} min after midnight); allowed: a range that includes one",
            key="reminder.active_hours",
        )
