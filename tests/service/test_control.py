"""Control requests to the service: start, status, stop, refusals, and no service at all."""

from __future__ import annotations

import signal

from testkit.process import run_cli
from testkit.service_loop import (
    control,
    make_service,
    make_service_with_settings,
    run_for,
)
from testkit.status import STATUS_KEYS

from breathring.config import parse_config


def test_control_requests():
    service, clock, _hw = make_service()
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


def test_stop_fades_out_and_ends_dark():

    service, clock, hw = make_service()
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
    service, _clock, _hw = make_service()
    reply = control(service, cmd="start", pattern="custom")
    assert reply["ok"] is False and 'session.pattern = "custom"' in reply["error"]
    assert service.engine.controller.state == "idle"
    cfg = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\n')
    service, _clock, _hw = make_service(cfg)
    reply = control(service, cmd="start", pattern="custom")
    assert reply["ok"] and reply["pattern"] == "custom"


def test_status_always_has_every_protocol_key(tmp_path):
    service, _clock, _hw = make_service_with_settings(tmp_path)
    idle = control(service, cmd="status")
    expected = {"ok", *STATUS_KEYS, "frames_sent", "frames_late", "late_frames_pct", "light"}
    assert set(idle) == expected
    assert (idle["phase"], idle["breath"], idle["breaths"], idle["pattern"]) == ("idle", 0, 0, None)
    assert idle["next_pattern"] == "custom" and idle["night"] is False
    assert idle["next_pulse"] == "2026-03-10T13:00+01:00"


def test_client_without_service_says_so(tmp_path):
    result = run_cli("status", env={"RUNTIME_DIRECTORY": str(tmp_path)})
    assert result.returncode == 69
    assert "breathring is not running" in result.stderr
