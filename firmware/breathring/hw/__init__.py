"""The hardware seam: what the service needs from a ring, a button and audio.

Only modules inside this package may import hardware libraries, and they
do so lazily (inside functions), so importing this package is always cheap
and works on any machine. Real implementations: ring.NeoPixelRing,
button.GpioButton, audio.PygameAudio, over the real buses or, for
`--hardware mock`, over mock ones (mock.py); selection.open_hardware picks.
"""

from __future__ import annotations

import queue
from pathlib import Path
from typing import Protocol, runtime_checkable

from ..exitcodes import EXIT_CONFIG, EXIT_UNAVAILABLE
from ..gestures import ButtonEvent

__all__ = [
    "Audio",
    "Button",
    "ButtonEvent",
    "HardwareMisconfigured",
    "HardwareUnavailable",
    "Ring",
]

#: The board's model text; a Raspberry Pi's names it.
MODEL_PATH = Path("/proc/device-tree/model")
PI_MARKER = "Raspberry Pi"
#: Why the Pi's hardware cannot be used here (the CLI and the ring say it alike).
NOT_A_PI = (
    "this is not a Raspberry Pi (no 'Raspberry Pi' in /proc/device-tree/model); "
    "use --hardware mock to run with simulated hardware"
)


def read_model(path: str | Path = MODEL_PATH) -> str | None:
    """The model text of /proc/device-tree/model (NULs dropped), or None if unreadable."""
    try:
        raw = Path(path).read_bytes()
    except OSError:
        return None
    return raw.replace(b"\x00", b"").decode("utf-8", "replace").strip()


class HardwareUnavailable(Exception):
    """The hardware cannot be used; str(e) is one line that names the fix.

    `exit_code` is what the CLI should exit with (69; 78 for the subclass
    HardwareMisconfigured, whose cause is the configuration, so restarting
    the service will not help).
    """

    exit_code = EXIT_UNAVAILABLE


class HardwareMisconfigured(HardwareUnavailable):
    """The configuration asks for something this hardware cannot do (e.g. a pin)."""

    exit_code = EXIT_CONFIG


#: The button's default line, and the one suggested instead when that one is busy.
DEFAULT_BUTTON_GPIO = 17
SPARE_BUTTON_GPIO = 27
#: Names gpiozero accepts for the default line (BCM name, physical header pin).
_DEFAULT_BUTTON_NAMES = {"GPIO17", "BCM17", "BOARD11", "J8:11"}


def pin_in_use(name: str) -> HardwareMisconfigured:
    """The refusal for a button line that something else holds, naming a free one to try."""
    busy_default = name.upper() in _DEFAULT_BUTTON_NAMES
    other = SPARE_BUTTON_GPIO if busy_default else DEFAULT_BUTTON_GPIO
    return HardwareMisconfigured(
        f"button.pin = {name} is already in use (by the ring or another device); "
        f"choose another pin, e.g. GPIO{other}"
    )


@runtime_checkable
class Ring(Protocol):
    """A chain of RGB pixels."""

    @property
    def pixels(self) -> int:
        """How many pixels the ring has."""
        ...

    def show(self, rgb: bytes | bytearray) -> None:
        """Send one frame: 3*pixels bytes, RGB order, pixel 0 first, exact wire values.

        Raises ValueError for a frame of the wrong length and OSError when the
        write to the LEDs fails.
        """
        ...

    def clear(self) -> None:
        """Turn every pixel off (sent at once)."""
        ...

    def close(self) -> None:
        """Clear the ring, then release the hardware; safe to call twice."""
        ...


@runtime_checkable
class Button(Protocol):
    """A push button; its edges arrive in `events` (from any thread)."""

    events: queue.SimpleQueue[ButtonEvent]

    def close(self) -> None:
        """Release the GPIO; safe to call twice."""
        ...


@runtime_checkable
class Audio(Protocol):
    """Cue playback; never raises from play (a missing speaker means silence)."""

    @property
    def available(self) -> bool:
        """Whether sound can be heard right now."""
        ...

    def play(self, cue: str, volume: float) -> None:
        """Start a cue (start, inhale, hold, exhale, end, reminder, confirm-on, confirm-off)."""
        ...

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        """Start a guide tone that swells and fades over `seconds` ("inhale", "exhale", "hold")."""
        ...

    def stop(self) -> None:
        """Stop whatever is playing."""
        ...

    def close(self) -> None:
        """Release the audio device; safe to call twice."""
        ...
