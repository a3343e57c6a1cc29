"""A `follow` session on the controller: the rate it starts with, and what it does without one.

The controller keeps the latest measured breathing rate; a session takes the fresh one
when it starts and keeps it (a `follow` session paces from it, the history records it).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import pytest
from testkit.frames import NOON, UPTIME

from breathring.breath_rate import BreathReading
from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller
from breathring.session import LEAD_IN_S

FOLLOW = replace(Config(), session=replace(Config().session, pattern="follow"))


def with_follow(**changes: float) -> Config:
    return replace(FOLLOW, session=replace(FOLLOW.session, **changes))


def with_stale(seconds: float) -> Config:
    return replace(FOLLOW, breath_sensor=replace(FOLLOW.breath_sensor, stale_seconds=seconds))


def breath_lengths(controller: Controller, clock: FakeClock) -> list[float]:
    """The lengths of the running session's breaths, from its timeline."""
    status = controller.status(read(clock))
    assert status["pattern"] == "follow"
    activity = controller._activity
    assert activity is not None
    starts: dict[int, float] = {}
    for segment in activity.timeline.segments:  # type: ignore[union-attr]
        if segment.phase == "inhale":
            starts.setdefault(segment.breath, segment.start)
    ordered = [starts[k] for k in sorted(starts)]
    return [round(b - a, 3) for a, b in itertools.pairwise(ordered)]


def measured(controller: Controller, per_min: float, at: float) -> None:
    assert controller.breath_reading(BreathReading(per_min, at, "simulated"))


def test_a_follow_session_starts_at_the_fresh_rate() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(FOLLOW)
    measured(controller, 15.0, UPTIME - 10.0)
    controller.handle("press", read(clock))
    assert breath_lengths(controller, clock)[:3] == [4.0, 4.2, 4.41]
    assert controller.session_view(read(clock)).rate_start == 15.0  # type: ignore[union-attr]


def test_without_a_reading_it_runs_the_coherent_pace_for_its_minutes() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(with_follow(follow_minutes=3.0))
    controller.handle("press", read(clock))
    lengths = breath_lengths(controller, clock)
    assert set(lengths) == {11.0} and len(lengths) == 16 - 1  # 16 breaths: 176 s
    assert controller.status(read(clock))["breaths"] == 16
    assert controller.session_view(read(clock)).rate_start is None  # type: ignore[union-attr]


def test_a_stale_reading_is_no_reading() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(with_stale(20.0))
    measured(controller, 15.0, UPTIME - 20.5)
    assert controller.status(read(clock))["breath_rate"] is None
    controller.handle("press", read(clock))
    assert set(breath_lengths(controller, clock)) == {11.0}


def test_the_rate_is_shown_while_fresh() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(with_stale(20.0))
    measured(controller, 13.46, UPTIME - 3.0)
    assert controller.status(read(clock))["breath_rate"] == {
        "per_min": 13.5,
        "age_s": 3.0,
        "source": "simulated",
    }
    clock.advance(17.0)
    assert controller.status(read(clock))["breath_rate"]["age_s"] == 20.0  # type: ignore[index]
    clock.advance(0.1)
    assert controller.status(read(clock))["breath_rate"] is None


def test_the_session_keeps_the_rate_it_started_with() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(FOLLOW)
    measured(controller, 15.0, UPTIME)
    controller.handle("press", read(clock))
    before = breath_lengths(controller, clock)
    clock.advance(1.0)
    measured(controller, 8.0, UPTIME + 1.0)
    controller.tick(read(clock))
    assert breath_lengths(controller, clock) == before
    assert controller.session_view(read(clock)).rate_start == 15.0  # type: ignore[union-attr]


def test_the_target_and_length_come_from_the_config() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(with_follow(follow_target=5.0, follow_minutes=10.0))
    measured(controller, 12.0, UPTIME)
    controller.handle("press", read(clock))
    lengths = breath_lengths(controller, clock)
    assert lengths[0] == 5.0 and lengths[-1] == 12.0
    # The breaths between the first and the last inhale, and the last breath (12 s): ~10 min.
    assert sum(lengths) + 12.0 == pytest.approx(600.0, abs=6.0)


def test_a_double_press_in_the_lead_in_paces_the_long_follow_from_the_same_rate() -> None:
    cfg = replace(Config(), session=replace(Config().session, long_pattern="follow"))
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(cfg)
    measured(controller, 15.0, UPTIME)
    controller.handle("press", read(clock))
    clock.advance(LEAD_IN_S / 2)
    measured(controller, 9.0, UPTIME + LEAD_IN_S / 2)
    controller.handle("double", read(clock))
    assert breath_lengths(controller, clock)[:2] == [4.0, 4.2]


def test_other_patterns_record_the_rate_too_and_pace_as_always() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(Config())
    measured(controller, 15.0, UPTIME)
    controller.handle("press", read(clock))
    view = controller.session_view(read(clock))
    assert view is not None and (view.pattern, view.breaths, view.rate_start) == (
        "three-breath",
        3,
        15.0,
    )


def test_implausible_and_older_readings_are_not_kept() -> None:
    controller = Controller(FOLLOW)
    assert not controller.breath_reading(BreathReading(1.5, UPTIME, "simulated"))
    assert not controller.breath_reading(BreathReading(float("nan"), UPTIME, "simulated"))
    assert controller.breath_reading(BreathReading(12.0, UPTIME, "simulated"))
    assert not controller.breath_reading(BreathReading(13.0, UPTIME - 1.0, "simulated"))
    clock = FakeClock(NOON, UPTIME)
    assert controller.status(read(clock))["breath_rate"]["per_min"] == 12.0  # type: ignore[index]


def test_a_reload_changes_when_a_reading_goes_stale() -> None:
    clock = FakeClock(NOON, UPTIME)
    controller = Controller(FOLLOW)
    measured(controller, 12.0, UPTIME - 25.0)
    assert controller.status(read(clock))["breath_rate"] is not None
    controller.reconfigure(with_stale(10.0))
    assert controller.status(read(clock))["breath_rate"] is None
