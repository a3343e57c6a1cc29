"""NeoPixelRing with the REAL Adafruit libraries, off-device (Blinka's OS-agnostic board).

The transmit is captured where the library hands bytes to the hardware
(neopixel.neopixel_write; busio.SPI.write for the SPI driver), so these tests
see exactly what would go on the wire. The ring is built through the same
code path as on a Pi (ring._make_strip), only with the agnostic board's pin.
"""

from __future__ import annotations

import os

import pytest
from hypothesis import given
from hypothesis import strategies as st

os.environ.setdefault("BLINKA_OS_AGNOSTIC", "1")  # before Blinka is first imported

# Hard dependencies (and the [test] extra's neopixel_spi): a broken install fails, never skips.
import board
import neopixel
import neopixel_spi

from breathring.hw import HardwareMisconfigured, HardwareUnavailable
from breathring.hw import Ring as RingProtocol
from breathring.hw import ring as ringmod
from breathring.hw.ring import NeoPixelRing, channel_offsets, pack_into, parse_gpio, preflight

#: Written down, not imported: sysexits EX_UNAVAILABLE and EX_CONFIG.
EX_UNAVAILABLE = 69
EX_CONFIG = 78

#: A frame with distinct values per channel: R, G, B of pixel i are 10i+1, 10i+2, 10i+3.
FRAME4 = bytes([1, 2, 3, 11, 12, 13, 21, 22, 23, 31, 32, 33])
PI4 = "Raspberry Pi 4 Model B Rev 1.5"
PI5 = "Raspberry Pi 5 Model B Rev 1.0"


@pytest.fixture
def wire(monkeypatch):
    """Every buffer the neopixel library transmits: (bytes, id of the buffer object)."""
    sent: list[tuple[bytes, int]] = []

    def capture(pin, buf):
        sent.append((bytes(buf), id(buf)))

    monkeypatch.setattr(neopixel, "neopixel_write", capture)
    return sent


def agnostic_strip(driver: str, gpio: int, pixels: int, order: str):
    return ringmod._make_strip(driver, gpio, pixels, order, board_pin=board.NEOPIXEL)


def make_ring(pixels: int = 4, order: str = "GRB", driver: str = "pwm", pin: str = "GPIO18"):
    return NeoPixelRing(pixels, order, pin, driver, make_strip=agnostic_strip)


# ---- the real neopixel library (pwm / pi5 code path) ------------------------------


def test_grb_frame_goes_out_in_grb_order(wire):
    ring = make_ring(order="GRB")
    ring.show(FRAME4)
    assert wire[-1][0] == bytes([2, 1, 3, 12, 11, 13, 22, 21, 23, 32, 31, 33])


def test_rgb_frame_goes_out_unchanged(wire):
    ring = make_ring(order="RGB")
    ring.show(FRAME4)
    assert wire[-1][0] == FRAME4


def test_rgbw_gets_white_zero_even_for_grey(wire):
    ring = make_ring(pixels=2, order="GRBW")
    ring.show(bytes([7, 7, 7, 1, 2, 3]))
    # The library's own tuple path would move an equal r=g=b into W; we send what we were given.
    assert wire[-1][0] == bytes([7, 7, 7, 0, 2, 1, 3, 0])


def test_brightness_is_not_applied_twice(wire):
    ring = make_ring(pixels=2, order="RGB")
    frame = bytes([255, 128, 1, 254, 3, 77])
    ring.show(frame)
    assert ring._strip.brightness == 1.0
    assert wire[-1][0] == frame  # exact wire values: no second scaling, no rounding


def test_the_same_buffer_object_is_sent_every_frame(wire):
    # rpi_ws281x (Blinka's bcm283x backend) re-initialises its DMA when handed a new buffer.
    ring = make_ring()
    ring.show(FRAME4)
    ring.show(bytes(reversed(FRAME4)))
    assert wire[0][1] == wire[1][1]


@given(
    st.integers(1, 40).flatmap(lambda n: st.binary(min_size=3 * n, max_size=3 * n)),
    st.sampled_from(ringmod.ORDERS[:6]),
)
def test_fast_path_matches_the_library_per_pixel_path(frame, order):
    sent: list[bytes] = []
    original = neopixel.neopixel_write
    neopixel.neopixel_write = lambda pin, buf: sent.append(bytes(buf))
    try:
        n = len(frame) // 3
        ours = make_ring(pixels=n, order=order)
        ours.show(frame)
        ours.close()
        reference = agnostic_strip("pwm", 18, n, order)
        for i in range(n):
            reference[i] = tuple(frame[3 * i : 3 * i + 3])
        reference.show()
        reference.deinit()
    finally:
        neopixel.neopixel_write = original
    assert sent[0] == sent[-2]  # ours (before close's clear) == the library's own path


