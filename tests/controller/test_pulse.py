"""The reminder pulse: how it glows, for how long (`reminder.seconds`), and how it ends."""

from __future__ import annotations

from dataclasses import replace
from itertools import pairwise

import pytest
from testkit.frames import (
    FPS,
    NOON,
    UPTIME,
    pulse_runs,
    run,
    simulate_frames,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import PULSE, Controller, PulseGlow


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


@pytest.mark.parametrize("seconds", [30, 50, 55, 59])
def test_a_pulse_glows_for_reminder_seconds_and_no_slot_is_lost(capsys, tmp_path, seconds):
    config = (
        f"[ring]\nfps = {FPS}\n[reminder]\nevery_minutes = 1\nseconds = {seconds}\n"
        'active_hours = "00:00-24:00"\n'
    )
    frames = simulate_frames(capsys, tmp_path, config, "--idle", "--seconds", "3600")
    shown = [r["t"] for r in frames if "pulse-shown" in r.get("events", [])]
    # Slots at 12:00, 12:01, ... 13:00: sixty-one in a virtual hour, one every minute.
    assert len(shown) == 61
    assert [round(b - a, 6) for a, b in pairwise(shown)] == [60.0] * 60
    runs = pulse_runs(frames)
    assert len(runs) == 60  # the one at 13:00 has not finished when the hour ends
    for start, end, first_lit, last_lit in runs:
        assert end - start == pytest.approx(seconds, abs=2 / FPS)
        # It glows over the whole of that time, not a shorter part of it.
        assert first_lit - start < 1.0 and end - last_lit < 1.0


def test_the_default_pulse_glows_thirty_seconds(capsys, tmp_path):
    frames = simulate_frames(
        capsys, tmp_path, f"[ring]\nfps = {FPS}\n", "--idle", "--at", "12:59:50"
    )
    ((start, end, _first, _last),) = pulse_runs(frames)
    assert start == pytest.approx(10.0, abs=2 / FPS)
    assert end - start == pytest.approx(30.0, abs=2 / FPS)


def test_a_pulse_of_25_s_is_two_breaths_stretched_by_a_quarter():
    """round(25 / 10) = 2 breaths, each 1.25 x (5 s in, 7.5 s out), dark at both ends."""
    glow = PulseGlow(25.0)
    assert glow.duration == 25.0
    segments = [
        (s.phase, s.breath, s.start, s.end, s.from_level, s.to_level) for s in glow.segments
    ]
    assert segments == [
        ("inhale", 1, 0.0, 5.0, 0.0, 1.0),
        ("exhale", 1, 5.0, 12.5, 1.0, 0.1),
        ("inhale", 2, 12.5, 17.5, 0.1, 1.0),
        ("exhale", 2, 17.5, 25.0, 1.0, 0.0),
    ]
    # Halfway through a smootherstep phase is halfway between its levels.
    assert glow.level(2.5) == pytest.approx(0.5)
    assert glow.level(5.0) == pytest.approx(1.0)
    assert glow.level(8.75) == pytest.approx(0.55)
    assert glow.level(12.5) == pytest.approx(0.1)
    assert glow.level(21.25) == pytest.approx(0.5)


def test_a_pulse_rises_from_dark_at_once_and_is_dark_outside_its_time():
    glow = PulseGlow(25.0)
    # 0.5 s into a 5-s inhale: x = 0.1, smootherstep(0.1) = 0.00856.
    assert glow.level(0.5) == pytest.approx(0.00856)
    assert glow.level(0.0) == 0.0
    assert glow.level(-0.5) == 0.0
    assert glow.level(25.0) == 0.0
    assert glow.level(30.0) == 0.0


def test_a_short_pulse_is_one_breath_and_three_breaths_fill_thirty_seconds():
    one = PulseGlow(10.0)
    assert [(s.phase, s.start, s.end, s.to_level) for s in one.segments] == [
        ("inhale", 0.0, 4.0, 1.0),
        ("exhale", 4.0, 10.0, 0.0),
    ]
    tiny = PulseGlow(0.5)  # less than a second is still a pulse: one breath, squeezed
    assert [(s.start, s.end) for s in tiny.segments] == [(0.0, 0.2), (0.2, 0.5)]
    three = PulseGlow(30.0)
    assert [s.breath for s in three.segments] == [1, 1, 2, 2, 3, 3]
    assert [s.to_level for s in three.segments] == [1.0, 0.1, 1.0, 0.1, 1.0, 0.0]


@pytest.mark.parametrize("seconds", [0.0, -1.0])
def test_a_pulse_needs_some_time(seconds):
    with pytest.raises(ValueError, match=f"a pulse must last more than 0 s, not {seconds}"):
        PulseGlow(seconds)


def test_the_pulse_ends_exactly_on_time_and_counts():
    cfg = Config()  # reminder.seconds = 30: three breaths of 4 s in, 6 s out
    clock = FakeClock(NOON)
    controller = Controller(replace(cfg, reminder=replace(cfg.reminder, sound=True)))
    assert controller.start_pulse(read(clock))
    assert controller.pulses_shown == 1
    first = controller.tick(read(clock))
    assert (first.phase, first.breath, first.cues, first.events) == (
        "pulse",
        0,
        ["reminder"],
        ["pulse-shown"],
    )
    clock.advance(10.0)  # the second breath starts from the resting glow
    assert controller.tick(read(clock)).frame.intensity == pytest.approx(0.45 * 0.1)
    clock.advance(4.0)  # its peak
    assert controller.tick(read(clock)).frame.intensity == pytest.approx(0.45)
    clock.advance(16.0)  # exactly 30 s
    last = controller.tick(read(clock))
    assert (last.phase, last.breath, last.frame.intensity) == ("idle", 0, 0.0)
    assert not controller.active
    idle = controller.tick(read(clock))
    assert (idle.phase, idle.breath, idle.cues, idle.events) == ("idle", 0, [], [])
    assert controller.start_pulse(read(clock))
    assert controller.pulses_shown == 2


def test_a_stopped_pulse_stays_active_only_until_its_dark_frame():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.start_pulse(read(clock))
    clock.advance(4.0)  # the glow's peak: lit
    assert controller.tick(read(clock)).frame.intensity == pytest.approx(0.45)
    controller.stop(read(clock))
    assert controller.active is True  # the ring still shows the last frame
    assert controller.tick(read(clock)).frame.intensity == 0.0
    assert controller.active is False


def test_a_pulse_stopped_on_its_first_dark_frame_needs_no_more_frames():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.start_pulse(read(clock))
    assert controller.tick(read(clock)).frame.intensity == 0.0  # it rises from dark
    controller.stop(read(clock))
    assert controller.active is False
