"""The service and a measured breathing rate, in virtual time on mock hardware.

Readings come from a breath sensor's reader thread (a BreathReading on the loop's queue)
or over the control socket ({"cmd": "breath_rate", ...}, what `breathring mqtt` sends).
They cost no frame and wake no sound; watchers hear of the rate rounded to 0.1, at most
every 5 s, and at once when it appears or goes stale; sessions record it in the history.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from testkit.frames import NOON
from testkit.mock_hw import RecordingAudio
from testkit.service_loop import (
    WatchClient,
    control,
    make_service,
    make_service_with_settings,
    run_for,
)
from testkit.sqlite_rows import rows as sqlite_rows

from breathring.breath_rate import BreathReading
from breathring.clock import FakeClock, read
from breathring.config import parse_config

STALE = "[breath_sensor]\nstale_seconds = 10\n"
FOLLOW = '[session]\npattern = "follow"\nfollow_minutes = 3\n' + STALE
MARK = {"kind": "mark"}


class WakingAudio(RecordingAudio):
    """Counts the service's wakes of the sound device."""

    wakes = 0

    def wake(self) -> None:
        self.wakes += 1

    def sleep(self) -> bool:
        return True


def rows(tmp_path: Path, sql: str) -> list[tuple]:
    return sqlite_rows(tmp_path / "history.sqlite3", sql)


def test_a_reading_over_the_socket_shows_in_status_until_it_is_stale() -> None:
    service, clock, _ = make_service(parse_config(STALE))
    reply = control(service, cmd="breath_rate", value=13.46, source="mqtt")
    assert reply == {
        "ok": True,
        "breath_rate": {"per_min": 13.5, "age_s": 0.0, "source": "mqtt"},
    }
    clock.advance(4.0)
    assert control(service, cmd="status")["breath_rate"] == {
        "per_min": 13.5,
        "age_s": 4.0,
        "source": "mqtt",
    }
    clock.advance(6.5)
    assert control(service, cmd="status")["breath_rate"] is None


def test_a_reading_from_a_sensor_thread_is_kept_the_same_way() -> None:
    service, clock, bench = make_service(parse_config(STALE))
    bench.events.put(BreathReading(9.0, clock.monotonic() - 2.0, "mr60bha2"))
    service.step()
    assert control(service, cmd="status")["breath_rate"] == {
        "per_min": 9.0,
        "age_s": 2.0,
        "source": "mr60bha2",
    }
    bench.events.put(BreathReading(90.0, clock.monotonic(), "mr60bha2"))  # implausible: dropped
    service.step()
    assert control(service, cmd="status")["breath_rate"]["per_min"] == 9.0


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("13", "'13'"),
        (True, "True"),
        (float("nan"), "nan"),
        (1.9, "1.9"),
        (61, "61"),
        (None, "None"),
    ],
)
def test_a_rate_that_is_not_a_breathing_rate_is_refused_as_invalid(value, shown) -> None:
    service, _, _ = make_service()
    assert control(service, cmd="breath_rate", value=value, source="mqtt") == {
        "ok": False,
        "code": "invalid",
        "error": f"per_min = {shown} is not a breathing rate; "
        "allowed a number 2-60 (breaths a minute)",
        "key": "per_min",
    }
    assert control(service, cmd="status")["breath_rate"] is None


def test_a_reading_costs_no_frame_and_wakes_no_sound() -> None:
    audio = WakingAudio(FakeClock(NOON))
    service, clock, bench = make_service(audio=audio)
    run_for(service, clock, 1.0)
    writes, wakes = bench.ring.writes, audio.wakes
    for k in range(30):
        bench.events.put(BreathReading(12.0 + k / 10, clock.monotonic(), "c1001"))
        run_for(service, clock, 1.0)
    assert control(service, cmd="breath_rate", value=12.0, source="simulated")["ok"]
    assert (bench.ring.writes, audio.wakes, audio.cues) == (writes, wakes, [])


