"""Behaviour found by the outside review (issue 10): the same gesture gives the same
session, the pulse glows as long as `reminder.seconds` says, a reminders toggle never cuts
a session, and a hold never plays `start` before its confirm blink.

Every expected number is written down here, never imported from the code under test.
"""

from __future__ import annotations

import json
from datetime import datetime
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from breathring.cli import main
from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
FPS = 50
#: Lead-in and closing of every session, in seconds (the documented timeline).
LEAD_IN = 2.0
CLOSING = 2.5
#: wind-down breathes for 8 minutes, slowing to 6 breaths a minute (10 s a breath).
WIND_DOWN_S = 8 * 60.0
SLOWEST_BREATH_S = 10.0


def simulate(capsys, tmp_path, config: str, *args: str) -> list[dict]:
    path = tmp_path / "config.toml"
    path.write_text(config)
    assert main(["simulate", "--config", str(path), *args]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()][1:]


def session_span(frames: list[dict]) -> tuple[float, float, int]:
    """(first lead-in t, first idle t after it, breaths) of the first session."""
    start = next(r["t"] for r in frames if r["phase"] == "lead-in")
    end = next(r["t"] for r in frames if r["phase"] == "idle" and r["t"] > start)
    breaths = max(r["breath"] for r in frames if start <= r["t"] < end)
    return start, end, breaths


# ---------------------------------------------------------------- bug 2: double press


def test_double_press_from_idle_runs_the_long_patterns_natural_length(capsys, tmp_path):
    config = '[session]\nlong_pattern = "wind-down"\n[reminder]\nenabled = false\n'
    frames = simulate(capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "700")
    start, end, breaths = session_span(frames)
    breathing = end - start - LEAD_IN - CLOSING
    assert WIND_DOWN_S <= breathing <= WIND_DOWN_S + SLOWEST_BREATH_S + 0.1
    # It reaches six breaths a minute: the last breath lasts about ten seconds.
    inhales = [r["t"] for r in frames if "inhale" in r["cues"]]
    assert inhales[-1] - inhales[-2] == pytest.approx(SLOWEST_BREATH_S, abs=0.3)
    assert breaths > 60


def test_double_press_during_a_session_gives_the_same_session(capsys, tmp_path):
    config = '[session]\nlong_pattern = "wind-down"\n[reminder]\nenabled = false\n'
    idle = simulate(capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "700")
    later = simulate(capsys, tmp_path, config, "--press", "0", "--double", "20", "--seconds", "720")
    a_start, a_end, a_breaths = session_span(idle)
    b_start = next(r["t"] for r in later if r["t"] >= 20 and r["phase"] == "lead-in")
    b_end = next(r["t"] for r in later if r["t"] > b_start and r["phase"] == "idle")
    b_breaths = max(r["breath"] for r in later if b_start <= r["t"] < b_end)
    assert b_breaths == a_breaths
    assert b_end - b_start == pytest.approx(a_end - a_start, abs=2 / FPS)


def test_double_press_with_a_fixed_long_pattern_uses_long_breaths(capsys, tmp_path):
    config = '[session]\nlong_pattern = "box"\nlong_breaths = 4\n[reminder]\nenabled = false\n'
    frames = simulate(capsys, tmp_path, config, "--idle", "--double", "0", "--seconds", "200")
    start, end, breaths = session_span(frames)
    assert breaths == 4
    assert end - start == pytest.approx(LEAD_IN + 4 * 16.0 + CLOSING, abs=2 / FPS)


# ------------------------------------------------------------ bug 3: reminder.seconds


def pulse_runs(frames: list[dict]) -> list[tuple[float, float, float, float]]:
    """Per pulse: (shown at, phase back to idle at, first lit t, last lit t)."""
    runs = []
    shown = None
    lit: list[float] = []
    for record in frames:
        if "pulse-shown" in record.get("events", []):
            shown, lit = record["t"], []
        if shown is None:
            continue
        if record["phase"] == "pulse" and any(v for px in record["rgb"] for v in px):
            lit.append(record["t"])
        elif record["phase"] == "idle":
            runs.append((shown, record["t"], lit[0], lit[-1]))
            shown = None
    return runs


@pytest.mark.parametrize("seconds", [30, 50, 55, 59])
def test_a_pulse_glows_for_reminder_seconds_and_no_slot_is_lost(capsys, tmp_path, seconds):
    config = (
        f"[ring]\nfps = {FPS}\n[reminder]\nevery_minutes = 1\nseconds = {seconds}\n"
        'active_hours = "00:00-24:00"\n'
    )
    frames = simulate(capsys, tmp_path, config, "--idle", "--seconds", "3600")
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
    frames = simulate(capsys, tmp_path, f"[ring]\nfps = {FPS}\n", "--idle", "--at", "12:59:50")
    ((start, end, _first, _last),) = pulse_runs(frames)
    assert start == pytest.approx(10.0, abs=2 / FPS)
    assert end - start == pytest.approx(30.0, abs=2 / FPS)


# ------------------------------------------------- bug 11: reminders off during a session


def ticks_until_idle(controller: Controller, clock: FakeClock, limit_s: float = 10.0):
    ticks = []
    for _ in range(round(limit_s * FPS)):
        clock.advance(1 / FPS)
        tick = controller.tick(read(clock))
        ticks.append(tick)
        if not controller.active:
            break
    return ticks


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


# ---------------------------------------------- bug 13: no `start` before a hold's blink


def test_a_hold_from_idle_never_plays_start(capsys, tmp_path):
    frames = simulate(capsys, tmp_path, "", "--idle", "--hold", "1", "--seconds", "10")
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
    frames = simulate(capsys, tmp_path, "", "--seconds", "3")
    assert frames[0]["cues"] == ["start"] and frames[0]["t"] == 0.0
