"""A new controller, and reconfigure: ring size, start pixel and brightness while running."""

from __future__ import annotations

from dataclasses import replace

import pytest
from testkit.frames import (
    NIGHT,
    NOON,
    UPTIME,
    started,
    with_ring,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller


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
