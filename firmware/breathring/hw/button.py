"""The push button on a GPIO pin, through gpiozero.

gpiozero calls back from its own thread; the callbacks only put a stamped
edge on `events`. Everything else (press, double, hold) is decided in the
main thread by breathring.gestures.GestureDecoder, so gpiozero's own
`when_held` is not used, nor is its `Button`: a Button keeps a hold thread that
wakes ten times a second for its whole life. A `DigitalInputDevice` with the
pull-up on is the same input (active when pulled to ground) without that thread.
"""

from __future__ import annotations

import queue
from typing import Any

from ..clock import Clock
from ..gestures import DOWN, UP, ButtonEvent
from . import HardwareMisconfigured, HardwareUnavailable, pin_in_use


class GpioButton:
    """A button between `pin` and ground, with the internal pull-up on."""

    def __init__(
        self,
        pin: str | int,
        bounce_seconds: float | None,
        clock: Clock,
        pin_factory: Any = None,
    ) -> None:
        self.clock = clock
        self.events: queue.SimpleQueue[ButtonEvent] = queue.SimpleQueue()
        self._button = _open_button(pin, bounce_seconds or None, pin_factory)
        self._button.when_activated = self._on_down
        self._button.when_deactivated = self._on_up

    def _on_down(self) -> None:
        self.events.put(ButtonEvent(DOWN, self.clock.monotonic()))

    def _on_up(self) -> None:
        self.events.put(ButtonEvent(UP, self.clock.monotonic()))

    @property
    def is_pressed(self) -> bool:
        """The pin's state now (for a self-test; the service uses `events`)."""
        return bool(self._button.is_active)

    def close(self) -> None:
        self._button.close()


class NoButton:
    """button.pin = "none": no button is wired; `events` only ever stays empty.

    The service's inbox is the button's queue, so the control socket keeps working.
    """

    def __init__(self) -> None:
        self.events: queue.SimpleQueue[ButtonEvent] = queue.SimpleQueue()

    def close(self) -> None:
        """Nothing to release."""


#: Off a Pi, the revision code gpiozero needs to map pin names (e.g. "a02082").
PI_REVISION_ENV = "BREATHRING_PI_REVISION"

NO_REVISION = (
    "button.pin = {pin} needs a Raspberry Pi revision to map pin names, and this is not a "
    "Raspberry Pi (no 'Raspberry Pi' in /proc/device-tree/model): set "
    f"{PI_REVISION_ENV}=a02082 (a Pi 3B; any code of a 40-pin Pi) in the environment "
    'or button.pi_revision = "a02082" in the config, or set button.pin = "none"'
)


def parse_revision(text: str, source: str) -> int:
    """'a02082' -> 0xA02082, checked against gpiozero's table; HardwareMisconfigured if unknown."""
    try:
        value = int(text, 16)
        from gpiozero.pins.pi import PiBoardInfo

        PiBoardInfo.from_revision(value)
    except ImportError:
        return value
    except Exception as error:  # ValueError or gpiozero's PinUnknownPi
        raise HardwareMisconfigured(
            f"{source} = {text!r} is not a Raspberry Pi revision code gpiozero knows; "
            "use the hex code of a 40-pin Pi, e.g. a02082 (Pi 3B) or c03114 (Pi 4B)"
        ) from error
    return value


def lgpio_factory(revision: int) -> Any:
    """gpiozero's lgpio pin factory with the board revision given, not read from the board.

    gpiozero reads the revision through the factory's `_get_revision()` (its
    MockFactory and PiGPIOFactory override it the same way); lgpio itself only
    needs /dev/gpiochip0 (any kernel GPIO chip, e.g. gpio-sim in a VM).
    """
    try:
        from gpiozero.pins.lgpio import LGPIOFactory
    except ImportError as error:
        raise HardwareUnavailable(
            f"lgpio is not installed ({error}); install python3-lgpio or pip install lgpio"
        ) from error

    class RevisionLGPIOFactory(LGPIOFactory):  # type: ignore[misc]
        def _get_revision(self) -> int:
            return revision

    try:
        return RevisionLGPIOFactory()
    except Exception as error:  # lgpio.error: no gpiochip, or no access to it
        reason = " ".join(str(error).split()) or type(error).__name__
        raise HardwareUnavailable(
            f"cannot open /dev/gpiochip0 for the button: {reason}; check that a GPIO chip "
            "exists and that the user is in group gpio"
        ) from error


def _open_button(pin: str | int, bounce: float | None, pin_factory: Any) -> Any:
    try:
        from gpiozero import DigitalInputDevice
        from gpiozero.exc import BadPinFactory, GPIOPinInUse, PinError, PinInvalidPin
    except ImportError as error:
        raise HardwareUnavailable(
            f"gpiozero is not installed ({error}); reinstall breathring (pip install breathring)"
        ) from error
    name = f"GPIO{pin}" if isinstance(pin, int) else pin
    try:
        return DigitalInputDevice(name, pull_up=True, bounce_time=bounce, pin_factory=pin_factory)
    except PinInvalidPin as error:
        raise HardwareMisconfigured(
            f"button.pin = {name} is not a GPIO pin on this board; use GPIO0-GPIO27, "
            "e.g. GPIO17 (header pin 11)"
        ) from error
    except GPIOPinInUse as error:
        raise pin_in_use(name) from error
    except BadPinFactory as error:
        raise HardwareUnavailable(
            "no GPIO library for gpiozero: install python3-lgpio "
            "('sudo apt install python3-lgpio') and use a venv with --system-site-packages"
        ) from error
    except (PinError, OSError) as error:
        reason = " ".join(str(error).split()) or type(error).__name__
        raise HardwareUnavailable(
            f"cannot open button.pin = {name}: {reason}; add the user to group gpio "
            "('sudo usermod -aG gpio USER') or check docs/wiring.md"
        ) from error
