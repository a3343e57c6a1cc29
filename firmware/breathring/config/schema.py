"""The schema: one frozen dataclass per section; each field's metadata holds its spec and doc."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields
from typing import Any

from .. import breath_rate, patterns
from ..gestures import DEFAULT_BOUNCE_SECONDS, DEFAULT_DOUBLE_SECONDS, DEFAULT_HOLD_SECONDS
from ..output import DEFAULT_IDLE_MA, DEFAULT_MA_PER_CHANNEL, DEFAULT_MAX_MA
from .validation import (
    BoolSpec,
    ChoiceSpec,
    ColorSpec,
    DeviceIdSpec,
    DevicePathSpec,
    FloatSpec,
    HostSpec,
    HoursSpec,
    IntChoiceSpec,
    IntSpec,
    OptionalSecondsSpec,
    PinSpec,
    PiRevisionSpec,
    PowerOfTwoSpec,
    Spec,
    TextSpec,
    TopicSpec,
    WordSpec,
)
from .values import (
    COLOR_ORDERS,
    CUSTOM_KEYS,
    MINUTES_PER_HOUR,
    MQTT_PORT,
    MQTT_PORT_AUTO,
    MQTT_TLS_PORT,
    PORT_MAX,
    REMINDER_PERIODS,
    RING_DRIVERS,
    SERIAL_BAUDS,
    SPI_MOSI_GPIO,
    TRUST_CLOCK_CHOICES,
    HourRange,
)

__all__ = ["BRIGHTNESS_MAX", "BRIGHTNESS_MIN", "CUSTOM_KEYS"]

#: The one range of ring.brightness and night.brightness, for every way in (file, `set`,
#: the web page, Home Assistant): below 0.01 the ring is as good as dark.
BRIGHTNESS_MIN = 0.01
BRIGHTNESS_MAX = 1.0


def _meta(spec: Spec, doc: str) -> dict[str, Any]:
    return {"spec": spec, "doc": doc}


# --------------------------------------------------------------------------- sections


#: The sound device is closed after this long without a sound (an open one wakes the process
#: some 50 times a second); reopening it delays the first cue after it (docs/audio.md).
IDLE_CLOSE_DEFAULT_S = 600.0
IDLE_CLOSE_MAX_S = 86400.0


@dataclass(frozen=True)
class RingConfig:
    """[ring]: the LED ring and how bright it may get."""

    pixels: int = field(default=24, metadata=_meta(IntSpec(1, 1000), "number of LEDs on the ring"))
    brightness: float = field(
        default=0.5,
        metadata=_meta(
            FloatSpec(BRIGHTNESS_MIN, BRIGHTNESS_MAX), "daytime cap on every wire value (linear)"
        ),
    )
    color: tuple[int, int, int] = field(
        default=(0x3C, 0x9B, 0xFF), metadata=_meta(ColorSpec("#3C9BFF"), "colour of the breath")
    )
    max_milliamps: float = field(
        default=DEFAULT_MAX_MA,
        metadata=_meta(FloatSpec(50.0, 20000.0), "estimated-current budget of the ring (mA)"),
    )
    milliamps_per_channel: float = field(
        default=DEFAULT_MA_PER_CHANNEL,
        metadata=_meta(FloatSpec(1.0, 100.0), "current of one LED channel at 255 (mA)"),
    )
    idle_milliamps: float = field(
        default=DEFAULT_IDLE_MA,
        metadata=_meta(FloatSpec(0.0, 10.0), "idle draw of one pixel's driver chip (mA)"),
    )
    start_pixel: int = field(
        default=0,
        metadata=_meta(
            IntSpec(0, 999, note="0 to ring.pixels - 1"), "pixel the light grows from (0 = bottom)"
        ),
    )
    fps: int = field(
        default=100, metadata=_meta(IntSpec(1, 240), "frames per second while the light changes")
    )
    order: str = field(
        default="GRB",
        metadata=_meta(
            ChoiceSpec(COLOR_ORDERS, "a known colour order", fold="upper"),
            "colour order the LEDs expect (most WS2812 rings: GRB)",
        ),
    )
    pin: str = field(
        default=f"GPIO{SPI_MOSI_GPIO}",
        metadata=_meta(PinSpec(), "data pin (spi: GPIO10; pwm: GPIO10, 12, 13, 18, 19 or 21)"),
    )
    driver: str = field(
        default="spi",
        metadata=_meta(
            ChoiceSpec(RING_DRIVERS, "a known LED driver", fold="lower"),
            "spi (no root), pwm (root; Pi 1-4), pi5 (Pi 5 PIO), none (no ring wired)",
        ),
    )


@dataclass(frozen=True)
class SessionConfig:
    """[session]: what a press (and a double press) starts."""

    pattern: str = field(
        default="three-breath",
        metadata=_meta(
            ChoiceSpec(patterns.PATTERN_NAMES, "a known pattern"), "breath pattern of a short press"
        ),
    )
    breaths: int = field(
        default=3, metadata=_meta(IntSpec(1, 100), "breaths in a short-press session")
    )
    inhale: float | None = field(
        default=None,
        metadata=_meta(
            OptionalSecondsSpec(patterns.BREATH_MIN_S, patterns.BREATH_MAX_S),
            "custom in-breath (s)",
        ),
    )
    hold_in: float | None = field(
        default=None,
        metadata=_meta(
            OptionalSecondsSpec(patterns.HOLD_MIN_S, patterns.HOLD_MAX_S),
            "custom hold after the in-breath (s; default 0)",
        ),
    )
    exhale: float | None = field(
        default=None,
        metadata=_meta(
            OptionalSecondsSpec(patterns.BREATH_MIN_S, patterns.BREATH_MAX_S),
            "custom out-breath (s)",
        ),
    )
    hold_out: float | None = field(
        default=None,
        metadata=_meta(
            OptionalSecondsSpec(patterns.HOLD_MIN_S, patterns.HOLD_MAX_S),
            "custom hold after the out-breath (s; default 0)",
        ),
    )
    long_pattern: str = field(
        default="coherent",
        metadata=_meta(
            ChoiceSpec(tuple(patterns.PRESETS), "a preset pattern"),
            "breath pattern of a double press",
        ),
    )
    long_breaths: int = field(
        default=10, metadata=_meta(IntSpec(1, 100), "breaths in a double-press session")
    )
    follow_target: float = field(
        default=patterns.FOLLOW_TARGET_BPM,
        metadata=_meta(
            FloatSpec(patterns.FOLLOW_TARGET_MIN_BPM, patterns.FOLLOW_TARGET_MAX_BPM),
            "follow: the pace it slows to (breaths a minute)",
        ),
    )
    follow_minutes: float = field(
        default=patterns.FOLLOW_MINUTES,
        metadata=_meta(
            FloatSpec(patterns.FOLLOW_MINUTES_MIN, patterns.FOLLOW_MINUTES_MAX),
            "follow: how long a session lasts (minutes)",
        ),
    )


@dataclass(frozen=True)
class ReminderConfig:
    """[reminder]: the gentle pulse that invites three breaths."""

    enabled: bool = field(
        default=True, metadata=_meta(BoolSpec(), "pulse at set times (a long press toggles this)")
    )
    every_minutes: int = field(
        default=60,
        metadata=_meta(
            IntChoiceSpec(REMINDER_PERIODS, "divides an hour, or whole hours dividing a day"),
            "minutes between pulses, aligned to the hour",
        ),
    )
    active_hours: HourRange = field(
        default=HourRange(8 * MINUTES_PER_HOUR, 22 * MINUTES_PER_HOUR),
        metadata=_meta(HoursSpec("08:00-22:00"), "local hours in which pulses happen"),
    )
    seconds: float = field(
        default=30.0, metadata=_meta(FloatSpec(5.0, 300.0), "how long a pulse glows (s)")
    )
    sound: bool = field(
        default=False, metadata=_meta(BoolSpec(), "play the reminder cue with the pulse")
    )
    trust_clock: str = field(
        default="sync",
        metadata=_meta(
            ChoiceSpec(TRUST_CLOCK_CHOICES, "a clock policy", fold="lower"),
            "sync: pulses wait for NTP; always: trust the restored time (RTC, fake-hwclock)",
        ),
    )


@dataclass(frozen=True)
class NightConfig:
    """[night]: quiet hours: dim, warm light and soft cues."""

    hours: HourRange = field(
        default=HourRange(22 * MINUTES_PER_HOUR, 7 * MINUTES_PER_HOUR),
        metadata=_meta(HoursSpec("22:00-07:00"), "local quiet hours"),
    )
    brightness: float = field(
        default=0.05,
        metadata=_meta(
            FloatSpec(BRIGHTNESS_MIN, BRIGHTNESS_MAX),
            "brightness cap in quiet hours (replaces ring.brightness)",
        ),
    )
    color: tuple[int, int, int] = field(
        default=(0xFF, 0x8C, 0x32),
        metadata=_meta(ColorSpec("#FF8C32"), "colour in quiet hours (replaces ring.color)"),
    )
    volume: float = field(
        default=0.25,
        metadata=_meta(FloatSpec(0.0, 1.0), "cue volume in quiet hours (replaces audio.volume)"),
    )


@dataclass(frozen=True)
class AudioConfig:
    """[audio]: the sound cues that guide a session with eyes closed."""

    enabled: bool = field(default=True, metadata=_meta(BoolSpec(), "play sound cues"))
    volume: float = field(default=0.6, metadata=_meta(FloatSpec(0.0, 1.0), "cue volume by day"))
    driver: str = field(
        default="",
        metadata=_meta(
            WordSpec('"alsa", "pulseaudio", "pipewire", "disk", "dummy"'),
            "SDL audio driver; empty = let SDL choose",
        ),
    )
    device: str = field(
        default="",
        metadata=_meta(
            TextSpec('"" (default) or an SDL device name'), "SDL audio device; empty = default"
        ),
    )
    cues_dir: str = field(
        default="",
        metadata=_meta(
            TextSpec('"" (bundled) or a directory path'), "directory of cue WAVs; empty = bundled"
        ),
    )
    guide_tone: bool = field(
        default=False,
        metadata=_meta(BoolSpec(), "a soft tone that swells and fades with each phase"),
    )
    buffer_samples: int = field(
        default=1024,
        metadata=_meta(
            PowerOfTwoSpec(256, 8192), "mixer buffer (samples): smaller = lower latency"
        ),
    )
    idle_close_seconds: float = field(
        default=IDLE_CLOSE_DEFAULT_S,
        metadata=_meta(
            FloatSpec(0.0, IDLE_CLOSE_MAX_S),
            "close the sound device after this long without a sound (s); 0 = keep it open",
        ),
    )


@dataclass(frozen=True)
class ButtonConfig:
    """[button]: the bedside push button (to ground; internal pull-up)."""

    pin: str = field(
        default="GPIO17",
        metadata=_meta(PinSpec(optional=True), 'GPIO pin of the button; "none": no button'),
    )
    hold_seconds: float = field(
        default=DEFAULT_HOLD_SECONDS,
        metadata=_meta(FloatSpec(0.5, 10.0), "press this long to toggle reminders (s)"),
    )
    double_seconds: float = field(
        default=DEFAULT_DOUBLE_SECONDS,
        metadata=_meta(FloatSpec(0.1, 2.0), "longest gap between the presses of a double (s)"),
    )
    bounce_seconds: float = field(
        default=DEFAULT_BOUNCE_SECONDS,
        metadata=_meta(FloatSpec(0.0, 0.5), "contact-bounce filter (s)"),
    )
    pi_revision: str = field(
        default="",
        metadata=_meta(
            PiRevisionSpec(),
            "Pi revision for gpiozero off a Pi (e.g. a VM); $BREATHRING_PI_REVISION wins",
        ),
    )


#: The broker connection's keep-alive: the default and the range (s).
MQTT_KEEPALIVE_S = 60
MQTT_KEEPALIVE_MIN_S, MQTT_KEEPALIVE_MAX_S = 5, 3600


@dataclass(frozen=True)
class MqttConfig:
    """[mqtt]: the Home Assistant bridge (`breathring mqtt`) and its broker."""

    host: str = field(
        default="localhost",
        metadata=_meta(HostSpec("localhost"), "the MQTT broker"),
    )
    port: int = field(
        default=MQTT_PORT_AUTO,
        metadata=_meta(
            IntSpec(
                MQTT_PORT_AUTO,
                PORT_MAX,
                note=f"1-{PORT_MAX}, or {MQTT_PORT_AUTO} for {MQTT_PORT} "
                f"({MQTT_TLS_PORT} with tls)",
            ),
            "the broker's port",
        ),
    )
    username: str = field(
        default="",
        metadata=_meta(TextSpec('"" (anonymous) or a user name'), "user name at the broker"),
    )
    password_file: str = field(
        default="",
        metadata=_meta(
            TextSpec('"" (none) or a file path'),
            "file whose first line is the broker password (needs username)",
        ),
    )
    tls: bool = field(default=False, metadata=_meta(BoolSpec(), "connect to the broker over TLS"))
    ca_file: str = field(
        default="",
        metadata=_meta(
            TextSpec('"" (the system\'s CAs) or a file path'),
            "CA certificates (PEM) that sign the broker's certificate (needs tls)",
        ),
    )
    discovery_prefix: str = field(
        default="homeassistant",
        metadata=_meta(TopicSpec('"homeassistant"'), "Home Assistant's discovery prefix"),
    )
    topic: str = field(
        default="breathring",
        metadata=_meta(
            TopicSpec('"breathring" or "home/bedroom"'),
            "prefix of the state and command topics",
        ),
    )
    device_id: str = field(
        default="",
        metadata=_meta(DeviceIdSpec(), "the device's id in topics and in Home Assistant"),
    )
    keepalive: int = field(
        default=MQTT_KEEPALIVE_S,
        metadata=_meta(
            IntSpec(MQTT_KEEPALIVE_MIN_S, MQTT_KEEPALIVE_MAX_S),
            "seconds between keep-alive pings to the broker",
        ),
    )


#: breath_sensor.stale_seconds: the range (s).
BREATH_STALE_MIN_S, BREATH_STALE_MAX_S = 5.0, 600.0


@dataclass(frozen=True)
class BreathSensorConfig:
    """[breath_sensor]: where a measured breathing rate comes from (the `follow` pattern)."""

    kind: str = field(
        default=breath_rate.NO_SENSOR,
        metadata=_meta(
            ChoiceSpec(breath_rate.SENSOR_KINDS, "a known breath sensor", fold="lower"),
            "none, mr60bha2 or c1001 (a radar on a serial port), mqtt (a topic)",
        ),
    )
    topic: str = field(
        default="breathring/breath_rate",
        metadata=_meta(
            TopicSpec('"breathring/breath_rate"'),
            "kind = mqtt: the topic whose payload is breaths a minute (on the [mqtt] broker)",
        ),
    )
    device: str = field(
        default="/dev/serial0",
        metadata=_meta(
            DevicePathSpec('"/dev/serial0"'),
            "mr60bha2, c1001: the serial device the radar is wired to (the Pi's UART)",
        ),
    )
    baud: int = field(
        default=0,
        metadata=_meta(
            IntChoiceSpec(SERIAL_BAUDS, "0 = the kind's default 115200, or a standard rate"),
            "mr60bha2, c1001: the serial port's baud rate",
        ),
    )
    stale_seconds: float = field(
        default=breath_rate.DEFAULT_STALE_S,
        metadata=_meta(
            FloatSpec(BREATH_STALE_MIN_S, BREATH_STALE_MAX_S),
            "a reading older than this is not used (s)",
        ),
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
    mqtt: MqttConfig = field(default_factory=MqttConfig)
    breath_sensor: BreathSensorConfig = field(default_factory=BreathSensorConfig)


#: Section name -> its dataclass, in file order.
SECTIONS: dict[str, type] = {f.name: f.default_factory for f in fields(Config)}  # type: ignore[misc]


@dataclass(frozen=True)
class KeyInfo:
    """One documented key: for docs, `default_toml` and tools."""

    section: str
    key: str
    spec: Spec
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


def section_keys(section: str) -> tuple[str, ...]:
    return tuple(f.name for f in fields(SECTIONS[section]))
