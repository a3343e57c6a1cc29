"""The device's state machine, on a FakeClock."""

from __future__ import annotations

from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from testkit.frames import FPS, run

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import CONFIRM, IDLE, PULSE, Controller

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
NIGHT = datetime(2026, 1, 15, 23, 30, tzinfo=ZoneInfo("UTC"))
#: The lead-in lasts 2 s (written down, not imported).
LEAD_IN_S = 2.0


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


def test_double_press_upgrades_to_the_long_session():
    clock = FakeClock(NOON)
    cfg = Config()
    controller = Controller(cfg)
    controller.handle("press", read(clock))
    first = controller.tick(read(clock))
    clock.advance(0.2)
    controller.handle("double", read(clock))
    status = controller.status(read(clock))
    assert status["pattern"] == cfg.session.long_pattern == "coherent"
    assert status["breaths"] == cfg.session.long_breaths == 10
    ticks = run(controller, clock, 130)
    cues = [c for t in ticks for c in t.cues]
    assert first.cues == ["start"]
    assert cues.count("inhale") == 10 and cues.count("start") == 0  # start was already played
    assert cues[-1] == "end"


def test_double_press_when_idle_starts_the_long_session():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("double", read(clock))
    assert controller.status(read(clock))["pattern"] == "coherent"


def test_hold_toggles_reminders_with_blinks():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.handle("press", read(clock), held=True)  # the button goes down...
    clock.advance(2.0)
    controller.handle("hold", read(clock))  # ...and stays down: a hold, not a session
    assert controller.reminders_enabled is False
    ticks = [controller.tick(read(clock)), *run(controller, clock, 3)]
    assert "reminders-off" in ticks[0].events
    assert [c for t in ticks for c in t.cues] == ["confirm-off"]  # no start, no end
    confirm = [t for t in ticks if t.phase == CONFIRM]
    assert confirm[0].cues == ["confirm-off"]
    # One blink: the light rises and falls once.
    lit = [t.frame.intensity > 0.01 for t in confirm]
    rises = sum(1 for a, b in pairwise(lit) if b and not a)
    assert rises + (1 if lit[0] else 0) == 1
    controller.handle("hold", read(clock))
    ticks = [controller.tick(read(clock)), *run(controller, clock, 2)]
    lit = [t.frame.intensity > 0.01 for t in ticks]
    assert sum(1 for a, b in pairwise(lit) if b and not a) == 2
    assert controller.reminders_enabled is True


def test_a_remote_reminders_switch_leaves_a_running_session_alone():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.handle("press", read(clock))
    clock.advance(LEAD_IN_S + 1.0)
    controller.set_reminders(False, read(clock), keep_session=True)
    assert controller.reminders_enabled is False
    tick = controller.tick(read(clock))
    assert tick.phase == "inhale"
    assert "reminders-off" in tick.events and "confirm-off" not in tick.cues
    assert controller.status(read(clock))["state"] == "session"
    # Idle: the same switch shows its blink at once.
    controller.stop(read(clock))
    ticks = run(controller, clock, 5)
    assert ticks[-1].phase == IDLE
    controller.set_reminders(True, read(clock), keep_session=True)
    assert controller.tick(read(clock)).phase == CONFIRM


def test_a_remote_switch_during_a_session_blinks_once_the_session_has_ended():
    """Three breaths of 4 s in + 6 s out after the 2 s lead-in, then 2.5 s closing: 34.5 s."""
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.handle("press", read(clock))
    ticks = [controller.tick(read(clock)), *run(controller, clock, 10.0)]
    controller.set_reminders(False, read(clock), keep_session=True)
    ticks += run(controller, clock, 30.0)
    cues = [c for t in ticks for c in t.cues]
    # Every breath still cued, the session's own `end`, and only then the blink.
    assert cues == [
        "start",
        "inhale",
        "exhale",
        "inhale",
        "exhale",
        "inhale",
        "exhale",
        "end",
        "confirm-off",
    ]
    phases = [t.phase for t in ticks]
    last_closing = len(phases) - 1 - phases[::-1].index("closing")
    assert phases.index(CONFIRM) == last_closing + 1  # the blink follows the closing at once
    # Not cut: the session ran its full length (34.5 s) before the blink.
    assert phases.index(CONFIRM) / FPS == pytest.approx(34.5, abs=2 / FPS)
    events = [e for t in ticks for e in t.events]
    assert events.index("reminders-off") < events.index("session-finished")
    assert "session-cancelled" not in events
    assert phases[-1] == IDLE and not controller.active


def test_a_remote_switch_then_a_press_fades_the_session_and_blinks_after_the_fade():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=False)
    controller.handle("press", read(clock))
    run(controller, clock, 5.0)
    controller.set_reminders(True, read(clock), keep_session=True)
    run(controller, clock, 1.0)
    controller.handle("press", read(clock))  # the user ends it early
    ticks = run(controller, clock, 3.0)
    assert [c for t in ticks for c in t.cues] == ["end", "confirm-on"]
    phases = [t.phase for t in ticks]
    assert phases.index(CONFIRM) > phases.index("closing")
    # Two blinks for "on".
    lit = [t.frame.intensity > 0.01 for t in ticks if t.phase == CONFIRM]
    assert sum(1 for a, b in pairwise([False, *lit]) if b and not a) == 2


