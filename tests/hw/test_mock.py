"""The mocks (MockRing, MockButton, MockAudio) and hardware selection."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime

import pytest

from breathring.clock import FakeClock
from breathring.gestures import DOUBLE, HOLD, PRESS, ButtonEvent, GestureDecoder
from breathring.hw import Audio, Button, HardwareUnavailable, Ring
from breathring.hw.mock import MockAudio, MockButton, MockRing
from breathring.hw.select import NOT_A_PI, Hardware, detect_pi, open_hardware


@pytest.fixture
def clock():
    return FakeClock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), mono=50.0)


# ---- MockRing -------------------------------------------------------------------------


def test_mock_ring_records_wire_frames_in_its_colour_order():
    ring = MockRing(2, "GRB")
    ring.show(bytes([1, 2, 3, 4, 5, 6]))
    assert ring.frames == [bytes([2, 1, 3, 5, 4, 6])]
    assert ring.last == [(1, 2, 3), (4, 5, 6)]
    assert ring.writes == 1
    assert ring.lit == 2


def test_mock_ring_rgbw_has_white_zero():
    ring = MockRing(1, "rgbw")
    ring.show(bytes([9, 9, 9]))
    assert ring.frames[-1] == bytes([9, 9, 9, 0])


def test_mock_ring_starts_dark_and_clear_and_close_go_dark():
    ring = MockRing(3)
    assert ring.last == [(0, 0, 0)] * 3 and ring.lit == 0
    ring.show(bytes(range(9)))
    ring.clear()
    assert ring.lit == 0
    ring.show(bytes(range(9)))
    ring.close()
    assert ring.closed and ring.lit == 0 and ring.writes == 4
    ring.close()
    with pytest.raises(OSError, match="closed"):
        ring.show(bytes(9))


def test_mock_ring_refuses_a_frame_of_the_wrong_length():
    ring = MockRing(3)
    with pytest.raises(ValueError, match="frame has 8 bytes; the ring needs 9"):
        ring.show(bytes(8))
    assert ring.writes == 0


def test_mock_ring_fail_next_and_fail_every():
    ring = MockRing(1, fail_every=3)
    ring.fail_next(1)
    with pytest.raises(OSError, match="injected"):
        ring.show(bytes(3))  # attempt 1: fail_next
    ring.show(bytes([1, 1, 1]))  # attempt 2
    with pytest.raises(OSError, match="injected"):
        ring.show(bytes([2, 2, 2]))  # attempt 3: every third
    ring.show(bytes([3, 3, 3]))
    assert ring.writes == 2 and ring.attempts == 4
    assert ring.last == [(3, 3, 3)]
    assert ring.frames == [bytes([1, 1, 1]), bytes([3, 3, 3])]


def test_mock_ring_keeps_a_bounded_history_but_counts_everything():
    ring = MockRing(1, keep=2)
    for value in range(5):
        ring.show(bytes([value, 0, 0]))
    assert ring.writes == 5
    assert ring.frames == [bytes([0, 3, 0]), bytes([0, 4, 0])]


def test_mock_ring_validates_its_arguments():
    with pytest.raises(ValueError, match=r"ring\.pixels = 0"):
        MockRing(0)
    with pytest.raises(ValueError, match="colour order 'RGBX'"):
        MockRing(1, "RGBX")
    with pytest.raises(ValueError, match="fail_every = 0"):
        MockRing(1, fail_every=0)


# ---- MockButton -----------------------------------------------------------------------


def decode(button: MockButton, dec: GestureDecoder, until: float | None = None) -> list[str]:
    out: list[str] = []
    for event in button.drain():
        out += dec.poll(event.mono) + dec.feed(event)
    if until is not None:
        out += dec.poll(until)
    return out


def test_mock_button_edges_use_the_callers_clock(clock):
    button = MockButton(clock)
    button.down()
    clock.advance(0.3)
    button.up()
    assert button.drain() == [ButtonEvent("down", 50.0), ButtonEvent("up", 50.3)]


def test_mock_button_gestures_decode(clock):
    button = MockButton(clock)
    dec = GestureDecoder()
    button.press()
    assert decode(button, dec) == [PRESS]
    clock.advance(5)
    button.double()
    assert decode(button, dec) == [PRESS, DOUBLE]
    clock.advance(5)
    button.hold(2.5)
    assert decode(button, dec) == [PRESS, HOLD]  # from the late up


def test_mock_button_hold_in_real_order(clock):
    button = MockButton(clock)
    dec = GestureDecoder(hold_seconds=2.0)
    button.down()
    assert decode(button, dec) == [PRESS]
    clock.advance(2.0)
    assert dec.poll(clock.monotonic()) == [HOLD]
    button.up()
    assert decode(button, dec) == []


def test_mock_button_double_stamps(clock):
    button = MockButton(clock)
    button.double()
    assert [(e.kind, round(e.mono - 50.0, 3)) for e in button.drain()] == [
        ("down", 0.0),
        ("up", 0.05),
        ("down", 0.1),
        ("up", 0.15),
    ]


def test_mock_button_closed_refuses_presses(clock):
    button = MockButton(clock)
    button.close()
    with pytest.raises(RuntimeError, match="closed"):
        button.press()
    with pytest.raises(ValueError, match="hold seconds = -1"):
        MockButton(clock).hold(-1)


# ---- MockAudio ------------------------------------------------------------------------


def test_mock_audio_records_cues_and_guides(clock):
    audio = MockAudio(clock)
    audio.play("start", 0.6)
    clock.advance(1.5)
    audio.play_guide("inhale", 4.0, 0.3)
    audio.stop()
    assert audio.played == [("start", 50.0, 0.6), ("guide:inhale", 51.5, 4.0)]
    assert audio.cues == ["start", "guide:inhale"]
    assert audio.stops == 1
    audio.close()
    assert not audio.available


def test_mock_audio_without_a_speaker_records_nothing(clock):
    audio = MockAudio(clock, available=False)
    audio.play("start", 1.0)
    assert audio.played == [] and not audio.available
    audio.available = True
    audio.play("end", 1.0)
    assert audio.cues == ["end"]


def test_mocks_match_the_protocols(clock):
    assert isinstance(MockRing(1), Ring)
    assert isinstance(MockButton(clock), Button)
    assert isinstance(MockAudio(clock), Audio)


# ---- selection ------------------------------------------------------------------------


@dataclass(frozen=True)
class _Ring:
    pixels: int = 12
    order: str = "RGB"
    pin: str = "GPIO10"
    driver: str = "spi"


@dataclass(frozen=True)
class _Button:
    pin: str = "GPIO17"
    hold_seconds: float = 2.0
    bounce_seconds: float = 0.03


@dataclass(frozen=True)
class _Cfg:
    """The few config fields selection reads (config.Config has the same names)."""

    ring: _Ring = field(default_factory=_Ring)
    button: _Button = field(default_factory=_Button)
    audio: object = None


def model_file(tmp_path, text: bytes):
    path = tmp_path / "model"
    path.write_bytes(text)
    return path


def test_detect_pi_reads_the_device_tree_model(tmp_path):
    pi = model_file(tmp_path, b"Raspberry Pi 4 Model B Rev 1.5\x00")
    assert detect_pi(pi) == "Raspberry Pi 4 Model B Rev 1.5"
    other = tmp_path / "other"
    other.write_bytes(b"Pine64 RockPro64\x00")
    assert detect_pi(other) is None
    assert detect_pi(tmp_path / "missing") is None


def test_auto_off_a_pi_is_mock_with_one_warning(tmp_path, clock, caplog):
    log = logging.getLogger("test.select")
    with caplog.at_level(logging.WARNING, logger="test.select"):
        hw = open_hardware(_Cfg(), "auto", clock, log, model_path=tmp_path / "missing")
    assert hw.kind == "mock" and hw.model is None
    assert isinstance(hw.ring, MockRing) and hw.ring.pixels == 12 and hw.ring.order == "RGB"
    assert isinstance(hw.button, MockButton) and isinstance(hw.audio, MockAudio)
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "simulated hardware" in warnings[0].getMessage()


def test_mock_mode_never_looks_for_a_pi(tmp_path, clock, caplog):
    pi = model_file(tmp_path, b"Raspberry Pi 5 Model B Rev 1.0\x00")
    with caplog.at_level(logging.WARNING):
        hw = open_hardware(_Cfg(), "mock", clock, logging.getLogger("t"), model_path=pi)
    assert hw.kind == "mock"
    assert caplog.records == []


def test_pi_mode_off_a_pi_names_the_fix(tmp_path, clock):
    with pytest.raises(HardwareUnavailable) as info:
        open_hardware(_Cfg(), "pi", clock, logging.getLogger("t"), model_path=tmp_path / "x")
    assert str(info.value) == NOT_A_PI
    assert "--hardware mock" in str(info.value)


def test_unknown_mode_is_refused(clock):
    with pytest.raises(ValueError, match="--hardware 'gpu' is not one of auto, pi, mock"):
        open_hardware(_Cfg(), "gpu", clock, logging.getLogger("t"))


def test_on_a_pi_a_failing_button_closes_the_ring(tmp_path, clock, monkeypatch):
    from breathring.hw import button as button_module
    from breathring.hw import ring as ring_module

    rings: list[MockRing] = []

    def fake_ring(pixels, order, pin, driver, model=None):
        rings.append(MockRing(pixels, order))
        return rings[-1]

    def broken_button(*args, **kwargs):
        raise HardwareUnavailable("cannot open button.pin = GPIO17: busy")

    monkeypatch.setattr(ring_module, "NeoPixelRing", fake_ring)
    monkeypatch.setattr(button_module, "GpioButton", broken_button)
    pi = model_file(tmp_path, b"Raspberry Pi 3 Model B Rev 1.2\x00")
    with pytest.raises(HardwareUnavailable, match="busy"):
        open_hardware(_Cfg(), "auto", clock, logging.getLogger("t"), model_path=pi)
    assert rings[0].closed


def test_hardware_close_reaches_every_part_even_if_one_fails(clock):
    class Broken(MockAudio):
        def close(self):
            raise RuntimeError("boom")

    ring = MockRing(2)
    ring.show(bytes([9] * 6))
    button = MockButton(clock)
    hw = Hardware(ring=ring, button=button, audio=Broken(clock), kind="mock")
    hw.close()
    assert button.closed and ring.closed and ring.lit == 0


def test_on_a_pi_the_real_parts_are_built_from_the_config(tmp_path, clock, monkeypatch):
    from breathring.hw import button as button_module
    from breathring.hw import ring as ring_module

    calls: dict[str, tuple] = {}

    def fake_ring(pixels, order, pin, driver, model=None):
        calls["ring"] = (pixels, order, pin, driver, model)
        return MockRing(pixels, order)

    def fake_button(pin, hold_seconds, bounce_seconds, clock_):
        calls["button"] = (pin, hold_seconds, bounce_seconds, clock_)
        return MockButton(clock_)

    audio = MockAudio(clock)
    from breathring.hw import audio as audio_module
    monkeypatch.setattr(ring_module, "NeoPixelRing", fake_ring)
    monkeypatch.setattr(button_module, "GpioButton", fake_button)
    monkeypatch.setattr(audio_module, "open_audio", lambda cfg, clock_, log: audio)
    pi = model_file(tmp_path, b"Raspberry Pi Zero 2 W Rev 1.0\x00")
    hw = open_hardware(_Cfg(), "pi", clock, logging.getLogger("t"), model_path=pi)
    assert hw.kind == "pi" and hw.model == "Raspberry Pi Zero 2 W Rev 1.0"
    assert calls["ring"] == (12, "RGB", "GPIO10", "spi", "Raspberry Pi Zero 2 W Rev 1.0")
    assert calls["button"] == ("GPIO17", 2.0, 0.03, clock)
    assert hw.audio is audio
