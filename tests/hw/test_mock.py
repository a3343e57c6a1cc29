"""`--hardware mock` (real classes over a mock bus and pin), per-part hardware, selection."""

from __future__ import annotations

import logging
import queue
from datetime import UTC, datetime

import pytest

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.gestures import DOUBLE, HOLD, PRESS, GestureDecoder
from breathring.hw import Audio, Button, HardwareMisconfigured, HardwareUnavailable, Ring
from breathring.hw.audio import PygameAudio, SilentAudio
from breathring.hw.button import GpioButton, NoButton
from breathring.hw.mock import WireCapture, mock_button, mock_ring
from breathring.hw.ring import NeoPixelRing, NoRing
from breathring.hw.selection import detect_pi, open_hardware

#: R, G, B of pixel i are 10i+1, 10i+2, 10i+3.
FRAME3 = bytes([1, 2, 3, 11, 12, 13, 21, 22, 23])
PI4 = b"Raspberry Pi 4 Model B Rev 1.5\x00"
LOG = logging.getLogger("test.hw")
#: Exit codes, written down: hardware unavailable, bad configuration.
EX_UNAVAILABLE = 69
EX_CONFIG = 78


@pytest.fixture
def clock():
    return FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC))


@pytest.fixture
def no_pi(tmp_path):
    return tmp_path / "no-model"


def model_file(tmp_path, text: bytes):
    path = tmp_path / "model"
    path.write_bytes(text)
    return path


# ---- the mock bus under the real NeoPixelRing ------------------------------------------


@pytest.mark.parametrize(
    ("order", "wire"),
    [
        ("GRB", [2, 1, 3, 12, 11, 13, 22, 21, 23]),
        ("RGB", [1, 2, 3, 11, 12, 13, 21, 22, 23]),
        ("BRG", [3, 1, 2, 13, 11, 12, 23, 21, 22]),
        ("GRBW", [2, 1, 3, 0, 12, 11, 13, 0, 22, 21, 23, 0]),
    ],
)
def test_the_real_ring_transmits_into_the_capture_in_its_colour_order(order, wire):
    capture = WireCapture(order)
    ring = mock_ring(3, order, capture)
    assert isinstance(ring, NeoPixelRing)
    ring.show(FRAME3)
    assert capture.last == bytes(wire)
    assert capture.rgb(capture.last) == FRAME3
    assert capture.writes == 1


def test_the_capture_keeps_a_bounded_history_and_calls_its_listener():
    heard: list[bytes] = []
    capture = WireCapture("RGB", keep=2, listener=heard.append)
    ring = mock_ring(1, "RGB", capture)
    for value in (1, 2, 3):
        ring.show(bytes([value, 0, 0]))
    assert capture.frames == [bytes([2, 0, 0]), bytes([3, 0, 0])]
    assert capture.writes == 3 and len(heard) == 3
    ring.close()
    assert capture.last == bytes(3) and ring.closed


def test_a_failing_bus_is_an_oserror_from_the_ring():
    class Broken(WireCapture):
        def transmit(self, buffer):
            raise OSError("bus gone")

    ring = mock_ring(2, "GRB", Broken())
    with pytest.raises(OSError, match="bus gone"):
        ring.show(bytes(6))


# ---- the mock pin under the real GpioButton ---------------------------------------------


def test_driving_the_mock_pin_gives_stamped_edges_that_decode(clock):
    button, pins = mock_button("GPIO17", 0.03, clock)
    assert isinstance(button, GpioButton)
    decoder = GestureDecoder(2.0, 0.4, 0.03)
    got: list[str] = []

    def feed() -> None:
        while not button.events.empty():
            got.extend(decoder.feed(button.events.get_nowait()))

    pins.press()
    assert button.is_pressed
    clock.advance(0.05)
    pins.release()
    clock.advance(0.1)
    pins.press()
    clock.advance(0.05)
    pins.release()
    feed()
    assert got == [PRESS, DOUBLE]
    clock.advance(1.0)
    pins.press()
    feed()
    clock.advance(2.5)
    got.extend(decoder.poll(clock.monotonic()))
    pins.release()
    feed()
    assert got == [PRESS, DOUBLE, PRESS, HOLD]
    button.close()


# ---- selection --------------------------------------------------------------------------


