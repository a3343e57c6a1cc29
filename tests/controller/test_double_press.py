"""The double press: the long session, from idle or during a session, the same either way."""

from __future__ import annotations

import pytest
from testkit.frames import (
    FPS,
    NOON,
    run,
    session_span,
    simulate_frames,
    started,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller

#: The lead-in lasts 2 s (written down, not imported).
LEAD_IN_S = 2.0


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


def test_lead_in_is_longer_than_the_double_press_window():
    assert Config().button.double_seconds < LEAD_IN_S


#: Lead-in and closing of every session, in seconds (the documented timeline).
LEAD_IN = 2.0


CLOSING = 2.5


#: wind-down breathes for 8 minutes, slowing to 6 breaths a minute (10 s a breath).
WIND_DOWN_S = 8 * 60.0


SLOWEST_BREATH_S = 10.0


def test_double_press_from_idle_runs_the_long_patterns_natural_length(capsys, tmp_path):
    config = '[session]\nlong_pattern = "wind-down"\n[reminder]\nenabled = false\n'
    frames = simulate_frames(
        capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "700"
    )
    start, end, breaths = session_span(frames)
    breathing = end - start - LEAD_IN - CLOSING
    assert WIND_DOWN_S <= breathing <= WIND_DOWN_S + SLOWEST_BREATH_S + 0.1
    # It reaches six breaths a minute: the last breath lasts about ten seconds.
    inhales = [r["t"] for r in frames if "inhale" in r["cues"]]
    assert inhales[-1] - inhales[-2] == pytest.approx(SLOWEST_BREATH_S, abs=0.3)
    assert breaths > 60


def test_double_press_during_a_session_gives_the_same_session(capsys, tmp_path):
    config = '[session]\nlong_pattern = "wind-down"\n[reminder]\nenabled = false\n'
    idle = simulate_frames(capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "700")
    later = simulate_frames(
        capsys, tmp_path, config, "--press", "0", "--double", "20", "--seconds", "720"
    )
    a_start, a_end, a_breaths = session_span(idle)
    b_start = next(r["t"] for r in later if r["t"] >= 20 and r["phase"] == "lead-in")
    b_end = next(r["t"] for r in later if r["t"] > b_start and r["phase"] == "idle")
    b_breaths = max(r["breath"] for r in later if b_start <= r["t"] < b_end)
    assert b_breaths == a_breaths
    assert b_end - b_start == pytest.approx(a_end - a_start, abs=2 / FPS)


def test_double_press_with_a_fixed_long_pattern_uses_long_breaths(capsys, tmp_path):
    config = '[session]\nlong_pattern = "box"\nlong_breaths = 4\n[reminder]\nenabled = false\n'
    frames = simulate_frames(
        capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "200"
    )
    start, end, breaths = session_span(frames)
    assert breaths == 4
    assert end - start == pytest.approx(LEAD_IN + 4 * 16.0 + CLOSING, abs=2 / FPS)


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
