"""The service and its serial breath sensor: opened at start, closed at stop, readings kept.

In virtual time through the service's `sensor_opener` seam; then the real service on mock
hardware (`breathring run --hardware mock`) reading a pretend C1001 on a pseudo-terminal, its
answers written out by hand from DFRobot's protocol (testkit/radar_frames.py).
"""

from __future__ import annotations

import json

from testkit import wait_until
from testkit.radar_frames import C1001_14, C1001_MODE_SLEEP, C1001_QUERY_MODE, C1001_QUERY_RATE
from testkit.serial_module import PtyModule
from testkit.service_loop import control, make_service

from breathring.breath_rate import BreathReading
from breathring.config import parse_config


class FakeSensor:
    def __init__(self) -> None:
        self.closed = False

    def close(self) -> None:
        self.closed = True


def test_the_service_opens_its_sensor_and_its_readings_reach_status() -> None:
    opened = []

    def opener(settings, deliver):
        opened.append((settings, deliver))
        return FakeSensor()

    cfg = parse_config('[breath_sensor]\nkind = "c1001"\ndevice = "/dev/ttyAMA0"\n')
    service, clock, _ = make_service(cfg, sensor_opener=opener)
    ((settings, deliver),) = opened
    assert (settings.kind, settings.device, settings.baud) == ("c1001", "/dev/ttyAMA0", 0)
    deliver(BreathReading(14.0, clock.monotonic(), "c1001"))  # from the reader's thread
    service.step()  # the reading is on the queue: no waiting
    shown = control(service, cmd="status")["breath_rate"]
    assert (shown["per_min"], shown["source"]) == (14.0, "c1001")
    sensor = service.sensor
    service.close()
    assert isinstance(sensor, FakeSensor) and sensor.closed


def test_without_a_serial_sensor_nothing_is_opened() -> None:
    service, _, _ = make_service(parse_config('[breath_sensor]\nkind = "mqtt"\n'))
    assert service.sensor is None
    service.close()


def status(proc) -> dict:
    result = proc.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_the_real_service_reads_a_c1001_and_a_follow_session_starts_from_it(
    service_process, tmp_path
) -> None:
    module = PtyModule(
        link=tmp_path / "serial0",
        answers={C1001_QUERY_MODE: C1001_MODE_SLEEP, C1001_QUERY_RATE: C1001_14},
    )
    try:
        proc = service_process(
            config='[session]\npattern = "follow"\nfollow_minutes = 3\n'
            f'[breath_sensor]\nkind = "c1001"\ndevice = "{module.path}"\n'
            "[reminder]\nenabled = false\n"
        )
        proc.wait_ready()
        shown = wait_until(lambda: status(proc)["breath_rate"], what="a rate from the C1001")
        assert (shown["per_min"], shown["source"]) == (14.0, "c1001")
        assert module.received().startswith(C1001_QUERY_MODE + C1001_QUERY_RATE)
        started = proc.cmd(cmd="start")
        assert started["pattern"] == "follow"
        assert proc.cmd(cmd="stop")["ok"]

        def rates():
            result = proc.cli("stats", "--days", "1", "--json")
            return json.loads(result.stdout)["breath_rates"]

        (session,) = wait_until(rates, what="the session in the history")
        assert (session["pattern"], session["rate_start"]) == ("follow", 14.0)
        assert proc.stop() == 0
    finally:
        module.close()


def test_the_real_service_starts_without_its_sensor_and_says_so_once(service_process, tmp_path):
    proc = service_process(
        config=f'[breath_sensor]\nkind = "mr60bha2"\ndevice = "{tmp_path / "none"}"\n'
    )
    proc.wait_ready()
    assert status(proc)["breath_rate"] is None
    assert proc.stop() == 0
    assert proc.stderr().count("No such file or directory") == 1
