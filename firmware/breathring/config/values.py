"""The value types and tables of the configuration: hour ranges, colours, pins, drivers."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..clock import TRUST_ALWAYS, TRUST_SYNC
from ..reminder import MINUTES_PER_DAY, MINUTES_PER_HOUR, REMINDER_PERIODS

__all__ = ["MINUTES_PER_DAY", "MINUTES_PER_HOUR", "REMINDER_PERIODS"]

SECONDS_PER_MINUTE = 60

#: BCM GPIO numbers on the 40-pin header.
GPIO_MIN = 0
GPIO_MAX = 27
#: LED drivers and the pins each can drive (None = any GPIO: the Pi 5's PIO).
#: The config check and the hardware preflight (hw/ring.py) both use these tables.
LED_DRIVERS = ("spi", "pwm", "pi5")
#: ring.driver = "none": no ring wired (frames are computed, nothing is sent).
NO_RING = "none"
RING_DRIVERS = (*LED_DRIVERS, NO_RING)
#: spi: SPI0 MOSI is GPIO10 (header pin 19) on every model.
SPI_MOSI_GPIO = 10
#: rpi_ws281x: PWM0 on 12/18, PWM1 on 13/19, PCM on 21, SPI on 10.
PWM_GPIOS = (10, 12, 13, 18, 19, 21)
DRIVER_GPIOS: dict[str, tuple[int, ...] | None] = {
    "spi": (SPI_MOSI_GPIO,),
    "pwm": PWM_GPIOS,
    "pi5": None,
    NO_RING: None,
}
#: GPIOs held by SPI0 (CE1, CE0, MISO, MOSI, SCLK) once the spi driver is in use.
SPI0_GPIOS = (7, 8, 9, 10, 11)

#: Colour orders the pixelbuf drivers accept (W is always sent as 0).
COLOR_ORDERS = ("RGB", "RBG", "GRB", "GBR", "BRG", "BGR", "RGBW", "GRBW")
BYTE_MAX = 255

CUSTOM_KEYS = ("inhale", "hold_in", "exhale", "hold_out")

# --------------------------------------------------------------------------- MQTT

#: The broker's ports: plain and TLS (mqtt.port = 0 picks one of these by mqtt.tls).
MQTT_PORT = 1883
MQTT_TLS_PORT = 8883
MQTT_PORT_AUTO = 0
PORT_MAX = 65535
#: Longest host name (RFC 1035) and topic prefix we accept.
HOST_MAX_CHARS = 253
TOPIC_MAX_CHARS = 200
#: A device id is one topic level that Home Assistant accepts as a node id.
DEVICE_ID_MAX_CHARS = 64
DEVICE_ID_RE = re.compile(r"^[A-Za-z0-9_-]+$")
HOST_RE = re.compile(r"^[A-Za-z0-9._:\[\]-]+$")


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


#: button.pin = "none": no button wired (the control socket still works).
NO_BUTTON = "none"
#: button.pi_revision / $BREATHRING_PI_REVISION: a Pi revision code in hex (e.g. "a02082").
PI_REVISION_RE = re.compile(r"^[0-9a-fA-F]{4,8}$")
#: reminder.trust_clock: count the clock as right only once synchronised, or always.
TRUST_CLOCK_CHOICES = (TRUST_SYNC, TRUST_ALWAYS)

PIN_RE = re.compile(r"^(?:GPIO|D)(\d{1,2})$", re.IGNORECASE)


def gpio_number(pin: str) -> int:
    """'GPIO17' -> 17."""
    return int(pin.removeprefix("GPIO"))


#: `[breath_sensor] baud`: 0 (the kind's default, 115200) or a rate termios can set.
SERIAL_BAUDS = (0, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600)
#: `[breath_sensor] device`: an absolute path without spaces (it goes into the unit's DeviceAllow=).
DEVICE_PATH_MAX_CHARS = 255
