"""When the `start` cue plays: on the first frame, on a release, never before a hold's blink."""

from __future__ import annotations

from testkit.frames import (
    NOON,
    UPTIME,
    run,
    simulate_frames,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller


def test_a_hold_from_idle_never_plays_start(capsys, tmp_path):
    frames = simulate_frames(capsys, tmp_path, "", "--idle", "--hold", "1", "--seconds", "10")
    cues = [c for r in frames for c in r["cues"]]
    assert "start" not in cues and "end" not in cues
    assert cues == ["confirm-off"]


def test_a_button_press_plays_start_on_release():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("press", read(clock), held=True)
    first = controller.tick(read(clock))
    assert first.phase == "lead-in" and first.frame.intensity > 0  # lit at once
    assert first.cues == []
    clock.advance(0.15)
    controller.release(read(clock))
    assert controller.tick(read(clock)).cues == ["start"]


def test_a_press_not_from_the_button_plays_start_at_once(capsys, tmp_path):
    frames = simulate_frames(capsys, tmp_path, "", "--seconds", "3")
    assert frames[0]["cues"] == ["start"] and frames[0]["t"] == 0.0


def test_a_plain_press_plays_start_with_its_first_frame():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.press(read(clock))  # not from the button: nothing is held
    assert controller.tick(read(clock)).cues == ["start"]


def test_a_held_press_released_exactly_at_the_end_of_the_lead_in_plays_no_start():
    clock = FakeClock(NOON)
    controller = Controller(Config())
    controller.handle("press", read(clock), held=True)
    controller.tick(read(clock))
    clock.advance(2.0)
    controller.release(read(clock))
    assert controller.tick(read(clock)).cues == ["inhale"]


def test_a_held_press_released_late_plays_no_start():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.handle("press", read(clock), held=True)
    controller.tick(read(clock))
    clock.advance(1.0)
    controller.release(read(clock))
    assert controller.tick(read(clock)).cues == ["start"]
    controller.handle("press", read(clock), held=True)  # cancels it...
    controller.tick(read(clock))
    controller.handle("press", read(clock), held=True)  # ...and starts a new one
    controller.tick(read(clock))
    clock.advance(3.0)
    controller.release(read(clock))
    assert controller.tick(read(clock)).cues == ["inhale"]  # the lead-in is over: no start


def test_a_session_stopped_while_the_button_is_down_plays_nothing_on_release():
    """Never `end` without its `start`, and no `start` once it fades."""
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.handle("press", read(clock), held=True)
    assert controller.tick(read(clock)).cues == []
    clock.advance(0.2)
    controller.stop(read(clock))  # e.g. a remote stop
    assert controller.tick(read(clock)).cues == []
    controller.release(read(clock))
    assert [c for t in run(controller, clock, 1.0) for c in t.cues] == []
