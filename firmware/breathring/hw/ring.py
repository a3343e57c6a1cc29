"""The NeoPixel ring on a Raspberry Pi, through Adafruit's pixelbuf drivers.

Three drivers, each an optional extra of the package:

- ``spi`` (default): adafruit-circuitpython-neopixel-spi on GPIO10 through
  /dev/spidev0.0. Works on every Pi, needs no root (group ``spi``), leaves
  analog and I2S audio alone.
- ``pwm``: adafruit-circuitpython-neopixel + rpi_ws281x (DMA to the PWM or
  PCM block). Pi 1-4 and Zeros only, root only (/dev/mem); PWM takes the
  analog audio hardware, PCM (GPIO21) takes I2S.
- ``pi5``: adafruit-circuitpython-neopixel + adafruit-blinka-raspberry-pi5-
  neopixel (the RP1's PIO, /dev/pio0), any GPIO of a Pi 5.

The frame handed to `show` is final (brightness, gamma, limiter and dither
already applied), so the library's brightness stays 1.0 and `show` only
reorders the bytes into the ring's colour order, written straight into the
library's wire buffer with three slice assignments (no per-pixel Python),
then transmits. For SPI the per-bit encoding is also done with bytes.translate
instead of the library's per-bit Python loop.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from collections.abc import Callable
from typing import Any

from ..config.values import COLOR_ORDERS as ORDERS
from ..config.values import DRIVER_GPIOS, GPIO_MAX, GPIO_MIN
from ..config.values import LED_DRIVERS as DRIVERS
from . import NOT_A_PI, HardwareMisconfigured, HardwareUnavailable

RGB_BYTES = 3

SPI_DEVICE = "/dev/spidev0.0"
PIO_DEVICE = "/dev/pio0"
MEM_DEVICE = "/dev/mem"

#: Import names of each driver's backend, and the extra that installs it.
DRIVER_MODULES = {
    "spi": "neopixel_spi",
    "pwm": "_rpi_ws281x",
    "pi5": "adafruit_raspberry_pi5_neopixel_write",
}

_PIN_RE = re.compile(r"^\s*(?:GPIO|D)?(\d+)\s*$", re.IGNORECASE)
_PI5_RE = re.compile(r"Raspberry Pi (5|500|Compute Module 5)\b")

#: make_strip(driver, gpio, pixels, order) -> an adafruit_pixelbuf.PixelBuf
StripFactory = Callable[[str, int, int, str], Any]


def parse_gpio(pin: str | int) -> int:
    """'GPIO10', 'D10' or 10 -> 10; anything else raises HardwareMisconfigured."""
    match = _PIN_RE.match(str(pin))
    if match is None:
        raise HardwareMisconfigured(
            f"ring.pin = {pin!r} is not a GPIO pin; use GPIO<n>, e.g. GPIO10"
        )
    return int(match.group(1))


def is_pi5(model: str | None) -> bool:
    """Whether a /proc/device-tree/model string names a Pi 5 class board (RP1)."""
    return model is not None and _PI5_RE.search(model) is not None


def channel_offsets(order: str) -> tuple[int, int, int]:
    """Where R, G and B sit inside one pixel of `order` ("GRB" -> (1, 0, 2))."""
    if order not in ORDERS:
        raise ValueError(f"colour order {order!r} is not one of {', '.join(ORDERS)}")
    return order.index("R"), order.index("G"), order.index("B")


def pack_into(dest: bytearray, offset: int, rgb: bytes | bytearray, order: str) -> None:
    """Write an RGB frame into `dest[offset:]` in the wire's colour `order`.

    Slice assignment per channel: three C-level copies, no per-pixel loop.
    For RGBW orders the W byte is left as it is (0: never written).
    """
    bpp = len(order)
    end = offset + len(rgb) // RGB_BYTES * bpp
    for channel, position in enumerate(channel_offsets(order)):
        dest[offset + position : end : bpp] = rgb[channel::RGB_BYTES]


def check_frame(rgb: bytes | bytearray, pixels: int) -> None:
    """Raise ValueError unless `rgb` holds exactly 3 bytes per pixel."""
    if len(rgb) != RGB_BYTES * pixels:
        raise ValueError(
            f"frame has {len(rgb)} bytes; the ring needs {RGB_BYTES * pixels} "
            f"(3 per pixel, RGB, {pixels} pixels)"
        )


def _check_device(
    path: str,
    exists: Callable[[str], bool],
    access: Callable[[str, int], bool],
    *,
    missing: str,
    group: str,
) -> None:
    """HardwareUnavailable with the fix if the device node is missing or not ours to use."""
    if not exists(path):
        raise HardwareUnavailable(f"{path} does not exist: {missing}")
    if not access(path, os.R_OK | os.W_OK):
        raise HardwareUnavailable(
            f"no access to {path}: add the user to group {group} "
            f"('sudo usermod -aG {group} USER', then log in again)"
        )


def preflight(
    driver: str,
    gpio: int,
    model: str | None,
    *,
    exists: Callable[[str], bool] = os.path.exists,
    access: Callable[[str, int], bool] = os.access,
    euid: Callable[[], int] = os.geteuid,
    find_spec: Callable[[str], object] = importlib.util.find_spec,
) -> None:
    """Check, before touching any library, that `driver` can work here; raise with the fix."""
    if driver not in DRIVERS:
        raise HardwareMisconfigured(
            f"ring.driver = {driver!r} is not a driver; allowed: {', '.join(DRIVERS)}"
        )
    if model is None:
        raise HardwareUnavailable(f'{NOT_A_PI}, or ring.driver = "none" to run without a ring')
    _check_pin(driver, gpio, model)
    if find_spec(DRIVER_MODULES[driver]) is None:
        raise HardwareUnavailable(
            f"ring.driver = {driver} needs its driver package ({DRIVER_MODULES[driver]}); "
            f"install it with: pip install 'breathring[{driver}]'"
        )
    if driver == "spi":
        _check_device(
            SPI_DEVICE,
            exists,
            access,
            missing="enable SPI with 'sudo raspi-config nonint do_spi 0' "
            "(or dtparam=spi=on in /boot/firmware/config.txt) and reboot",
            group="spi",
        )
    elif driver == "pwm":
        if euid() != 0:
            raise HardwareUnavailable(
                f"ring.driver = pwm needs root ({MEM_DEVICE}, DMA); run the service as root "
                "or use ring.driver = spi on GPIO10 (no root needed)"
            )
    else:  # pi5
        _check_device(
            PIO_DEVICE,
            exists,
            access,
            missing="update Raspberry Pi OS and its firmware ('sudo apt full-upgrade'), "
            "then reboot; or use ring.driver = spi",
            group="gpio",
        )


def _check_pin(driver: str, gpio: int, model: str) -> None:
    pi5 = is_pi5(model)
    if driver == "pwm" and pi5:
        raise HardwareMisconfigured(
            "ring.driver = pwm does not work on a Raspberry Pi 5 (no rpi_ws281x support); "
            "use ring.driver = pi5 (any GPIO) or spi (GPIO10)"
        )
    if driver == "pi5" and not pi5:
        raise HardwareMisconfigured(
            f"ring.driver = pi5 needs a Raspberry Pi 5 (this is a {model}); "
            "use ring.driver = spi (GPIO10) or pwm (GPIO18)"
        )
    allowed = DRIVER_GPIOS[driver] or range(GPIO_MIN, GPIO_MAX + 1)
    if gpio not in allowed:
        names = {
            "spi": "GPIO10 (SPI0 MOSI, header pin 19)",
            "pwm": "GPIO18, 12, 13, 19, 21 or 10",
            "pi5": "GPIO0-GPIO27",
        }[driver]
        raise HardwareMisconfigured(
            f"ring.pin = GPIO{gpio} does not work with ring.driver = {driver}; it needs {names}"
        )


def _spi_encoding_tables(bit0: int, bit1: int) -> list[bytes]:
    """Eight translate tables; table k maps a byte to the SPI byte for its bit 7-k."""
    return [bytes(bit1 if value >> (7 - k) & 1 else bit0 for value in range(256)) for k in range(8)]


def _fast_spi_class(base: type) -> type:
    """A NeoPixel_SPI whose per-bit encoding runs in C (bytes.translate) not Python."""

    class FastNeoPixelSPI(base):  # type: ignore[misc, valid-type]
        def _transmogrify(self, buffer: bytearray) -> None:
            tables = getattr(self, "_breathring_tables", None)
            if tables is None:
                tables = _spi_encoding_tables(self._bit0, self._bit1)
                self._breathring_tables = tables
            spibuf = self._spibuf
            for k, table in enumerate(tables):
                spibuf[k::8] = buffer.translate(table)

    return FastNeoPixelSPI


def _make_strip(driver: str, gpio: int, pixels: int, order: str, *, board_pin: Any = None) -> Any:
    """Build the library's pixel buffer for `driver` (imports the libraries lazily).

    `board_pin` overrides the board.D<gpio> lookup (the tests pass the
    OS-agnostic board's NeoPixel pin, which has no D<n> names).
    """
    # Blinka 10 offers to pip-install platform packages when run on a terminal;
    # a service must never do that. Packages come from our extras instead.
    os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
    import board

    if driver == "spi":
        import busio
        import neopixel_spi

        # SPI0 with MOSI only: MISO (GPIO9) stays free. board.SPI() would also
        # claim MISO and fails on Blinka's OS-agnostic board used by the tests.
        spi = busio.SPI(board.SCK, MOSI=board.MOSI)
        strip_class = _fast_spi_class(neopixel_spi.NeoPixel_SPI)
        return strip_class(spi, pixels, pixel_order=order, brightness=1.0, auto_write=False)
    import neopixel

    pin = board_pin if board_pin is not None else getattr(board, f"D{gpio}")
    return neopixel.NeoPixel(pin, pixels, pixel_order=order, brightness=1.0, auto_write=False)


#: Longest library message quoted in an error line.
REASON_MAX_CHARS = 160


def _unavailable(driver: str, error: BaseException) -> HardwareUnavailable:
    reason = " ".join(str(error).split())[:REASON_MAX_CHARS] or type(error).__name__
    return HardwareUnavailable(
        f"cannot open the ring with ring.driver = {driver}: {reason}; "
        f"check the driver package (pip install 'breathring[{driver}]') and docs/wiring.md"
    )


class NeoPixelRing:
    """A NeoPixel ring; `show` sends exactly the bytes it is given (reordered)."""

    def __init__(
        self,
        pixels: int,
        order: str = "GRB",
        pin: str | int = "GPIO10",
        driver: str = "spi",
        *,
        model: str | None = None,
        make_strip: StripFactory | None = None,
    ) -> None:
        if pixels < 1:
            raise ValueError(f"ring.pixels = {pixels} must be at least 1")
        order = order.upper()
        channel_offsets(order)
        gpio = parse_gpio(pin)
        if make_strip is None:
            from .selection import detect_pi

            preflight(driver, gpio, model if model is not None else detect_pi())
            make_strip = _make_strip
        try:
            strip = make_strip(driver, gpio, pixels, order)
        except HardwareUnavailable:
            raise
        except (ImportError, OSError, RuntimeError, ValueError, NotImplementedError) as error:
            raise _unavailable(driver, error) from error
        self._pixels = pixels
        self._order = order
        self._driver = driver
        self._strip = strip
        self._closed = False
        # The buffer the library transmits: we write into it in place, because
        # rpi_ws281x re-initialises its DMA whenever it is handed a new buffer.
        self._buffer: bytearray = strip._post_brightness_buffer
        self._offset: int = strip._offset
        # Where each RGB channel goes in the buffer (what pack_into works out each call).
        bpp = len(order)
        end = self._offset + pixels * bpp
        self._slices = [
            (slice(self._offset + position, end, bpp), slice(channel, None, RGB_BYTES))
            for channel, position in enumerate(channel_offsets(order))
        ]
        if strip.brightness != 1.0 or strip._pre_brightness_buffer is not None:
            raise HardwareUnavailable("the NeoPixel library must run at brightness 1.0")

    @property
    def pixels(self) -> int:
        return self._pixels

    @property
    def order(self) -> str:
        return self._order

    @property
    def driver(self) -> str:
        return self._driver

    @property
    def closed(self) -> bool:
        """Whether close() has run (the ring is dark and released)."""
        return self._closed

    def show(self, rgb: bytes | bytearray) -> None:
        """Send one RGB frame (3*pixels bytes, pixel 0 first) to the ring."""
        if self._closed:
            raise OSError("the ring is closed")
        check_frame(rgb, self._pixels)
        buffer = self._buffer
        for to, channel in self._slices:  # pack_into, its slices worked out once
            buffer[to] = rgb[channel]
        self._transmit()

    def _transmit(self) -> None:
        try:
            self._strip.show()
        except OSError:
            raise
        except (RuntimeError, ValueError) as error:
            # rpi_ws281x and the Pi 5 PIO report write failures as RuntimeError.
            raise OSError(f"ring write failed: {error}") from error

    def clear(self) -> None:
        """Turn every pixel off."""
        self.show(bytes(RGB_BYTES * self._pixels))

    def close(self) -> None:
        """Clear the ring and release the pin or bus; safe to call twice."""
        if self._closed:
            return
        try:
            self.clear()
        finally:
            self._closed = True
            deinit = getattr(self._strip, "deinit", None)
            if deinit is not None:
                # Already dark (cleared above) or the device is gone: nothing to add.
                with contextlib.suppress(OSError, RuntimeError, ValueError):
                    deinit()


class NoRing:
    """ring.driver = "none": no ring is wired. Frames are checked, then dropped."""

    def __init__(self, pixels: int) -> None:
        if pixels < 1:
            raise ValueError(f"ring.pixels = {pixels} must be at least 1")
        self._pixels = pixels
        self.closed = False

    @property
    def pixels(self) -> int:
        return self._pixels

    def show(self, rgb: bytes | bytearray) -> None:
        """Check the frame's length and send nothing."""
        if self.closed:
            raise OSError("the ring is closed")
        check_frame(rgb, self._pixels)

    def clear(self) -> None:
        """Nothing to turn off."""

    def close(self) -> None:
        self.closed = True
