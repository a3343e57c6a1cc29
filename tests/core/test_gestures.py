"""The pure gesture decoder: press at once, double, hold exactly once, bounce."""

from __future__ import annotations

import copy

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring.gestures import (
    DOUBLE,
    GESTURES,
    HOLD,
    PRESS,
    ButtonEvent,
    GestureDecoder,
)

HOLD_S = 2.0
DOUBLE_S = 0.4
BOUNCE_S = 0.03


def decoder() -> GestureDecoder:
    return GestureDecoder(hold_seconds=HOLD_S, double_seconds=DOUBLE_S, bounce_seconds=BOUNCE_S)


def down(t: float) -> ButtonEvent:
    return ButtonEvent("down", t)


def up(t: float) -> ButtonEvent:
    return ButtonEvent("up", t)


def run(dec: GestureDecoder, *steps: ButtonEvent | float) -> list[str]:
    """Feed events, and poll at bare numbers; return all gestures in order."""
    out: list[str] = []
    for step in steps:
        out += dec.feed(step) if isinstance(step, ButtonEvent) else dec.poll(step)
    return out


def test_press_is_delivered_on_the_down_edge():
    dec = decoder()
    assert dec.feed(down(10.0)) == [PRESS]
    assert dec.feed(up(10.1)) == []


def test_second_down_within_the_window_is_a_double():
    dec = decoder()
    assert dec.feed(down(0.0)) == [PRESS]
    assert dec.feed(up(0.1)) == []
    assert dec.feed(down(0.3)) == [DOUBLE]
    assert dec.feed(up(0.4)) == []


def test_double_window_is_measured_down_to_down_and_inclusive():
    dec = decoder()
    assert run(dec, down(0.0), up(0.1), down(DOUBLE_S)) == [PRESS, DOUBLE]
    late = decoder()
    assert run(late, down(0.0), up(0.1), down(DOUBLE_S + 0.001)) == [PRESS, PRESS]


def test_third_press_after_a_double_is_a_new_press():
    dec = decoder()
    gestures = run(dec, down(0.0), up(0.05), down(0.15), up(0.2), down(0.3), up(0.35))
    assert gestures == [PRESS, DOUBLE, PRESS]
    assert run(dec, down(0.5)) == [DOUBLE]  # the fourth pairs with the third


def test_hold_comes_from_poll_when_the_deadline_passes():
    dec = decoder()
    assert dec.feed(down(5.0)) == [PRESS]
    assert dec.next_deadline() == pytest.approx(5.0 + HOLD_S)
    assert dec.poll(5.0 + HOLD_S - 0.001) == []
    assert dec.poll(5.0 + HOLD_S) == [HOLD]
    assert dec.next_deadline() is None
    assert dec.poll(9.0) == []
    assert dec.feed(up(9.5)) == []  # the release after a hold says nothing


def test_hold_comes_from_a_late_up_when_nobody_polled():
    dec = decoder()
    assert run(dec, down(0.0), up(HOLD_S + 0.5)) == [PRESS, HOLD]


def test_hold_is_emitted_once_even_with_poll_and_late_up():
    dec = decoder()
    assert run(dec, down(0.0), HOLD_S, HOLD_S + 1, up(HOLD_S + 2)) == [PRESS, HOLD]


def test_release_before_the_hold_time_is_no_hold():
    dec = decoder()
    assert run(dec, down(0.0), up(HOLD_S - 0.01), HOLD_S + 5) == [PRESS]
    assert dec.next_deadline() is None


def test_a_press_that_became_a_hold_is_never_upgraded_to_double():
    dec = GestureDecoder(hold_seconds=0.5, double_seconds=2.0, bounce_seconds=BOUNCE_S)
    assert run(dec, down(0.0), 0.5, up(0.6), down(0.8)) == [PRESS, HOLD, PRESS]


def test_a_double_press_held_down_also_holds():
    dec = decoder()
    assert run(dec, down(0.0), up(0.1), down(0.2), 0.2 + HOLD_S) == [PRESS, DOUBLE, HOLD]


