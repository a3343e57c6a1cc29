"""The controller's edges, pinned with written-down values (found by mutation testing).

Every figure here is worked out by hand from the defaults: a lead-in of 2 s, three breaths
of in 4 s / out 6 s, a closing of 2.5 s (34.5 s in all); a cancel fades over 0.8 s; a blink
lasts 0.35 s with 0.2 s between blinks, at intensity 0.6; the hourly pulse peaks at 0.45,
breathes in 4 s / out 6 s and rests at 0.1 between breaths; night is 22:00-07:00.
Sessions start at a monotonic time far from 0 so that `now - start` is really a difference.
Boundaries are hit exactly with times that are exact in binary (0.35, 0.5, 2.0, 30.0).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from testkit.frames import run

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller, PulseGlow

UTC = ZoneInfo("UTC")
NOON = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)
BEFORE_DAWN = datetime(2026, 1, 15, 6, 59, 50, tzinfo=UTC)  # night ends at 07:00
NIGHT = datetime(2026, 1, 15, 23, 30, tzinfo=UTC)
#: A monotonic reading far from 0 (a Pi that has been up for a while).
UPTIME = 1000.0


def started(cfg: Config | None = None, at: datetime = NOON, mono: float = UPTIME):
    """A controller whose session started (and drew its first frame) at `at`."""
    clock = FakeClock(at, mono)
    controller = Controller(cfg or Config())
    controller.handle("press", read(clock))
    controller.tick(read(clock))
    return controller, clock


def with_ring(cfg: Config, **changes: int) -> Config:
    return replace(cfg, ring=replace(cfg.ring, **changes))


# --------------------------------------------------------------------------- the pulse's glow


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


# --------------------------------------------------------------------------- confirm blinks


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


# --------------------------------------------------------------------------- sessions


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


def test_a_plain_press_plays_start_with_its_first_frame():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    controller.press(read(clock))  # not from the button: nothing is held
    assert controller.tick(read(clock)).cues == ["start"]


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


def test_a_session_started_at_night_stays_night_after_dawn():
    controller, clock = started(at=BEFORE_DAWN)
    clock.advance(20.0)  # 07:00:10: day, but the session keeps its look
    assert controller.is_night(read(clock)) is False
    assert controller.status(read(clock))["night"] is True
    cfg = Config()
    night_red = cfg.night.brightness * cfg.night.color[0] / 255
    assert controller.tick(read(clock)).frame.color[0] == pytest.approx(night_red)


def test_a_cancelled_sessions_breaths_stay_frozen_after_the_cancel():
    controller, clock = started()
    clock.advance(11.9)  # the last moment of breath 1's exhale (it ends at 12 s)
    controller.handle("press", read(clock))
    clock.advance(0.5)  # past 12 s, where breath 2 would have begun
    view = controller.session_view(read(clock))
    assert view.cancelled and view.breaths_done == 0
    assert view.elapsed == pytest.approx(12.4)


# --------------------------------------------------------------------------- the held press


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


# --------------------------------------------------------------------------- double press


def test_a_double_press_inside_the_lead_in_says_session_long():
    controller, clock = started()
    clock.advance(1.0)
    controller.handle("double", read(clock))
    assert controller.tick(read(clock)).events == ["session-long"]
    assert controller.sessions_started == 1


def test_a_double_press_exactly_at_the_end_of_the_lead_in_starts_a_new_session():
    controller, clock = started(mono=0.0)
    clock.advance(2.0)
    controller.handle("double", read(clock))
    tick = controller.tick(read(clock))
    assert tick.events == ["session-started:coherent"]
    assert controller.sessions_started == 2
    assert controller.session_view(read(clock)).serial == 2


# --------------------------------------------------------------------------- stop


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


# --------------------------------------------------------------------------- construction


def test_a_new_controller_is_idle_and_counts_from_zero():
    controller = Controller(Config())
    assert controller.active is False
    assert (controller.sessions_started, controller.pulses_shown) == (0, 0)
    assert controller.reminders_enabled is True  # the default config's [reminder] enabled
    assert Controller(Config(), reminders_enabled=False).reminders_enabled is False
    off = replace(Config(), reminder=replace(Config().reminder, enabled=False))
    assert Controller(off).reminders_enabled is False
    assert Controller(off, reminders_enabled=True).reminders_enabled is True


def test_the_ring_size_and_start_pixel_shape_the_frames():
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(with_ring(Config(), pixels=12, start_pixel=3))
    controller.handle("press", read(clock))
    coverage = controller.tick(read(clock)).frame.coverage
    assert len(coverage) == 12
    assert coverage[3] == max(coverage) > 0.0 and coverage[9] == min(coverage)


# --------------------------------------------------------------------------- reconfigure


def test_a_new_ring_size_drops_the_running_session_and_renders_the_new_ring():
    controller, clock = started(with_ring(Config(), pixels=24))
    controller.reconfigure(with_ring(Config(), pixels=12))
    assert controller.state == "idle"
    tick = controller.tick(read(clock))
    assert len(tick.frame.coverage) == 12 and tick.phase == "idle"
    controller.handle("press", read(clock))
    assert len(controller.tick(read(clock)).frame.coverage) == 12


def test_a_new_start_pixel_moves_the_arc_and_keeps_the_session():
    controller, clock = started(with_ring(Config(), pixels=12, start_pixel=0))
    clock.advance(1.0)
    before = controller.tick(read(clock)).frame.coverage
    assert before[0] == max(before)
    controller.reconfigure(with_ring(Config(), pixels=12, start_pixel=6))
    assert controller.state == "session"
    after = controller.tick(read(clock)).frame.coverage
    assert len(after) == 12 and after[6] == max(after) and after[0] == min(after)


def test_a_new_brightness_keeps_a_night_session_night():
    controller, clock = started(at=NIGHT)
    cfg = Config()
    dimmer = replace(cfg, night=replace(cfg.night, brightness=cfg.night.brightness / 2))
    controller.reconfigure(dimmer)
    clock.advance(1.0)
    night_red = dimmer.night.brightness * dimmer.night.color[0] / 255
    assert controller.tick(read(clock)).frame.color[0] == pytest.approx(night_red)
    assert controller.status(read(clock))["night"] is True


# --------------------------------------------------------------------------- a waiting toggle


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


# --------------------------------------------------------------------------- day and night


@pytest.mark.parametrize(
    ("hour", "minute", "second", "night"),
    [
        (21, 59, 59, False),
        (22, 0, 0, True),
        (22, 30, 0, True),
        (6, 59, 30, True),
        (7, 0, 0, False),
        (7, 30, 0, False),
    ],
)
def test_night_is_from_22_00_to_07_00_to_the_second(hour, minute, second, night):
    at = datetime(2026, 1, 15, hour, minute, second, tzinfo=UTC)
    assert Controller(Config()).is_night(read(FakeClock(at))) is night


def test_a_day_session_plays_at_the_audio_volume_and_a_night_one_at_the_night_volume():
    cfg = Config()
    cfg = replace(cfg, audio=replace(cfg.audio, volume=0.7), night=replace(cfg.night, volume=0.2))
    day, _ = started(cfg)
    assert day.volume == 0.7
    night, _ = started(cfg, at=NIGHT)
    assert night.volume == 0.2
    assert Controller(cfg).volume == 0.7  # idle: the configured volume