def test_a_reading_during_a_session_adds_no_frame() -> None:
    def frames(readings: bool) -> int:
        service, clock, bench = make_service()
        bench.button.press()
        run_for(service, clock, 3.0)
        before = bench.ring.writes
        for k in range(20):
            if readings:
                bench.events.put(BreathReading(12.0 + k, clock.monotonic(), "c1001"))
                service.step()
            run_for(service, clock, 0.1)
        return bench.ring.writes - before

    with_readings = frames(readings=True)
    assert with_readings == frames(readings=False)
    assert 200 <= with_readings <= 220  # 100 fps (run_for ends on the frame after 0.1 s)


def test_watchers_hear_the_rate_rounded_at_most_every_five_seconds(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(tmp_path, config=STALE)
    client = WatchClient(service)
    assert client.lines(1)[0]["status"]["breath_rate"] is None
    start = clock.monotonic()
    # A 1 Hz radar for 12 s, its rate creeping up by 0.02 a second; then silence.
    for k in range(12):
        bench.events.put(BreathReading(12.0 + 0.02 * k, clock.monotonic(), "mr60bha2"))
        service.step()
        if k == 3:  # 12.06: a change held back, and the loop told when to send it
            assert service.reporter.rate_deadline() == start + 5.0
        clock.advance(1.0)
    # The last reading (at 11 s) goes stale at 21 s: the loop wakes for it, and only for it.
    assert service.reporter.rate_deadline() == pytest.approx(start + 21.01)
    service.step()
    assert clock.monotonic() == pytest.approx(start + 21.01)
    service.feed.publish(MARK)
    lines = []
    while (line := client.lines(1)[0]) != MARK:
        lines.append(line)
    rates = [(line["status"]["breath_rate"] or {}).get("per_min") for line in lines]
    # 12.0 at once (it appeared); 12.1 (12.06 at 3 s) held back until 5 s after that;
    # 12.2 (12.16 at 8 s) held until 10 s; then null once stale: four lines, not twelve.
    assert rates == [12.0, 12.1, 12.2, None]


def test_no_watcher_no_wakes_for_the_rate(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(tmp_path, config=STALE)
    bench.events.put(BreathReading(12.0, clock.monotonic(), "mr60bha2"))
    service.step()
    assert service.reporter.rate_deadline() is None


def test_a_follow_session_records_its_rates_at_start_and_end(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(tmp_path, config=FOLLOW)
    assert control(service, cmd="breath_rate", value=15.0, source="mqtt")["ok"]
    bench.button.press()
    run_for(service, clock, 3.0)
    status = control(service, cmd="status")
    assert (status["pattern"], status["breaths"], status["breath_rate"]["per_min"]) == (
        "follow",
        22,  # 15 a minute down to 6 in 3 minutes
        15.0,
    )
    for _ in range(12):  # readings keep coming while the person slows down
        assert control(service, cmd="breath_rate", value=7.25, source="mqtt")["ok"]
        run_for(service, clock, 8.0)
    assert control(service, cmd="stop")["ok"]
    run_for(service, clock, 2.0)
    stats = control(service, cmd="stats", days=1)["stats"]
    assert stats["breath_rates"] == [
        {
            "started": "2026-03-10T12:10:00+01:00",
            "pattern": "follow",
            "outcome": "stopped",
            "rate_start": 15.0,
            "rate_end": 7.2,
        }
    ]
    assert stats["today"]["breath_rate"] == {"start": 15.0, "end": 7.2, "sessions": 1}
    service.close()
    assert rows(tmp_path, "SELECT pattern, rate_start, rate_end FROM sessions") == [
        ("follow", 15.0, 7.25)
    ]


def test_without_a_reading_follow_runs_the_coherent_pace_and_records_no_rate(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(tmp_path, config=FOLLOW)
    assert control(service, cmd="breath_rate", value=15.0, source="mqtt")["ok"]
    run_for(service, clock, 10.5)  # stale
    bench.button.press()
    run_for(service, clock, 3.0)
    status = control(service, cmd="status")
    assert (status["pattern"], status["breaths"], status["breath_rate"]) == ("follow", 16, None)
    assert service.engine.controller.upcoming(read(clock), 2)[0].seconds == 5.5
    assert control(service, cmd="stop")["ok"]
    run_for(service, clock, 2.0)
    stats = control(service, cmd="stats", days=1)["stats"]
    assert stats["breath_rates"] == [] and stats["today"]["breath_rate"] is None
    assert stats["today"]["sessions"] == 1
    service.close()
    assert rows(tmp_path, "SELECT rate_start, rate_end FROM sessions") == [(None, None)]


def test_an_answered_pulse_keeps_the_rate_it_was_shown_with(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(
        tmp_path, config=STALE, at=(2026, 3, 10, 12, 59, 55)
    )
    assert control(service, cmd="breath_rate", value=11.0, source="mqtt")["ok"]
    run_for(service, clock, 7.0)  # the 13:00 pulse shows at 5 s, the rate 5 s old
    assert service.engine.controller.state == "pulse"
    assert control(service, cmd="breath_rate", value=10.0, source="mqtt")["ok"]
    bench.button.press()
    run_for(service, clock, 10.0)
    service.close()
    assert rows(tmp_path, "SELECT answered, rate FROM pulses") == [(1, 11.0)]
    assert rows(tmp_path, "SELECT trigger, rate_start FROM sessions") == [("pulse", 10.0)]


def test_cues_and_guide_tones_follow_each_longer_breath(tmp_path) -> None:
    config = FOLLOW + "[audio]\nguide_tone = true\n"
    service, clock, bench = make_service_with_settings(tmp_path, config=config)
    assert control(service, cmd="breath_rate", value=15.0, source="mqtt")["ok"]
    start = clock.monotonic()
    bench.button.press()
    run_for(service, clock, 2.0 + 4.0 + 4.32 + 4.67 + 0.5)  # lead-in and three breaths
    played = [(name, round(at - start, 2), round(arg, 3)) for name, at, arg in bench.audio.played]
    guides = [(name, arg) for name, _, arg in played if name.startswith("guide:")]
    # In 2/5, out 3/5 of breaths of 4 s, then 8 % longer each (15 to 6 a minute in 3 minutes).
    assert guides == [
        ("guide:inhale", 1.6),
        ("guide:exhale", 2.4),
        ("guide:inhale", 1.728),
        ("guide:exhale", 2.592),
        ("guide:inhale", 1.866),
        ("guide:exhale", 2.799),
        ("guide:inhale", 2.016),
    ]
    inhale_cues = [at for name, at, _ in played if name == "inhale"]
    breath_starts = [2.0, 6.0, 10.32, 14.986]
    assert len(inhale_cues) == len(breath_starts)
    for cue, breath in zip(inhale_cues, breath_starts, strict=True):
        assert breath - 0.005 <= cue <= breath + 0.011  # on its breath's first frame (100 fps)


def test_a_new_watcher_does_not_hold_up_a_rate_the_others_wait_for(tmp_path) -> None:
    service, clock, bench = make_service_with_settings(tmp_path, config=STALE)
    first = WatchClient(service)
    start = clock.monotonic()
    bench.events.put(BreathReading(12.0, start, "mr60bha2"))
    service.step()
    clock.advance(1.0)
    bench.events.put(BreathReading(12.3, clock.monotonic(), "mr60bha2"))  # held back until 5 s
    service.step()
    clock.advance(1.0)
    second = WatchClient(service)  # joins with 12.3 in its first line
    assert service.reporter.rate_deadline() == pytest.approx(start + 5.0)
    service.step()  # wakes at 5 s
    assert clock.monotonic() == pytest.approx(start + 5.0)
    service.feed.publish(MARK)
    lines = []
    while (line := first.lines(1)[0]) != MARK:
        lines.append(line)
    assert [(m["status"]["breath_rate"] or {}).get("per_min") for m in lines] == [None, 12.0, 12.3]
    assert second.lines(1)[0]["status"]["breath_rate"]["per_min"] == 12.3