def test_clear_and_close_leave_the_ring_dark(wire):
    ring = make_ring()
    ring.show(FRAME4)
    ring.clear()
    assert wire[-1][0] == bytes(12)
    ring.show(FRAME4)
    ring.close()
    assert wire[-1][0] == bytes(12)
    ring.close()  # twice is fine
    with pytest.raises(OSError, match="closed"):
        ring.show(FRAME4)


def test_wrong_frame_length_is_a_clear_error(wire):
    ring = make_ring(pixels=4)
    with pytest.raises(ValueError, match=r"frame has 11 bytes; the ring needs 12"):
        ring.show(FRAME4[:-1])
    assert wire == []


def test_a_failing_transmit_is_an_oserror(monkeypatch):
    def broken(pin, buf):
        raise RuntimeError("ws2811_render failed with code -3")

    monkeypatch.setattr(neopixel, "neopixel_write", broken)
    ring = make_ring()
    with pytest.raises(OSError, match="ring write failed: ws2811_render"):
        ring.show(FRAME4)


def test_ring_matches_the_protocol(wire):
    ring = make_ring()
    assert isinstance(ring, RingProtocol)
    assert ring.pixels == 4 and ring.order == "GRB" and ring.driver == "pwm"


def test_lower_case_order_is_accepted(wire):
    ring = make_ring(order="rgb")
    ring.show(FRAME4)
    assert wire[-1][0] == FRAME4


def test_a_library_failure_while_opening_names_the_extra():
    def missing(driver, gpio, pixels, order):
        raise ModuleNotFoundError("No module named 'neopixel_spi'")

    with pytest.raises(HardwareUnavailable) as info:
        NeoPixelRing(24, "GRB", "GPIO10", "spi", make_strip=missing)
    assert "pip install 'breathring[spi]'" in str(info.value)
    assert info.value.exit_code == EX_UNAVAILABLE


def test_off_a_pi_the_ring_says_so(monkeypatch):
    from breathring.hw import selection

    monkeypatch.setattr(selection, "detect_pi", lambda *a, **k: None)
    with pytest.raises(HardwareUnavailable, match=r"not a Raspberry Pi.*--hardware mock"):
        NeoPixelRing(24)


# ---- the real neopixel_spi library ---------------------------------------------------


def decode_spi(stream: bytes, bit0: int, bit1: int) -> bytes:
    """Undo the NeoPixel-over-SPI encoding: 8 SPI bytes per data byte, MSB first."""
    assert len(stream) % 8 == 0
    out = bytearray()
    for i in range(0, len(stream), 8):
        value = 0
        for symbol in stream[i : i + 8]:
            assert symbol in (bit0, bit1)
            value = value << 1 | (symbol == bit1)
        out.append(value)
    return bytes(out)


@pytest.fixture
def spi_wire(monkeypatch):
    import busio

    sent: list[bytes] = []

    def write(self, buf, start=0, end=None):
        sent.append(bytes(buf[start:end]))

    monkeypatch.setattr(busio.SPI, "write", write)
    return sent


def test_spi_sends_the_frame_in_grb_between_resets(spi_wire):
    ring = make_ring(order="GRB", driver="spi", pin="GPIO10")
    ring.show(FRAME4)
    strip = ring._strip
    reset = strip._reset
    stream = spi_wire[-1]
    assert len(reset) > 0 and set(reset) == {0}
    assert stream.startswith(reset) and stream.endswith(reset)
    body = stream[len(reset) : -len(reset)]
    assert decode_spi(body, strip._bit0, strip._bit1) == bytes(
        [2, 1, 3, 12, 11, 13, 22, 21, 23, 32, 31, 33]
    )