def test_chatter_on_release_is_ignored_and_the_press_goes_on():
    dec = decoder()
    # The contact opens for 10 ms after 0.1 s: not a release, not a new press.
    assert run(dec, down(0.0), up(0.1), down(0.11)) == [PRESS]
    assert dec.pressed
    assert dec.next_deadline() == pytest.approx(HOLD_S)  # the hold still counts from 0.0
    assert run(dec, HOLD_S) == [HOLD]


def test_chatter_at_press_time_does_not_lose_the_hold():
    dec = decoder()
    gestures = run(dec, down(0.0), up(0.004), down(0.008), up(0.012), down(0.02), HOLD_S)
    assert gestures == [PRESS, HOLD]


def test_a_real_second_press_just_past_the_bounce_time_is_a_double():
    dec = decoder()
    assert run(dec, down(0.0), up(0.1), down(0.1 + BOUNCE_S)) == [PRESS, DOUBLE]


def test_duplicate_edges_are_ignored():
    dec = decoder()
    assert run(dec, up(0.0), down(1.0), down(1.1), up(1.2), up(1.3)) == [PRESS]


def test_time_going_backwards_is_clamped_not_an_error():
    dec = decoder()
    assert run(dec, down(10.0), up(3.0)) == [PRESS]
    assert not dec.pressed  # the release counts, stamped 10.0
    assert run(dec, down(4.0)) == []  # also 10.0: chatter of that release
    assert dec.pressed
    assert dec.poll(10.0 + HOLD_S) == [HOLD]


def test_idle_decoder_has_no_deadline():
    dec = decoder()
    assert dec.next_deadline() is None
    assert dec.poll(1e9) == []


def test_bad_arguments_are_refused_with_the_name():
    with pytest.raises(ValueError, match="hold_seconds"):
        GestureDecoder(hold_seconds=0)
    with pytest.raises(ValueError, match="double_seconds"):
        GestureDecoder(double_seconds=-1)
    with pytest.raises(ValueError, match="bounce_seconds"):
        GestureDecoder(bounce_seconds=-0.1)
    with pytest.raises(ValueError, match="'down', 'up'"):
        ButtonEvent("pressed", 0.0)  # type: ignore[arg-type]


# ---- properties ---------------------------------------------------------------

step = st.one_of(
    st.tuples(st.sampled_from(["down", "up"]), st.floats(0.0, 3.0)),
    st.tuples(st.just("poll"), st.floats(0.0, 3.0)),
)


def drive(dec: GestureDecoder, steps: list[tuple[str, float]]) -> tuple[list[str], int]:
    """Run a stream of (kind, gap) steps; return the gestures and the number of downs."""
    t = 0.0
    out: list[str] = []
    downs = 0
    for kind, gap in steps:
        t += gap
        if kind == "poll":
            out += dec.poll(t)
        else:
            downs += kind == "down"
            out += dec.feed(ButtonEvent(kind, t))  # type: ignore[arg-type]
    return out, downs


@given(st.lists(step, max_size=60))
def test_random_streams_are_well_formed(steps):
    out, downs = drive(decoder(), steps)
    assert set(out) <= set(GESTURES)
    starts = [g for g in out if g in (PRESS, DOUBLE)]
    assert len(starts) <= downs
    assert out.count(HOLD) <= len(starts)
    for i, gesture in enumerate(out):
        if gesture == DOUBLE:
            assert i > 0 and out[i - 1] == PRESS, out
        if gesture == HOLD:
            assert i > 0 and out[i - 1] in (PRESS, DOUBLE), out  # one hold per press at most


