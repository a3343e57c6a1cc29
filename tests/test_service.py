"""The service loop in virtual time: mock hardware, FakeClock, no sleeping."""

from __future__ import annotations

import json
import logging
import queue
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from testkit.mock_hw import RecordingAudio, make_bench
from testkit.service_loop import run_for

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.control_socket import ControlRequest, Request
from breathring.hw.ring import channel_offsets
from breathring.service import Service
from breathring.simulate import SimOptions, parse_at, simulate
from breathring.state import StateStore

UTC = ZoneInfo("UTC")


def make(cfg: Config | None = None, at="12:10", order="GRB", tmp_path=None, synced=True):
    cfg = cfg or Config()
    h, m = map(int, at.split(":"))
    clock = FakeClock(datetime(2026, 1, 15, h, m, tzinfo=UTC), synced=synced)
    hw = make_bench(cfg, clock, order=order)

    def wait(timeout: float):
        try:
            return hw.events.get_nowait()
        except queue.Empty:
            clock.advance(timeout)
            return None

    store = StateStore(Path(tmp_path)) if tmp_path else None
    service = Service(cfg, hw.hardware, clock, state=store, wait=wait)
    service.start()
    return service, clock, hw


def rgb_from_wire(wire: bytes, order: str) -> bytes:
    offsets = channel_offsets(order)
    width = len(order)
    out = bytearray()
    for i in range(0, len(wire), width):
        out += bytes(wire[i + offsets[c]] for c in range(3))
    return bytes(out)


@pytest.mark.parametrize("order", ["GRB", "RGB", "BRG", "GRBW"])
def test_session_on_mock_ring_matches_simulate_byte_for_byte(order):
    service, clock, hw = make(order=order)
    hw.button.down()
    run_for(service, clock, 0.1)
    hw.button.up()
    run_for(service, clock, 40)
    frames = [rgb_from_wire(f, order) for f in hw.ring.frames[1:]]  # [0]: cleared at start
    expected = [r.wire for _, r in simulate(Config(), SimOptions(seconds=40, at=parse_at("12:10")))]
    assert len(frames) == len(expected) > 3000
    assert frames == expected
    assert hw.ring.lit == 0


def test_cues_play_on_their_phase_with_the_right_volume():
    service, clock, hw = make()
    hw.button.press()
    run_for(service, clock, 40)
    cues = [c for c, _, _ in hw.audio.played]
    assert cues == ["start", "inhale", "exhale", "inhale", "exhale", "inhale", "exhale", "end"]
    times = [t for _, t, _ in hw.audio.played]
    assert times[1] - times[0] == pytest.approx(2.0, abs=0.011)
    assert {v for _, _, v in hw.audio.played} == {Config().audio.volume}


def test_idle_loop_sleeps_until_the_next_deadline():
    service, clock, hw = make(at="12:10")
    idle_steps = 0
    start = clock.monotonic()
    while clock.monotonic() - start < 3600:
        was_active = service.engine.active
        service.step()
        idle_steps += not (was_active or service.engine.active)
    # Idle: one wake a minute at most (to notice wall-clock jumps and sync).
    assert idle_steps <= 61
    assert hw.ring.writes > 1000  # the 13:00 pulse was drawn at the frame rate


def test_hourly_pulses_over_a_day_and_hold_turns_them_off(tmp_path):
    service, clock, hw = make(at="07:30", tmp_path=tmp_path)
    starts = []
    was = False
    start = clock.monotonic()
    while clock.monotonic() - start < 15 * 3600:
        service.step()
        now_pulse = service.engine.controller.state == "pulse"
        if now_pulse and not was:
            starts.append(clock.wall().strftime("%H:%M"))
        was = now_pulse
    assert starts == [f"{h:02d}:00" for h in range(8, 22)]
    hw.button.down()
    run_for(service, clock, 2.5)
    hw.button.up()
    run_for(service, clock, 3)
    assert service.engine.controller.reminders_enabled is False
    saved = json.loads((tmp_path / "state.json").read_text())
    assert saved["reminders_enabled"] is False
    assert [c for c, _, _ in hw.audio.played][-1] == "confirm-off"


