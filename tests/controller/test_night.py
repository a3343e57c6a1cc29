"""Night: quiet hours to the second, the dim warm look and the night volume."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from testkit.frames import (
    NIGHT,
    NOON,
    UTC,
    started,
)

from breathring.clock import FakeClock, read
from breathring.config import Config
from breathring.controller import Controller


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


BEFORE_DAWN = datetime(2026, 1, 15, 6, 59, 50, tzinfo=UTC)  # night ends at 07:00


def test_a_session_started_at_night_stays_night_after_dawn():
    controller, clock = started(at=BEFORE_DAWN)
    clock.advance(20.0)  # 07:00:10: day, but the session keeps its look
    assert controller.is_night(read(clock)) is False
    assert controller.status(read(clock))["night"] is True
    cfg = Config()
    night_red = cfg.night.brightness * cfg.night.color[0] / 255
    assert controller.tick(read(clock)).frame.color[0] == pytest.approx(night_red)


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
