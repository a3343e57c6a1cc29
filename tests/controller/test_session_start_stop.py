"""A session on the controller: a press starts it, it runs out or a press fades it; stop."""

from __future__ import annotations

import pytest
from testkit.frames import (
    FPS,
    NOON,
    UPTIME,
    run,
    started,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import IDLE, Controller


def test_press_starts_a_session_on_the_same_frame():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    assert not controller.active
    controller.handle("press", read(clock))
    tick = controller.tick(read(clock))
    assert tick.phase == "lead-in" and tick.cues == ["start"]
    assert tick.frame.intensity > 0 and sum(tick.frame.coverage) > 0  # lit at once


def test_full_session_then_dark_and_idle():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("press", read(clock))
    ticks = [controller.tick(read(clock)), *run(controller, clock, 40)]
    cues = [c for t in ticks for c in t.cues]
    assert cues == ["start", "inhale", "exhale", "inhale", "exhale", "inhale", "exhale", "end"]
    assert not controller.active
    assert ticks[-1].phase == IDLE and sum(ticks[-1].frame.coverage) == 0
    events = [e for t in ticks for e in t.events]
    assert events == ["session-started:three-breath", "session-finished"]


def test_second_press_fades_out_within_a_second():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("press", read(clock))
    run(controller, clock, 5)
    controller.handle("press", read(clock))
    ticks = run(controller, clock, 1.0)
    assert ticks[0].cues == ["end"] and ticks[0].phase == "closing"
    assert not controller.active
    assert sum(t.phase == "closing" for t in ticks) <= 0.8 * FPS + 1
    assert ticks[-1].phase == IDLE


def test_unknown_gesture_is_rejected():
    with pytest.raises(ValueError, match="allowed: press, double, hold"):
        Controller(Config()).handle("tap", read(FakeClock(NOON)))


def test_the_first_frame_names_the_lead_in_that_starts():
    controller = Controller(Config())
    clock = FakeClock(NOON, UPTIME)
    controller.handle("press", read(clock))
    tick = controller.tick(read(clock))
    assert [(s.phase, s.breath, s.start, s.end) for s in tick.phase_starts] == [
        ("lead-in", 0, 0.0, 2.0)
    ]
    clock.advance(2.0)
    tick = controller.tick(read(clock))
    assert [(s.phase, s.start, s.end) for s in tick.phase_starts] == [("inhale", 2.0, 6.0)]


def test_a_session_that_runs_out_ends_on_an_idle_frame_with_breath_zero():
    controller, clock = started()
    clock.advance(34.5)
    last = controller.tick(read(clock))
    assert (last.phase, last.breath, last.events) == ("idle", 0, ["session-finished"])


def test_a_cancel_fade_ends_exactly_on_time():
    controller, clock = started(mono=0.0)
    clock.advance(4.0)
    assert controller.stop(read(clock), fade_s=0.5) is True
    clock.advance(0.25)
    assert controller.tick(read(clock)).phase == "closing"
    clock.advance(0.25)  # exactly the 0.5-s fade
    last = controller.tick(read(clock))
    assert (last.phase, last.breath) == ("idle", 0)


def test_a_cancelled_sessions_breaths_stay_frozen_after_the_cancel():
    controller, clock = started()
    clock.advance(11.9)  # the last moment of breath 1's exhale (it ends at 12 s)
    controller.handle("press", read(clock))
    clock.advance(0.5)  # past 12 s, where breath 2 would have begun
    view = controller.session_view(read(clock))
    assert view.cancelled and view.breaths_done == 0
    assert view.elapsed == pytest.approx(12.4)


def test_stop_says_whether_there_was_something_to_stop():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    assert controller.stop(read(clock)) is False
    controller.handle("press", read(clock))
    assert controller.stop(read(clock)) is True
    assert controller.stop(read(clock)) is True  # still fading out
    run(controller, clock, 1.0)
    assert controller.start_pulse(read(clock))
    assert controller.stop(read(clock)) is True
    assert controller.state == "idle" and controller.stop(read(clock)) is False


def test_a_cancel_fade_dims_the_arc_by_its_smoothstep():
    controller, clock = started(mono=0.0)
    steady, steady_clock = started(mono=0.0)
    clock.advance(4.0)
    steady_clock.advance(4.0)
    controller.stop(read(clock), fade_s=0.5)
    clock.advance(0.25)  # half the fade: smootherstep(0.5) = 0.5 of the light is gone
    steady_clock.advance(0.25)
    fading = controller.tick(read(clock)).frame.intensity
    full = steady.tick(read(steady_clock)).frame.intensity
    assert full > 0.0
    assert fading == pytest.approx(0.5 * full)
