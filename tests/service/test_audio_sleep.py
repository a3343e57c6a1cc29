"""When the service closes its sound device (idle) and opens it again (ahead of the first cue).

Virtual time, the real Service over mock pins and ring; the audio records what it is asked.
"""

from __future__ import annotations

from testkit.service_loop import control, make_service, run_for

from breathring.clock import Clock
from breathring.config import parse_config

#: The device is closed this long after the light stopped changing (or the service started).
SLEEP_AFTER_S = 5.0
CONFIG = "[audio]\nidle_close_seconds = 5\n"
#: By default it stays open this long.
DEFAULT_SLEEP_AFTER_S = 600.0
#: One frame at the default 100 frames a second: the loop's granularity.
FRAME_S = 0.01
#: How long the finger stays on the button.
PRESS_HELD_S = 0.15


class NappingAudio:
    """An Audio that records cues, sleeps and wakes with their (monotonic) times."""

    available = True

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.events: list[tuple[str, float]] = []
        self.asleep = False
        #: sleep() refuses until then (a sound still playing).
        self.busy_until = 0.0

    def play(self, cue: str, volume: float) -> None:
        self.events.append((f"play {cue}" + (" asleep" if self.asleep else ""), self.now()))

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        pass

    def sleep(self) -> bool:
        if self.now() < self.busy_until:
            self.events.append(("busy", self.now()))
            return False
        self.asleep = True
        self.events.append(("sleep", self.now()))
        return True

    def wake(self) -> None:
        if self.asleep:
            self.asleep = False
            self.events.append(("wake", self.now()))

    def now(self) -> float:
        return self.clock.monotonic()

    def kinds(self) -> list[str]:
        return [kind for kind, _ in self.events]


def make(config: str = CONFIG):
    service, clock, bench = make_service(parse_config(config))
    audio = NappingAudio(clock)
    service.hw.audio = audio
    return service, clock, bench, audio


def test_the_device_sleeps_five_seconds_after_start():
    service, clock, _bench, audio = make()
    started = clock.monotonic()
    run_for(service, clock, SLEEP_AFTER_S + 1.0)
    assert audio.kinds() == ["sleep"]
    ((_, at),) = audio.events
    assert SLEEP_AFTER_S <= at - started <= SLEEP_AFTER_S + FRAME_S


def test_by_default_the_device_stays_open_ten_minutes():
    service, clock, _bench, audio = make("")
    started = clock.monotonic()
    run_for(service, clock, DEFAULT_SLEEP_AFTER_S + 60.0)
    assert audio.kinds() == ["sleep"]
    ((_, at),) = audio.events
    assert DEFAULT_SLEEP_AFTER_S <= at - started <= DEFAULT_SLEEP_AFTER_S + FRAME_S


def test_zero_keeps_the_device_open():
    service, clock, _bench, audio = make("[audio]\nidle_close_seconds = 0\n")
    run_for(service, clock, 3600.0)
    assert audio.kinds() == []


def test_a_button_going_down_wakes_the_device_before_the_start_cue():
    service, clock, bench, audio = make()
    run_for(service, clock, SLEEP_AFTER_S + 1.0)
    bench.button.down()
    down_at = clock.monotonic()
    run_for(service, clock, PRESS_HELD_S)
    assert audio.kinds()[-1] == "wake"
    assert audio.events[-1][1] - down_at <= FRAME_S  # at the edge, not at the release
    bench.button.up()
    run_for(service, clock, 1.0)
    assert "play start" in audio.kinds()
    assert not any(kind.endswith("asleep") for kind in audio.kinds())


def test_after_a_session_the_device_sleeps_once_its_sounds_are_done():
    service, clock, bench, audio = make()
    run_for(service, clock, SLEEP_AFTER_S + 1.0)
    bench.button.press()
    run_for(service, clock, 1.0)
    assert service.engine.active
    while service.engine.active:
        run_for(service, clock, FRAME_S)
    ended = clock.monotonic()
    audio.busy_until = ended + SLEEP_AFTER_S + 0.5  # the end cue still rings at the deadline
    run_for(service, clock, SLEEP_AFTER_S + 2.0)
    kinds = audio.kinds()
    assert kinds[kinds.index("wake") :][-2:] == ["busy", "sleep"]
    retried = audio.events[-1][1] - ended  # a second after the refused try
    assert SLEEP_AFTER_S + 1.0 <= retried <= SLEEP_AFTER_S + 1.0 + FRAME_S


def test_a_request_wakes_the_device_and_its_first_cue_is_not_asleep():
    service, clock, _bench, audio = make()
    run_for(service, clock, SLEEP_AFTER_S + 1.0)
    assert control(service, cmd="start")["state"] == "session"
    run_for(service, clock, 1.0)
    assert audio.kinds()[:3] == ["sleep", "wake", "play start"]