def test_no_pulse_until_the_clock_is_synchronised():
    service, clock, hw = make(at="09:50", synced=False)
    run_for(service, clock, 1800)
    assert hw.ring.writes == 1  # only the clear at start
    clock.set_synced(True)  # at 10:20: the 10:00 slot is too late to show
    run_for(service, clock, 600)
    assert hw.ring.writes == 1
    run_for(service, clock, 1900)  # to 11:00 and past
    assert hw.ring.writes > 1000


def test_ring_write_errors_are_retried_and_logged_rate_limited(caplog):
    service, clock, hw = make()
    hw.ring.fail_every = 7
    caplog.set_level(logging.ERROR, "breathring.service")
    hw.button.press()
    run_for(service, clock, 40)
    assert hw.ring.lit == 0  # ended dark despite the failures
    errors = [r for r in caplog.records if "ring failed" in r.getMessage()]
    assert 1 <= len(errors) <= 3


def test_dark_frame_retried_after_a_failure_while_idle():
    service, clock, hw = make()
    hw.button.press()
    run_for(service, clock, 34)
    hw.ring.fail_next(3)
    run_for(service, clock, 10)
    assert hw.ring.lit == 0 and hw.ring.last == [(0, 0, 0)] * 24


def control(service: Service, **fields) -> dict:
    replies = []
    request = Request(fields.pop("cmd"), fields.get("pattern"), fields.get("value"))
    service.inbox.put(ControlRequest(request, replies.append))
    service.step()
    return replies[0]


def test_control_requests():
    service, clock, _hw = make()
    reply = control(service, cmd="start", pattern="box")
    assert reply["ok"] and reply["pattern"] == "box" and reply["state"] == "session"
    reply = control(service, cmd="status")
    assert reply["phase"] == "lead-in"
    reply = control(service, cmd="stop")
    run_for(service, clock, 2)
    assert control(service, cmd="status")["state"] == "idle"
    reply = control(service, cmd="reminders", value="off")
    assert reply["reminders"] is False and reply["next_pulse"] is None
    assert control(service, cmd="press")["state"] == "session"


def test_reload_keeps_old_config_when_the_new_one_is_bad(tmp_path, caplog):
    path = tmp_path / "config.toml"
    path.write_text("[ring]\nbrightness = 0.3\n")
    cfg = parse_config(path.read_text())
    service, _clock, _hw = make(cfg)
    service.config_path = path
    path.write_text("[ring]\nbrightness = 3\n")
    assert service.reload() is False
    assert service.cfg.ring.brightness == 0.3
    assert "keeping the old configuration" in caplog.text
    path.write_text("[ring]\nbrightness = 0.4\npixels = 60\n")
    assert service.reload() is True
    assert service.cfg.ring.brightness == 0.4
    assert service.cfg.ring.pixels == 24  # needs a restart
    assert "ring.pixels take effect after a restart" in caplog.text


def test_stop_fades_out_and_ends_dark():
    import signal

    service, clock, hw = make()
    hw.button.press()
    run_for(service, clock, 5)
    assert hw.ring.lit > 0
    service.request_stop(signal.SIGTERM)
    start = clock.monotonic()
    while not service.step():
        pass
    assert clock.monotonic() - start < 0.7
    service.close()
    assert hw.ring.lit == 0 and hw.ring.closed


def test_start_custom_is_refused_unless_configured():
    service, _clock, _hw = make()
    reply = control(service, cmd="start", pattern="custom")
    assert reply["ok"] is False and 'session.pattern = "custom"' in reply["error"]
    assert service.engine.controller.state == "idle"
    cfg = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\n')
    service, _clock, _hw = make(cfg)
    reply = control(service, cmd="start", pattern="custom")
    assert reply["ok"] and reply["pattern"] == "custom"


