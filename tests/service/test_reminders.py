"""Reminders in the service: hourly pulses, the clock's trust, the hold and remote switches."""

from __future__ import annotations

import json
import logging

import pytest
from testkit.service_loop import (
    SESSION_S,
    control,
    make_service,
    make_service_with_settings,
    run_for,
)

from breathring.config import parse_config


def test_hourly_pulses_over_a_day_and_hold_turns_them_off(tmp_path):
    service, clock, hw = make_service(at="07:30", tmp_path=tmp_path)
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
    service, clock, hw = make_service(at="09:50", synced=False)
    run_for(service, clock, 1800)
    assert hw.ring.writes == 1  # only the clear at start
    clock.set_synced(True)  # at 10:20: the 10:00 slot is too late to show
    run_for(service, clock, 600)
    assert hw.ring.writes == 1
    run_for(service, clock, 1900)  # to 11:00 and past
    assert hw.ring.writes > 1000


def test_an_unsynchronised_clock_is_said_in_status_and_logged_once(caplog):
    caplog.set_level(logging.INFO, "breathring.service")
    service, clock, hw = make_service(at="09:50", synced=False)
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
    service, clock, hw = make_service(cfg, at="09:50", synced=False)
    clock.rtc = True
    run_for(service, clock, 700)  # past 10:00
    assert hw.ring.writes > 1000  # the 10:00 pulse was drawn
    status = control(service, cmd="status")
    assert status["clock_synchronized"] is False and status["clock_trusted"] is True
    assert status["clock_reason"] == (
        'an RTC restored the time at boot; trusted (reminder.trust_clock = "always")'
    )


#: The SHORT session: the closing starts at 4 s, the session ends at 6.5 s.
SHORT_CLOSING_AT_S = 4.0


def cue_times(hw) -> list[tuple[str, float]]:
    return [(cue, t) for cue, t, _ in hw.audio.played]


def test_a_remote_reminders_switch_lets_the_session_end_then_blinks(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
    started = clock.monotonic()
    hw.button.press()
    run_for(service, clock, 3.0)  # in the breath
    reply = control(service, cmd="reminders", value="off")
    assert reply["ok"] and reply["reminders"] is False and reply["state"] == "session"
    run_for(service, clock, 6.0)
    played = cue_times(hw)
    names = [cue for cue, _ in played]
    assert names == ["start", "inhale", "exhale", "end", "confirm-off"]
    end_at = dict(played)["end"] - started
    confirm_at = dict(played)["confirm-off"] - started
    # `end` on the session's own schedule (its closing), not at the switch (3 s).
    assert end_at == pytest.approx(SHORT_CLOSING_AT_S, abs=0.05)
    # The blink once the session has ended (6.5 s), not before.
    assert confirm_at == pytest.approx(SESSION_S, abs=0.05)
    assert service.engine.controller.state == "idle"


def test_set_reminder_enabled_during_a_session_is_a_remote_switch_too(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path)
    started = clock.monotonic()
    hw.button.press()
    run_for(service, clock, 3.0)
    reply = control(service, cmd="set", key="reminder.enabled", value=False)
    assert reply == {"ok": True, "key": "reminder.enabled", "value": False}
    assert service.engine.controller.state == "session"
    assert control(service, cmd="status")["reminders"] is False
    run_for(service, clock, 6.0)
    played = dict(cue_times(hw))
    assert [cue for cue, _ in cue_times(hw)] == ["start", "inhale", "exhale", "end", "confirm-off"]
    assert played["end"] - started == pytest.approx(SHORT_CLOSING_AT_S, abs=0.05)
    assert played["confirm-off"] - started == pytest.approx(SESSION_S, abs=0.05)
    # Setting the value it already has changes nothing: no second blink.
    control(service, cmd="set", key="reminder.enabled", value=False)
    run_for(service, clock, 2.0)
    assert [cue for cue, _ in cue_times(hw)].count("confirm-off") == 1


def test_the_buttons_hold_during_a_session_fades_it_out_then_blinks(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path, config="")  # three breaths: 34.5 s
    hw.button.press()
    run_for(service, clock, 5.0)
    down_at = clock.monotonic()
    hw.button.down()
    run_for(service, clock, 2.5)  # button.hold_seconds = 2
    hw.button.up()
    run_for(service, clock, 3.0)
    names = [cue for cue, _ in cue_times(hw)]
    assert names == ["start", "inhale", "end", "confirm-off"]
    played = dict(cue_times(hw))
    # The button going down fades the session out (`end`, 0.8 s); the blink comes at the
    # hold (2 s), after the fade; long before the session's own end (34.5 s).
    assert played["end"] - down_at == pytest.approx(0.0, abs=0.05)
    assert played["confirm-off"] - down_at == pytest.approx(2.0, abs=0.05)
    assert service.engine.controller.state == "idle"
    assert service.engine.controller.reminders_enabled is False
