"""What the controller reports: status keys, phase, breath, time left, what comes next."""

from __future__ import annotations

from datetime import datetime

import pytest
from testkit.frames import (
    NIGHT,
    NOON,
    UPTIME,
    run,
    started,
)
from testkit.status import CONTROLLER_IDLE

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller

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
    assert Controller(Config()).status(read(clock)) == CONTROLLER_IDLE
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
        "breath_rate": None,
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


def test_status_at_an_odd_moment_rounds_to_a_tenth():
    controller, clock = started()
    clock.advance(7.34)
    status = controller.status(read(clock))
    assert (status["elapsed"], status["remaining"]) == (7.3, 27.2)
    assert (status["phase"], status["breath"]) == ("exhale", 1)
    view = controller.session_view(read(clock))
    assert view.elapsed == pytest.approx(7.34) and view.breaths_done == 0
    assert [(s.phase, s.start) for s in controller.upcoming(read(clock), 2)] == [
        ("inhale", 12.0),
        ("exhale", 16.0),
    ]


def test_status_after_the_timeline_but_before_the_next_frame():
    controller, clock = started()
    clock.advance(40.0)  # no frame since: the session is still the activity
    status = controller.status(read(clock))
    assert (status["state"], status["phase"], status["breath"]) == ("session", "closing", 3)
    assert (status["elapsed"], status["remaining"]) == (40.0, 0.0)


def test_status_of_a_pulse_and_of_a_confirm_names_them():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.start_pulse(read(clock))
    status = controller.status(read(clock))
    assert (status["state"], status["phase"], status["breath"]) == ("pulse", "pulse", 0)
    controller.stop(read(clock))
    controller.set_reminders(False, read(clock))
    status = controller.status(read(clock))
    assert (status["state"], status["phase"]) == ("confirm", "confirm")