def test_detect_pi_reads_the_device_tree_model(tmp_path):
    assert detect_pi(model_file(tmp_path, PI4)) == "Raspberry Pi 4 Model B Rev 1.5"
    other = tmp_path / "other"
    other.write_bytes(b"Pine64 RockPro64\x00")
    assert detect_pi(other) is None
    assert detect_pi(tmp_path / "missing") is None


def test_mock_runs_the_real_classes_over_mock_buses(clock, tmp_path, caplog):
    cfg = parse_config('[ring]\npixels = 3\norder = "RGB"\n')
    pi = model_file(tmp_path, PI4)
    with caplog.at_level(logging.WARNING):
        hw = open_hardware(cfg, "mock", clock, LOG, model_path=pi)
    try:
        assert caplog.records == []  # mock never looks for a Pi
        assert hw.kind == "mock" and hw.model is None
        assert isinstance(hw.ring, NeoPixelRing) and isinstance(hw.button, GpioButton)
        assert isinstance(hw.audio, PygameAudio)  # the real mixer, SDL's dummy driver
        assert isinstance(hw.ring, Ring) and isinstance(hw.button, Button)
        assert isinstance(hw.audio, Audio)
        hw.ring.show(FRAME3)
        assert hw.wire is not None and hw.wire.last == FRAME3
        assert hw.pins is not None
        hw.pins.press()
        assert hw.button.events.get_nowait().kind == "down"
    finally:
        hw.close()
    assert hw.wire.last == bytes(9)  # closed dark


def test_auto_off_a_pi_is_mock_with_one_warning(no_pi, clock, caplog):
    with caplog.at_level(logging.WARNING, logger="test.hw"):
        hw = open_hardware(Config(), "auto", clock, LOG, model_path=no_pi)
    hw.close()
    assert hw.kind == "mock"
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "simulated hardware" in warnings[0].getMessage()


def test_parts_left_out_by_the_config_are_not_opened(clock):
    cfg = parse_config(
        '[ring]\ndriver = "none"\n[button]\npin = "none"\n[audio]\nenabled = false\n'
    )
    hw = open_hardware(cfg, "mock", clock, LOG)
    assert isinstance(hw.ring, NoRing) and hw.wire is None
    assert isinstance(hw.button, NoButton) and hw.pins is None
    assert isinstance(hw.audio, SilentAudio)
    hw.ring.show(bytes(72))  # frames computed, nothing sent
    with pytest.raises(ValueError, match="frame has 3 bytes"):
        hw.ring.show(bytes(3))
    assert hw.button.events.empty()
    hw.close()


def test_pi_off_a_pi_with_no_ring_needs_a_revision_for_the_button(no_pi, clock):
    cfg = parse_config('[ring]\ndriver = "none"\n[audio]\nenabled = false\n')
    with pytest.raises(HardwareUnavailable) as info:
        open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env={})
    message = str(info.value)
    assert info.value.exit_code == EX_UNAVAILABLE and "\n" not in message
    assert message.startswith(
        "button.pin = GPIO17 needs a Raspberry Pi revision to map pin names, "
        "and this is not a Raspberry Pi"
    )
    assert "BREATHRING_PI_REVISION=a02082" in message
    assert 'button.pi_revision = "a02082"' in message


def test_pi_off_a_pi_with_a_ring_names_the_fix(no_pi, clock):
    with pytest.raises(HardwareUnavailable) as info:
        open_hardware(Config(), "pi", clock, LOG, model_path=no_pi, env={})
    assert "not a Raspberry Pi" in str(info.value)
    assert "--hardware mock" in str(info.value) and 'ring.driver = "none"' in str(info.value)


def test_pi_with_nothing_wired_but_audio_runs_anywhere(no_pi, clock):
    cfg = parse_config('[ring]\ndriver = "none"\n[button]\npin = "none"\n[audio]\ndriver = "dummy"')
    hw = open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env={})
    # The mixer opens in the background (the service is ready before pygame is loaded).
    assert hw.kind == "pi" and isinstance(hw.audio, PygameAudio)
    assert hw.audio.wait_open(3.0) and hw.audio.available
    hw.close()