def test_the_hold_during_a_session_still_fades_it_out_first():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.handle("press", read(clock))
    run(controller, clock, 10.0)
    controller.handle("hold", read(clock))  # the button's hold: not a remote switch
    ticks = run(controller, clock, 2.0)
    assert [c for t in ticks for c in t.cues] == ["end", "confirm-off"]
    assert ticks[0].phase == "closing"
    events = [e for t in ticks for e in t.events]
    assert "session-cancelled" in events and "session-finished" not in events


def test_night_look_is_dim_and_warm():
    cfg = Config()
    day = Controller(cfg)
    night = Controller(cfg)
    day_clock, night_clock = FakeClock(NOON), FakeClock(NIGHT)
    day.handle("press", read(day_clock))
    night.handle("press", read(night_clock))
    day_color = day.tick(read(day_clock)).frame.color
    night_color = night.tick(read(night_clock)).frame.color
    assert max(night_color) == pytest.approx(cfg.night.brightness * max(cfg.night.color) / 255)
    assert max(night_color) < max(day_color) / 5
    assert night_color[0] > night_color[2]  # warm: more red than blue
    assert night.volume == cfg.night.volume


def test_pulse_glows_dimly_and_a_press_starts_a_session():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    assert controller.start_pulse(read(clock))
    ticks = run(controller, clock, 10)
    assert all(t.phase == PULSE for t in ticks)
    assert max(t.frame.intensity for t in ticks) <= 0.5
    controller.handle("press", read(clock))
    assert controller.state == "session"
    assert not controller.start_pulse(read(clock))  # never over a session


def test_unknown_gesture_is_rejected():
    with pytest.raises(ValueError, match="allowed: press, double, hold"):
        Controller(Config()).handle("tap", read(FakeClock(NOON)))


def test_lead_in_is_longer_than_the_double_press_window():
    assert Config().button.double_seconds < LEAD_IN_S


# --------------------------------------------------------------------------- status and views
# Written down from the default timeline: lead-in 2 s, three breaths of in 4 s / out 6 s
# (inhales at 2, 12, 22 s; exhales at 6, 16, 26 s), closing 2.5 s from 32 s: 34.5 s in all.


def _status_after(seconds: float, start: datetime = NOON, gesture: str = "press"):
    clock = FakeClock(start)
    controller = Controller(Config())
    controller.handle(gesture, read(clock))
    controller.tick(read(clock))
    run(controller, clock, seconds)
    return controller, clock


def test_idle_status_has_every_key():
    clock = FakeClock(NOON)
    assert Controller(Config()).status(read(clock)) == {
        "state": "idle",
        "phase": "idle",
        "breath": 0,
        "breaths": 0,
        "pattern": None,
        "next_pattern": "three-breath",
        "reminders": True,
        "elapsed": None,
        "remaining": None,
        "night": False,
    }
    assert Controller(Config()).status(read(FakeClock(NIGHT)))["night"] is True


@pytest.mark.parametrize(
    ("seconds", "phase", "breath", "remaining", "done"),
    [
        (0.0, "lead-in", 0, 34.5, 0),
        (7.3, "exhale", 1, 27.2, 0),
        (13.3, "inhale", 2, 21.2, 1),
        (33.3, "closing", 3, 1.2, 3),
    ],
)
def test_session_status_and_view_follow_the_timeline(seconds, phase, breath, remaining, done):
    controller, clock = _status_after(seconds)
    now = read(clock)
    assert controller.status(now) == {
        "state": "session",
        "phase": phase,
        "breath": breath,
        "breaths": 3,
        "pattern": "three-breath",
        "next_pattern": "three-breath",
        "reminders": True,
        "elapsed": seconds,
        "remaining": remaining,
        "night": False,
    }
    view = controller.session_view(now)
    assert (view.serial, view.pattern, view.breaths, view.long) == (1, "three-breath", 3, False)
    assert view.breaths_done == done and not view.cancelled
    assert view.elapsed == pytest.approx(seconds, abs=1e-6)


def test_a_cancelled_session_reports_its_fade_and_the_breaths_it_had():
    controller, clock = _status_after(13.3)  # in the second inhale
    controller.handle("press", read(clock))
    controller.tick(read(clock))
    run(controller, clock, 0.2)
    now = read(clock)
    status = controller.status(now)
    assert status["phase"] == "closing" and status["state"] == "session"
    assert status["remaining"] == 0.6  # the 0.8-s cancel fade, 0.2 s in
    view = controller.session_view(now)
    assert view.cancelled and view.breaths_done == 1
    assert controller.upcoming(now, 3) == []


def test_double_press_status_at_night_is_the_long_session():
    controller, clock = _status_after(1.0, NIGHT, "double")
    status = controller.status(read(clock))
    assert (status["pattern"], status["breaths"], status["night"]) == ("coherent", 10, True)
    assert status["remaining"] == 113.5  # 2 + 10 x 11 + 2.5 = 114.5 s in all
    view = controller.session_view(read(clock))
    assert view.long and view.pattern == "coherent" and view.breaths == 10


def test_upcoming_lists_the_next_phases_in_order():
    controller, clock = _status_after(0.0)
    upcoming = controller.upcoming(read(clock), 3)
    assert [(s.phase, s.breath, s.start) for s in upcoming] == [
        ("inhale", 1, 2.0),
        ("exhale", 1, 6.0),
        ("inhale", 2, 12.0),
    ]
    assert controller.upcoming(read(clock), 1) == upcoming[:1]
    assert Controller(Config()).upcoming(read(clock), 3) == []
