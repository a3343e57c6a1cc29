"""What reaches the ring: the frames byte for byte, the idle loop's pace, write errors retried."""

from __future__ import annotations

import logging

import pytest
from testkit.service_loop import (
    control,
    make_service,
    run_for,
)

from breathring.config import Config
from breathring.hw.ring import channel_offsets
from breathring.simulate import SimOptions, parse_at, simulate


def rgb_from_wire(wire: bytes, order: str) -> bytes:
    offsets = channel_offsets(order)
    width = len(order)
    out = bytearray()
    for i in range(0, len(wire), width):
        out += bytes(wire[i + offsets[c]] for c in range(3))
    return bytes(out)


@pytest.mark.parametrize("order", ["GRB", "RGB", "BRG", "GRBW"])
def test_session_on_mock_ring_matches_simulate_byte_for_byte(order):
    service, clock, hw = make_service(order=order)
    hw.button.down()
    run_for(service, clock, 0.1)
    hw.button.up()
    run_for(service, clock, 40)
    frames = [rgb_from_wire(f, order) for f in hw.ring.frames[1:]]  # [0]: cleared at start
    expected = [r.wire for _, r in simulate(Config(), SimOptions(seconds=40, at=parse_at("12:10")))]
    assert len(frames) == len(expected) > 3000
    assert frames == expected
    assert hw.ring.lit == 0


def test_idle_loop_sleeps_until_the_next_deadline():
    service, clock, hw = make_service(at="12:10")
    idle_steps = 0
    start = clock.monotonic()
    while clock.monotonic() - start < 3600:
        was_active = service.engine.active
        service.step()
        idle_steps += not (was_active or service.engine.active)
    # Idle: one wake a minute at most (to notice wall-clock jumps and sync), and one 5 s after
    # the start to close the sound device.
    assert idle_steps <= 62
    assert hw.ring.writes > 1000  # the 13:00 pulse was drawn at the frame rate


def test_ring_write_errors_are_retried_and_logged_rate_limited(caplog):
    service, clock, hw = make_service()
    hw.ring.fail_every = 7
    caplog.set_level(logging.ERROR, "breathring.service")
    hw.button.press()
    run_for(service, clock, 40)
    assert hw.ring.lit == 0  # ended dark despite the failures
    errors = [r for r in caplog.records if "ring failed" in r.getMessage()]
    assert 1 <= len(errors) <= 3


def test_dark_frame_retried_after_a_failure_while_idle():
    service, clock, hw = make_service()
    hw.button.press()
    run_for(service, clock, 34)
    hw.ring.fail_next(3)
    run_for(service, clock, 10)
    assert hw.ring.lit == 0 and hw.ring.last == [(0, 0, 0)] * 24


def test_ring_write_errors_are_logged_without_a_traceback(caplog):
    service, clock, hw = make_service()
    hw.ring.fail_next(1)
    caplog.set_level(logging.ERROR, "breathring.service")
    hw.button.press()
    run_for(service, clock, 1)
    records = [r for r in caplog.records if "ring failed" in r.getMessage()]
    assert len(records) == 1 and records[0].exc_info is None
    assert "injected ring write failure" in records[0].getMessage()


def test_status_counts_frames_sent_and_late_and_the_light_of_the_last_frame(caplog):
    caplog.set_level(logging.INFO, logger="breathring.service")
    service, clock, hw = make_service()
    status = control(service, cmd="status")
    assert status["frames_sent"] == 0 and status["late_frames_pct"] is None
    assert status["light"] == 0  # the dark frame sent at start
    hw.button.press()
    run_for(service, clock, 5)
    status = control(service, cmd="status")
    assert status["light"] > 0 and status["frames_late"] == 0
    # The loop wakes 25 ms late for a few frames (a busy CPU): each of those is late.
    for _ in range(4):
        clock.advance(0.025)
        service.step()
    run_for(service, clock, 40)
    status = control(service, cmd="status")
    assert status["state"] == "idle" and status["light"] == 0
    assert status["frames_late"] == 4
    assert 3000 < status["frames_sent"] < 4000
    assert status["late_frames_pct"] == round(400 / status["frames_sent"], 2)
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("frames:")]
    assert len(lines) == 1 and ", 4 late (0.1 %) at 100 fps" in lines[0]