@given(st.lists(step, max_size=40), st.floats(0.0, 5.0))
def test_next_deadline_is_exactly_when_poll_reports_the_hold(steps, gap):
    dec = decoder()
    drive(dec, steps)
    deadline = dec.next_deadline()
    if deadline is None:
        assert dec.poll(dec._latest + gap + HOLD_S) == []
        return
    early = copy.deepcopy(dec)
    if deadline - 1e-6 >= dec._latest:
        assert early.poll(deadline - 1e-6) == []
    assert dec.poll(deadline) == [HOLD]
    assert dec.next_deadline() is None


@given(st.lists(st.floats(DOUBLE_S + 0.01, 10.0), min_size=1, max_size=20))
def test_well_separated_short_presses_are_each_one_press(gaps):
    dec = decoder()
    t = 0.0
    for gap in gaps:
        t += gap
        assert dec.feed(down(t)) == [PRESS]
        assert dec.feed(up(t + 0.1)) == []


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: exact messages, defaults and the edges of each window)


def test_defaults_are_2_s_hold_0_4_s_double_30_ms_bounce():
    dec = GestureDecoder()
    assert (dec.hold_seconds, dec.double_seconds, dec.bounce_seconds) == (2.0, 0.4, 0.03)
    assert not dec.pressed


def test_bad_arguments_are_refused_with_exact_messages():
    with pytest.raises(ValueError) as caught:
        GestureDecoder(hold_seconds=-1)
    assert str(caught.value) == "hold_seconds = -1 must be > 0"
    with pytest.raises(ValueError) as caught:
        GestureDecoder(double_seconds=-0.5)
    assert str(caught.value) == "double_seconds = -0.5 must be >= 0"
    with pytest.raises(ValueError) as caught:
        GestureDecoder(bounce_seconds=-0.25)
    assert str(caught.value) == "bounce_seconds = -0.25 must be >= 0"
    with pytest.raises(ValueError) as caught:
        ButtonEvent("pressed", 0.0)  # type: ignore[arg-type]
    assert str(caught.value) == "button event kind 'pressed' is not one of 'down', 'up'"


def test_zero_double_and_bounce_windows_are_allowed():
    dec = GestureDecoder(hold_seconds=1.0, double_seconds=0.0, bounce_seconds=0.0)
    assert run(dec, down(0.0), up(0.1), down(0.2)) == [PRESS, PRESS]
    assert ButtonEvent("up", 1.0).kind == "up"


def test_a_down_exactly_the_bounce_time_after_the_release_is_a_new_press():
    dec = GestureDecoder(hold_seconds=5.0, double_seconds=0.0, bounce_seconds=0.25)
    assert run(dec, down(0.0), up(1.0), down(1.25)) == [PRESS, PRESS]
    # Just inside the bounce time it is chatter: nothing new, and the first press goes on.
    dec = GestureDecoder(hold_seconds=5.0, double_seconds=0.0, bounce_seconds=0.25)
    assert run(dec, down(0.0), up(1.0), down(1.2)) == [PRESS]
    assert dec.next_deadline() == 5.0


def test_a_press_after_chatter_starts_a_new_hold_time():
    dec = GestureDecoder(hold_seconds=2.0, double_seconds=0.5, bounce_seconds=0.1)
    assert run(dec, down(0.0), up(0.5), down(0.55), up(1.0)) == [PRESS]
    # A real press later: its own hold deadline, and it is not a double of the first.
    assert run(dec, down(3.0)) == [PRESS]
    assert dec.next_deadline() == 5.0
    assert dec.poll(4.999) == []
    assert dec.poll(5.0) == [HOLD]
    assert dec.next_deadline() is None


def test_the_first_poll_works_before_any_edge():
    # The decoder starts at minus infinity: an early poll at a negative time is still fine.
    dec = decoder()
    assert dec.poll(-100.0) == []
    assert run(dec, down(-50.0)) == [PRESS]
    assert dec.next_deadline() == -50.0 + HOLD_S


def test_pressed_is_a_real_bool():
    dec = decoder()
    assert dec.pressed is False
    dec.feed(down(0.0))
    assert dec.pressed is True
    dec.feed(up(0.1))
    assert dec.pressed is False
