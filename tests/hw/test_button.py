"""GpioButton on gpiozero's MockFactory: edges stamped by our FakeClock, then decoded.

gpiozero 2's MockPin stores `bounce` but does not filter edges with it (and
reads real time only for its own state log), so these tests are
deterministic with the real bounce setting; bounce is the decoder's job.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from gpiozero.pins.mock import MockFactory

from breathring.clock import FakeClock
from breathring.gestures import DOUBLE, HOLD, PRESS, ButtonEvent, GestureDecoder
from breathring.hw import Button, HardwareMisconfigured, HardwareUnavailable
from breathring.hw.button import GpioButton

PIN = 17
#: Written down, not imported: the exit code of a configuration the hardware refuses.
EX_CONFIG = 78
HOLD_S = 2.0
BOUNCE_S = 0.03


@pytest.fixture
def factory():
    f = MockFactory()
    yield f
    f.close()


@pytest.fixture
def clock():
    return FakeClock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC), mono=100.0)


@pytest.fixture
def button(factory, clock):
    b = GpioButton(f"GPIO{PIN}", BOUNCE_S, clock, pin_factory=factory)
    yield b
    b.close()


def drain(button: GpioButton) -> list[ButtonEvent]:
    out = []
    while not button.events.empty():
        out.append(button.events.get_nowait())
    return out


def press_for(factory, clock, seconds: float) -> None:
    factory.pin(PIN).drive_low()
    clock.advance(seconds)
    factory.pin(PIN).drive_high()


def decode(events: list[ButtonEvent], dec: GestureDecoder, until: float | None = None) -> list[str]:
    out: list[str] = []
    for event in events:
        out += dec.poll(event.mono)
        out += dec.feed(event)
    if until is not None:
        out += dec.poll(until)
    return out


def test_it_is_a_button_and_starts_released(button):
    assert isinstance(button, Button)
    assert not button.is_pressed
    assert button.events.empty()


def test_edges_are_queued_with_the_clock_time(button, factory, clock):
    factory.pin(PIN).drive_low()  # pulled up: low = pressed
    assert button.is_pressed
    clock.advance(0.25)
    factory.pin(PIN).drive_high()
    assert drain(button) == [ButtonEvent("down", 100.0), ButtonEvent("up", 100.25)]


def test_short_press_decodes_to_press(button, factory, clock):
    press_for(factory, clock, 0.15)
    assert decode(drain(button), GestureDecoder(HOLD_S), until=clock.monotonic() + 5) == [PRESS]


def test_double_press_decodes_to_press_then_double(button, factory, clock):
    press_for(factory, clock, 0.1)
    clock.advance(0.15)
    press_for(factory, clock, 0.1)
    assert decode(drain(button), GestureDecoder(HOLD_S)) == [PRESS, DOUBLE]


def test_hold_decodes_to_press_then_hold(button, factory, clock):
    dec = GestureDecoder(HOLD_S)
    factory.pin(PIN).drive_low()
    assert decode(drain(button), dec) == [PRESS]
    clock.advance(HOLD_S)
    assert dec.poll(clock.monotonic()) == [HOLD]
    clock.advance(1.0)
    factory.pin(PIN).drive_high()
    assert decode(drain(button), dec) == []


def test_contact_bounce_reaches_the_queue_and_the_decoder_drops_it(button, factory, clock):
    assert factory.pin(PIN).bounce == BOUNCE_S  # handed to gpiozero
    pin = factory.pin(PIN)
    pin.drive_low()
    for _ in range(3):  # 5 ms of chatter
        clock.advance(0.001)
        pin.drive_high()
        clock.advance(0.001)
        pin.drive_low()
    clock.advance(0.2)
    pin.drive_high()
    events = drain(button)
    assert len(events) == 8
    dec = GestureDecoder(HOLD_S, bounce_seconds=BOUNCE_S)
    assert decode(events, dec, until=clock.monotonic() + 5) == [PRESS]


def test_zero_bounce_means_none_for_gpiozero(factory, clock):
    b = GpioButton(PIN, 0.0, clock, pin_factory=factory)
    try:
        assert factory.pin(PIN).bounce is None
    finally:
        b.close()


def test_a_pin_that_does_not_exist_is_a_config_error(factory, clock):
    with pytest.raises(HardwareMisconfigured) as info:
        GpioButton("GPIO99", BOUNCE_S, clock, pin_factory=factory)
    assert str(info.value).startswith("button.pin = GPIO99 is not a GPIO pin")
    assert info.value.exit_code == EX_CONFIG
    assert "\n" not in str(info.value)


def test_a_pin_in_use_is_refused(button, factory, clock):
    # The default line (GPIO17) is held: the refusal names another one to try.
    with pytest.raises(HardwareMisconfigured) as info:
        GpioButton(PIN, BOUNCE_S, clock, pin_factory=factory)
    assert str(info.value) == (
        "button.pin = GPIO17 is already in use (by the ring or another device); "
        "choose another pin, e.g. GPIO27"
    )
    assert info.value.exit_code == EX_CONFIG


def test_another_busy_pin_is_told_to_use_the_default_one(factory, clock):
    held = GpioButton(5, BOUNCE_S, clock, pin_factory=factory)
    try:
        with pytest.raises(HardwareMisconfigured) as info:
            GpioButton(5, BOUNCE_S, clock, pin_factory=factory)
    finally:
        held.close()
    assert str(info.value) == (
        "button.pin = GPIO5 is already in use (by the ring or another device); "
        "choose another pin, e.g. GPIO17"
    )


def test_close_releases_the_pin(factory, clock):
    GpioButton(PIN, BOUNCE_S, clock, pin_factory=factory).close()
    again = GpioButton(PIN, BOUNCE_S, clock, pin_factory=factory)
    again.close()


def test_no_gpio_library_is_hardware_unavailable(clock, monkeypatch):
    import gpiozero
    from gpiozero.exc import BadPinFactory

    def no_factory(*args, **kwargs):
        raise BadPinFactory("Unable to load any default pin factory!")

    monkeypatch.setattr(gpiozero, "Button", no_factory)
    with pytest.raises(HardwareUnavailable, match="python3-lgpio"):
        GpioButton(PIN, BOUNCE_S, clock)
