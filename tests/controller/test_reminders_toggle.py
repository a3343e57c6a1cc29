"""Reminders on/off (the hold, a remote switch): confirm blinks; a session is never cut short."""

from __future__ import annotations

from itertools import pairwise

import pytest
from testkit.frames import (
    FPS,
    NOON,
    run,
    started,
    ticks_until_idle,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import CONFIRM, IDLE, Controller

#: The lead-in lasts 2 s (written down, not imported).
LEAD_IN_S = 2.0


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


def test_reminders_off_during_a_session_fades_it_out_with_its_end_cue_then_blinks():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("press", read(clock))
    for _ in range(6 * FPS):  # well into the first exhale: the ring is bright
        clock.advance(1 / FPS)
        lit = controller.tick(read(clock))
    assert lit.frame.intensity > 0.5
    controller.set_reminders(False, read(clock))
    ticks = ticks_until_idle(controller, clock)
    cues = [c for t in ticks for c in t.cues]
    assert cues == ["end", "confirm-off"]
    # The session fades (no cut): light falls in small steps, over more than half a second.
    closing = [t for t in ticks if t.phase == "closing"]
    assert len(closing) >= 0.5 * FPS
    light = [lit.frame.intensity * sum(lit.frame.coverage)]
    light += [t.frame.intensity * sum(t.frame.coverage) for t in closing]
    steps = [a - b for a, b in pairwise(light)]
    assert max(steps) < 0.25 * light[0] and min(steps) > -1e-9
    # Then the blink, after the fade, not on top of it.
    phases = [t.phase for t in ticks]
    first_confirm = phases.index("confirm")
    assert "closing" not in phases[first_confirm:]
    assert ticks[-1].phase == "idle" and not controller.reminders_enabled


def test_reminders_on_while_idle_blinks_twice_at_once():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=False)
    controller.set_reminders(True, read(clock))
    ticks = ticks_until_idle(controller, clock)
    assert ticks[0].phase == "confirm" and ticks[0].cues == ["confirm-on"]


def test_a_blink_peaks_at_its_middle_and_the_confirm_ends_exactly_on_time():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.handle("hold", read(clock))  # reminders off: one blink of 0.35 s
    first = controller.tick(read(clock))
    assert (first.phase, first.breath, first.cues) == ("confirm", 0, ["confirm-off"])
    assert first.events == ["reminders-off"]
    clock.advance(0.175)
    middle = controller.tick(read(clock))
    assert (middle.phase, middle.breath) == ("confirm", 0)
    assert middle.frame.intensity == pytest.approx(0.6)
    clock.advance(0.0875)  # three quarters of the blink: smootherstep(0.5) = 0.5
    assert controller.tick(read(clock)).frame.intensity == pytest.approx(0.3)
    clock.advance(0.0875)  # exactly 0.35 s: over
    last = controller.tick(read(clock))
    assert (last.phase, last.breath, last.cues) == ("idle", 0, [])
    controller.handle("hold", read(clock))
    assert controller.tick(read(clock)).events == ["reminders-on"]


def test_two_blinks_with_a_dark_gap_between_them():
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=False)
    controller.handle("hold", read(clock))  # on: two blinks, 0.35 + 0.2 + 0.35 = 0.9 s
    assert controller.tick(read(clock)).cues == ["confirm-on"]
    clock.advance(0.45)  # in the gap
    gap = controller.tick(read(clock))
    assert (gap.phase, gap.frame.intensity) == ("confirm", 0.0)
    assert controller.status(read(clock))["phase"] == "confirm"
    clock.advance(0.275)  # the middle of the second blink (0.55 + 0.175)
    assert controller.tick(read(clock)).frame.intensity == pytest.approx(0.6)


def test_a_confirm_seen_only_after_its_end_still_plays_its_sound():
    """A late first frame (a busy Pi): the blink is over, its sound still plays."""
    clock = FakeClock(NOON)
    controller = Controller(Config(), reminders_enabled=True)
    controller.set_reminders(False, read(clock))
    clock.advance(1.0)
    tick = controller.tick(read(clock))
    assert (tick.phase, tick.breath, tick.cues) == ("idle", 0, ["confirm-off"])


def test_a_waiting_blink_follows_the_session_that_replaced_its_own():
    controller, clock = started()
    controller.set_reminders(False, read(clock), keep_session=True)  # blink after the session
    controller.handle("press", read(clock))  # cancel...
    controller.tick(read(clock))
    controller.handle("press", read(clock))  # ...and a new session while it fades
    assert controller.sessions_started == 2
    ticks = run(controller, clock, 36.0)
    cues = [c for t in ticks for c in t.cues]
    assert cues[-2:] == ["end", "confirm-off"]
    assert controller.session_view(read(clock)) is None