@given(st.integers(1, 30).flatmap(lambda n: st.binary(min_size=3 * n, max_size=3 * n)))
def test_fast_spi_encoding_equals_the_library_encoding(data):
    strip = agnostic_strip("spi", 10, len(data) // 3, "GRB")
    buffer = bytearray(data)
    strip._transmogrify(buffer)
    ours = bytes(strip._spibuf)
    neopixel_spi.NeoPixel_SPI._transmogrify(strip, buffer)
    assert ours == bytes(strip._spibuf)


# ---- pure helpers and preflight ------------------------------------------------------


def test_channel_offsets_and_packing():
    assert channel_offsets("GRB") == (1, 0, 2)
    dest = bytearray(8)
    pack_into(dest, 0, bytes([1, 2, 3, 4, 5, 6]), "RGBW")
    assert dest == bytearray([1, 2, 3, 0, 4, 5, 6, 0])
    with pytest.raises(ValueError, match="colour order 'XYZ'"):
        channel_offsets("XYZ")


@pytest.mark.parametrize(("pin", "gpio"), [("GPIO10", 10), ("gpio18", 18), ("D21", 21), (12, 12)])
def test_parse_gpio(pin, gpio):
    assert parse_gpio(pin) == gpio


def test_parse_gpio_refuses_other_names():
    with pytest.raises(HardwareMisconfigured, match=r"ring\.pin = 'pin 12' is not a GPIO pin"):
        parse_gpio("pin 12")


class Box:
    """A fake Pi: which device files exist, which are accessible, who we are."""

    def __init__(self, files=("/dev/spidev0.0", "/dev/pio0"), access=True, root=False, specs=True):
        self.files, self.ok, self.root, self.specs = set(files), access, root, specs

    def kwargs(self):
        return {
            "exists": lambda path: path in self.files,
            "access": lambda path, mode: self.ok,
            "euid": lambda: 0 if self.root else 1000,
            "find_spec": lambda name: object() if self.specs else None,
        }


def check(driver, gpio, model=PI4, box=None):
    preflight(driver, gpio, model, **(box or Box()).kwargs())


def test_preflight_accepts_working_set_ups():
    check("spi", 10)
    check("spi", 10, PI5)
    check("pwm", 18, box=Box(root=True))
    check("pwm", 21, box=Box(root=True))
    check("pi5", 4, PI5)


U, M = HardwareUnavailable, HardwareMisconfigured
ROOT, NOSPEC, NOFILES, NOACCESS = Box(root=True), Box(specs=False), Box(files=()), Box(access=False)
PREFLIGHT_FAILURES = [
    ("spi", 10, None, Box(), U, r"not a Raspberry Pi.*--hardware mock"),
    ("ws2812", 10, PI4, Box(), M, r"ring\.driver = 'ws2812' is not a driver"),
    ("spi", 18, PI4, Box(), M, r"ring\.pin = GPIO18 does not work with ring\.driver = spi.*GPIO10"),
    ("pwm", 17, PI4, ROOT, M, r"needs GPIO18, 12, 13, 19, 21 or 10"),
    ("pwm", 18, PI5, ROOT, M, r"does not work on a Raspberry Pi 5.*pi5"),
    ("pi5", 18, PI4, Box(), M, r"needs a Raspberry Pi 5 \(this is a Raspberry Pi 4"),
    ("pi5", 30, PI5, Box(), M, r"GPIO0-GPIO27"),
    ("spi", 10, PI4, NOSPEC, U, r"pip install 'breathring\[spi\]'"),
    ("pwm", 18, PI4, Box(specs=False, root=True), U, r"pip install 'breathring\[pwm\]'"),
    ("pi5", 18, PI5, NOSPEC, U, r"pip install 'breathring\[pi5\]'"),
    ("spi", 10, PI4, NOFILES, U, r"/dev/spidev0\.0 does not exist: enable SPI"),
    ("spi", 10, PI4, NOACCESS, U, r"no access to /dev/spidev0\.0: add the user to group spi"),
    ("pwm", 18, PI4, Box(), U, r"pwm needs root"),
    ("pi5", 18, PI5, NOFILES, U, r"/dev/pio0 does not exist"),
    ("pi5", 18, PI5, NOACCESS, U, r"no access to /dev/pio0: add the user to group gpio"),
]


@pytest.mark.parametrize(("driver", "gpio", "model", "box", "error", "message"), PREFLIGHT_FAILURES)
def test_preflight_errors_name_the_fix(driver, gpio, model, box, error, message):
    with pytest.raises(error, match=message) as info:
        check(driver, gpio, model, box)
    assert type(info.value) is error
    assert "\n" not in str(info.value)
    assert info.value.exit_code == (EX_CONFIG if error is HardwareMisconfigured else EX_UNAVAILABLE)