class GuideAudio(RecordingAudio):
    """RecordingAudio that also records which guide tones were prepared ahead."""

    def __init__(self, clock):
        super().__init__(clock)
        self.prepared: list[tuple[str, float]] = []

    def prepare_guide(self, kind: str, seconds: float) -> None:
        self.prepared.append((kind, round(seconds, 6)))


def test_guide_tones_play_per_phase_and_are_prepared_ahead():
    cfg = parse_config('[audio]\nguide_tone = true\n[session]\npattern = "box"\nbreaths = 1\n')
    service, clock, hw = make(cfg)
    hw.audio = hw.hardware.audio = GuideAudio(clock)
    hw.button.press()
    run_for(service, clock, 25)
    guides = [(c, round(s, 6)) for c, _, s in hw.audio.played if c.startswith("guide:")]
    assert guides == [
        ("guide:inhale", 4.0),
        ("guide:hold", 4.0),
        ("guide:exhale", 4.0),
        ("guide:hold", 4.0),
    ]
    # Each tone was prepared before its phase started.
    assert hw.audio.prepared[:2] == [("inhale", 4.0), ("hold", 4.0)]
    assert set(hw.audio.prepared) == {("inhale", 4.0), ("hold", 4.0), ("exhale", 4.0)}


def test_ring_write_errors_are_logged_without_a_traceback(caplog):
    service, clock, hw = make()
    hw.ring.fail_next(1)
    caplog.set_level(logging.ERROR, "breathring.service")
    hw.button.press()
    run_for(service, clock, 1)
    records = [r for r in caplog.records if "ring failed" in r.getMessage()]
    assert len(records) == 1 and records[0].exc_info is None
    assert "injected ring write failure" in records[0].getMessage()


def test_an_unsynchronised_clock_is_said_in_status_and_logged_once(caplog):
    caplog.set_level(logging.INFO, "breathring.service")
    service, clock, hw = make(at="09:50", synced=False)
    run_for(service, clock, 1800)  # 10:00 passes: no pulse, and why is said
    assert hw.ring.writes == 1  # only the clear at start
    status = control(service, cmd="status")
    assert status["clock_synchronized"] is False and status["clock_trusted"] is False
    assert status["clock_reason"] == (
        "no network time yet and no RTC; the time is what fake-hwclock (if any) restored; "
        "hourly pulses wait until it is synchronised: connect the network, or set "
        'reminder.trust_clock = "always" to trust the restored time'
    )
    lines = [r.getMessage() for r in caplog.records if "clock" in r.getMessage()]
    assert len(lines) == 1 and lines[0].startswith("the clock is not synchronised: no network")
    assert [r.levelname for r in caplog.records if "clock" in r.getMessage()] == ["WARNING"]
    clock.set_synced(True)
    run_for(service, clock, 60)
    lines = [r.getMessage() for r in caplog.records if "clock" in r.getMessage()]
    assert lines[1:] == ["the clock is synchronised; hourly pulses follow it"]
    status = control(service, cmd="status")
    assert status["clock_synchronized"] is True and status["clock_reason"] is None


def test_trust_clock_always_pulses_on_the_restored_time():
    cfg = parse_config('[reminder]\ntrust_clock = "always"\n')
    service, clock, hw = make(cfg, at="09:50", synced=False)
    clock.rtc = True
    run_for(service, clock, 700)  # past 10:00
    assert hw.ring.writes > 1000  # the 10:00 pulse was drawn
    status = control(service, cmd="status")
    assert status["clock_synchronized"] is False and status["clock_trusted"] is True
    assert status["clock_reason"] == (
        'an RTC restored the time at boot; trusted (reminder.trust_clock = "always")'
    )


def test_status_counts_frames_sent_and_late_and_the_light_of_the_last_frame(caplog):
    caplog.set_level(logging.INFO, logger="breathring.service")
    service, clock, hw = make()
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