@pytest.mark.parametrize(
    ("env", "config", "source"),
    [
        ({"BREATHRING_PI_REVISION": "zz"}, "", "BREATHRING_PI_REVISION = 'zz'"),
        ({}, 'pi_revision = "ffff"', "button.pi_revision = 'ffff'"),
    ],
)
def test_a_revision_gpiozero_does_not_know_is_a_config_error(no_pi, clock, env, config, source):
    cfg = parse_config(f'[ring]\ndriver = "none"\n[button]\n{config}\n[audio]\nenabled = false\n')
    with pytest.raises(HardwareUnavailable) as info:
        open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env=env)
    assert info.value.exit_code == EX_CONFIG
    assert str(info.value).startswith(f"{source} is not a Raspberry Pi revision code")


def test_the_lgpio_factory_maps_pins_with_the_revision_given(monkeypatch):
    from gpiozero.pins import lgpio as gpiozero_lgpio

    from breathring.hw.button import lgpio_factory

    opened: list[int] = []
    monkeypatch.setattr(gpiozero_lgpio.lgpio, "gpiochip_open", lambda chip: opened.append(chip))
    monkeypatch.setattr(gpiozero_lgpio.lgpio, "gpiochip_close", lambda handle: None)
    factory = lgpio_factory(0xC03114)
    assert factory.board_info.revision == "c03114" and factory.board_info.model == "4B"
    assert opened == [0]  # a Pi 4B: chip 0 (only a Pi 5 with /dev/gpiochip4 uses chip 4)
    factory.close()


def test_a_revision_given_reaches_the_button_off_a_pi(no_pi, clock, monkeypatch):
    from breathring.hw import gpio_cdev

    opened: list[tuple[str, int, float]] = []

    class Recorded:
        def __init__(self, chip, offset, bounce, clock):
            opened.append((str(chip), offset, bounce))
            self.events = queue.SimpleQueue()

        def close(self):
            pass

    monkeypatch.setattr(gpio_cdev, "CdevButton", Recorded)
    cfg = parse_config(
        '[ring]\ndriver = "none"\n[button]\npi_revision = "c03114"\n[audio]\nenabled = false\n'
    )
    env = {"BREATHRING_PI_REVISION": "A02082"}  # the environment wins over the config
    hw = open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env=env)
    assert isinstance(hw.button, Recorded)
    assert opened == [("/dev/gpiochip0", 17, 0.03)]  # GPIO17 and the default 30 ms bounce
    hw.close()
    bad = {"BREATHRING_PI_REVISION": "zz"}
    with pytest.raises(HardwareMisconfigured):
        open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env=bad)


def test_without_a_gpio_chip_the_revision_path_says_so(no_pi, clock, tmp_path, monkeypatch):
    from breathring.hw import gpio_cdev

    monkeypatch.setattr(gpio_cdev, "chip_for", lambda model, revision: tmp_path / "gpiochip0")
    cfg = parse_config('[ring]\ndriver = "none"\n[audio]\nenabled = false\n')
    env = {"BREATHRING_PI_REVISION": "a02082"}
    with pytest.raises(HardwareUnavailable) as info:
        open_hardware(cfg, "pi", clock, LOG, model_path=no_pi, env=env)
    assert info.value.exit_code == EX_UNAVAILABLE
    assert str(info.value) == (
        f"cannot open {tmp_path / 'gpiochip0'} for the button: No such file or directory; "
        "check that a GPIO chip exists and that the user is in group gpio"
    )


def test_unknown_mode_is_refused(clock):
    with pytest.raises(ValueError, match="--hardware 'gpu' is not one of auto, pi, mock"):
        open_hardware(Config(), "gpu", clock, LOG)


# ---- the demo's keys drive the mock pin ---------------------------------------------------


def test_demo_keys_are_edges_on_the_mock_pin_decoded_as_on_the_device(clock):
    from breathring.demo import Hand

    hand = Hand(Config(), clock)
    seen: list[str] = []

    def run(seconds: float) -> None:
        end = clock.monotonic() + seconds
        while True:
            seen.extend(hand.gestures())
            due = hand.next_due()
            if due is None or due > end:
                break
            clock.advance_to(due)
        clock.advance_to(end)

    hand.key(PRESS)
    run(1.0)
    assert seen == [PRESS]
    hand.key(DOUBLE)
    run(1.0)
    assert seen == [PRESS, PRESS, DOUBLE]
    hand.key(HOLD)
    run(3.0)  # button.hold_seconds = 2 by default: the hold is decoded at 2 s
    assert seen == [PRESS, PRESS, DOUBLE, PRESS, HOLD]
    assert not hand.button.is_pressed
    hand.close()
