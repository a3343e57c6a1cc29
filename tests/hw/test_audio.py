"""hw/audio.py on the real pygame mixer, driven through SDL's dummy and disk drivers.

SDL reads SDL_AUDIODRIVER when the mixer opens, so every test sets it with
monkeypatch and the fixture closes the mixer afterwards (pygame.mixer.quit).
"""

from __future__ import annotations

import logging
import sys
import threading
import time
import wave
from array import array
from datetime import UTC, datetime
from pathlib import Path

import pygame  # a hard dependency: a broken install fails, never skips
import pytest

from breathring import sounds
from breathring.clock import FakeClock
from breathring.config import AudioConfig
from breathring.hw import audio as hw_audio
from breathring.hw.audio import (
    RETRY_SECONDS,
    PygameAudio,
    SilentAudio,
    bundled_assets_dir,
    open_audio,
)

LOGGER = "breathring.audio"
#: Real-device tests wait for the mixer thread at most this long (wall time).
DEADLINE_SECONDS = 3.0
POLL_SECONDS = 0.005
BUFFER = 1024
#: The cue's soft attack: its first few samples round to zero.
SLACK_SAMPLES = 256


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(datetime(2024, 5, 1, 12, 0, tzinfo=UTC))


@pytest.fixture(autouse=True)
def mixer(monkeypatch):
    """Each test starts with SDL's dummy driver and leaves the mixer closed."""
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    monkeypatch.delenv("SDL_DISKAUDIOFILE", raising=False)
    monkeypatch.delenv(hw_audio.ASSETS_ENV, raising=False)
    yield
    pygame.mixer.quit()


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "WARNING"]


def _infos(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelname == "INFO"]


def _wait_for(condition) -> None:
    """Bounded wait for SDL's mixer thread, which runs in real time.

    The no-sleep rule is for the pure core; here the disk driver writes samples
    only as fast as a real device would play them, so we poll with a short
    sleep and give up after DEADLINE_SECONDS.
    """
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, "the mixer wrote nothing in time"
        time.sleep(POLL_SECONDS)


def _raw(path: Path) -> array:
    data = path.read_bytes()
    return array("h", data[: len(data) - len(data) % 2])


class _Disk:
    """The SDL disk driver: every mixed sample lands in a raw file."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def size(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def play_and_capture(self, start, seconds: float) -> tuple[int, array]:
        """Call start(); return (samples until the first non-zero one, what followed)."""
        _wait_for(lambda: self.size() >= 2 * BUFFER)  # the device is running
        at_play = self.size() // 2
        start()
        wanted = (at_play + round(seconds * sounds.SAMPLE_RATE)) * 2

        def heard() -> bool:
            return self.size() >= wanted and any(_raw(self.path)[at_play:])

        _wait_for(heard)
        after = _raw(self.path)[at_play:]
        first = next(i for i, v in enumerate(after) if v)
        return first, after[first:]


@pytest.fixture
def disk(monkeypatch, tmp_path) -> _Disk:
    path = tmp_path / "out.raw"
    monkeypatch.setenv("SDL_AUDIODRIVER", "disk")
    monkeypatch.setenv("SDL_DISKAUDIOFILE", str(path))
    return _Disk(path)


def _cue_peak(cue: str) -> int:
    with wave.open(str(bundled_assets_dir() / f"{cue}.wav"), "rb") as wav:
        return max(abs(s) for s in array("h", wav.readframes(wav.getnframes())))


def test_a_cue_reaches_the_device_at_its_volume_within_two_buffers(disk, clock):
    audio = PygameAudio(AudioConfig(buffer_samples=BUFFER), clock)
    assert audio.available
    assert pygame.mixer.get_init() == (44_100, -16, 1)
    latency, heard = disk.play_and_capture(lambda: audio.play("confirm-on", 0.5), 0.3)
    # One buffer of mixing, plus up to one more that the disk driver's buffered
    # file writes (stdio) hold back from the file size we read at play().
    assert latency <= 2 * BUFFER + SLACK_SAMPLES
    # SDL scales by volume (0.5 -> 64/128) exactly; allow rounding.
    assert abs(max(abs(s) for s in heard) - _cue_peak("confirm-on") / 2) <= 2


def test_a_guide_tone_reaches_the_device(disk, clock):
    audio = PygameAudio(AudioConfig(buffer_samples=BUFFER), clock)
    _, heard = disk.play_and_capture(lambda: audio.play_guide("inhale", 0.5, 1.0), 0.6)
    pcm = sounds.render_guide("inhale", 0.5)
    assert max(abs(s) for s in heard) == max(abs(s) for s in array("h", pcm))


def test_an_unusable_driver_goes_silent_with_one_warning_and_retries_after_a_while(
    monkeypatch, clock, caplog
):
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.setenv("SDL_AUDIODRIVER", "nonexistent")
    audio = PygameAudio(AudioConfig(), clock)
    assert not audio.available
    for _ in range(5):
        audio.play("inhale", 0.6)
        audio.play_guide("exhale", 4.0, 0.6)
        clock.advance(RETRY_SECONDS / 10)
    assert audio.open_attempts == 1  # no retry before RETRY_SECONDS
    clock.advance(RETRY_SECONDS / 2)
    audio.play("exhale", 0.6)
    assert audio.open_attempts == 2  # retried, failed again, still silent
    assert not audio.available
    assert len(_warnings(caplog)) == 1
    assert "cannot open the audio device" in _warnings(caplog)[0]
    assert "nonexistent" in _warnings(caplog)[0]
    assert _infos(caplog) == []

    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")  # the speaker is plugged back in
    clock.advance(RETRY_SECONDS - 1)
    audio.play("hold", 0.6)
    assert audio.open_attempts == 2 and not audio.available
    clock.advance(1)
    audio.play("hold", 0.6)
    assert audio.open_attempts == 3 and audio.available
    assert len(_warnings(caplog)) == 1
    assert len(_infos(caplog)) == 1 and "audio is back" in _infos(caplog)[0]


def test_the_configured_driver_is_handed_to_sdl(monkeypatch, clock, caplog):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    audio = PygameAudio(AudioConfig(driver="nonexistent"), clock)
    assert not audio.available
    assert "audio.driver = 'nonexistent'" in _warnings(caplog)[0]


def test_a_device_failing_while_playing_goes_silent_then_comes_back(clock, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    audio = PygameAudio(AudioConfig(), clock)
    assert audio.available

    class Broken:
        def set_volume(self, volume):
            pass

        def play(self):
            raise pygame.error("device unplugged")

    audio._sounds["start"] = Broken()
    audio.play("start", 0.6)  # must not raise
    audio.play("start", 0.6)
    assert not audio.available
    assert len(_warnings(caplog)) == 1 and "device unplugged" in _warnings(caplog)[0]
    clock.advance(RETRY_SECONDS)
    audio.play("start", 0.6)
    assert audio.available and pygame.mixer.get_busy()
    assert len(_infos(caplog)) == 1


def test_cues_never_take_the_guide_voice(clock):
    audio = PygameAudio(AudioConfig(), clock)
    for cue in sounds.CUE_NAMES:
        audio.play(cue, 0.3)
    assert pygame.mixer.get_busy()
    assert not pygame.mixer.Channel(hw_audio.GUIDE_VOICE).get_busy()
    audio.play_guide("exhale", 3.0, 0.3)
    assert pygame.mixer.Channel(hw_audio.GUIDE_VOICE).get_busy()


def test_an_open_mixer_hands_the_gil_to_the_audio_thread_within_a_millisecond(clock):
    """pygame takes the GIL in SDL's audio thread when a voice ends: hand it over fast."""
    previous = sys.getswitchinterval()
    try:
        sys.setswitchinterval(0.005)  # Python's default
        hw_audio.open_audio(AudioConfig(enabled=False), clock).close()  # no mixer: no change
        assert sys.getswitchinterval() == pytest.approx(0.005)
        audio = PygameAudio(AudioConfig(), clock)
        assert audio.available
        assert sys.getswitchinterval() == pytest.approx(0.001)
        sys.setswitchinterval(0.0005)  # a shorter one set elsewhere is kept
        PygameAudio(AudioConfig(), clock)
        assert sys.getswitchinterval() == pytest.approx(0.0005)
    finally:
        sys.setswitchinterval(previous)


def test_guide_tones_are_cached_and_can_be_prepared_ahead(clock):
    audio = PygameAudio(AudioConfig(), clock)
    audio.prepare_guide("hold-in", 1.5)
    for thread in threading.enumerate():
        if thread.name == "breathring-guide":
            thread.join(DEADLINE_SECONDS)
    assert list(audio._guides) == [("hold", round(1.5 * sounds.SAMPLE_RATE))]
    audio.play_guide("hold-out", 1.5, 0.5)
    audio.play_guide("inhale", 1.5, 0.5)
    assert len(audio._guides) == 2


def test_bad_requests_warn_once_and_do_not_raise(clock, caplog):
    audio = PygameAudio(AudioConfig(), clock)
    for _ in range(3):
        audio.play("breathe", 0.5)
        audio.play_guide("inhale", -1.0, 0.5)
        audio.play("inhale", float("nan"))  # a bad volume plays at 0, quietly
    assert _warnings(caplog) == [
        "cue 'breathe' is not known; allowed: start, inhale, hold, exhale, end, reminder, "
        "confirm-on, confirm-off",
        "guide tone length -1.0 s is out of range; allowed 0 < seconds <= 60",
    ]


def test_cues_dir_overrides_with_fallback_to_bundled(tmp_path, clock, caplog):
    short = sounds.render_guide("hold", 0.1)
    with wave.open(str(tmp_path / "inhale.wav"), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(sounds.SAMPLE_RATE)
        out.writeframes(short)
    audio = PygameAudio(AudioConfig(cues_dir=str(tmp_path)), clock)
    assert sorted(audio._sounds) == sorted(sounds.CUE_NAMES)
    assert audio._sounds["inhale"].get_length() == pytest.approx(0.1, abs=0.001)
    assert audio._sounds["exhale"].get_length() == pytest.approx(1.7, abs=0.001)
    missing = _warnings(caplog)
    assert len(missing) == len(sounds.CUE_NAMES) - 1
    assert f"audio.cues_dir: {tmp_path / 'exhale.wav'} not found; using the bundled exhale.wav" in (
        missing
    )


def test_assets_are_found_in_the_repo_or_where_the_env_says(monkeypatch, tmp_path):
    assert (bundled_assets_dir() / "start.wav").is_file()
    monkeypatch.setenv(hw_audio.ASSETS_ENV, str(tmp_path))
    assert bundled_assets_dir() == tmp_path


def test_close_is_final(clock):
    audio = PygameAudio(AudioConfig(), clock)
    audio.play("start", 0.5)
    audio.stop()
    audio.close()
    assert not audio.available and pygame.mixer.get_init() is None
    clock.advance(RETRY_SECONDS * 2)
    audio.play("start", 0.5)
    audio.stop()
    assert not audio.available and audio.open_attempts == 1


def test_open_audio_picks_silent_when_disabled(clock):
    silent = open_audio(AudioConfig(enabled=False), clock)
    assert isinstance(silent, SilentAudio) and not silent.available
    silent.play("start", 1.0)
    silent.play_guide("inhale", 4.0, 1.0)
    silent.prepare_guide("inhale", 4.0)
    silent.stop()
    silent.close()
    assert pygame.mixer.get_init() is None  # SilentAudio never opens the mixer
    real = open_audio(AudioConfig(), clock)
    assert isinstance(real, PygameAudio) and real.available


def test_a_background_open_does_not_block_and_cues_are_silent_until_it_is_done(monkeypatch, clock):
    gate = threading.Event()
    opened_in: list[str] = []
    real_import = hw_audio._import_pygame

    def slow_import():
        opened_in.append(threading.current_thread().name)
        assert gate.wait(DEADLINE_SECONDS)
        return real_import()

    monkeypatch.setattr(hw_audio, "_import_pygame", slow_import)
    audio = PygameAudio(AudioConfig(), clock, background=True)
    assert not audio.available  # returned while pygame is still loading
    audio.play("start", 0.6)  # silent, never raises, no second attempt
    assert audio.open_attempts == 1
    gate.set()
    assert audio.wait_open(DEADLINE_SECONDS) is True
    assert opened_in == ["breathring-audio-open"]
    audio.play("start", 0.6)
    assert pygame.mixer.get_busy()
    audio.close()
    assert not audio.available


def test_the_first_open_in_the_background_says_once_that_the_sound_is_ready(clock, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    audio = PygameAudio(AudioConfig(buffer_samples=512), clock, background=True)
    assert audio.wait_open(DEADLINE_SECONDS) is True
    assert _infos(caplog) == ["audio ready after 0.0 s: 44100 Hz, 512-sample buffer"]
    assert audio.sleep() is True
    audio.wake()
    assert audio.wait_open(DEADLINE_SECONDS) is True
    assert len(_infos(caplog)) == 1  # waking after idle is not news
    audio.close()


def test_a_first_open_that_fails_in_the_background_only_warns(monkeypatch, clock, caplog):
    caplog.set_level(logging.INFO, logger=LOGGER)
    monkeypatch.setenv("SDL_AUDIODRIVER", "nonexistent")
    audio = PygameAudio(AudioConfig(), clock, background=True)
    assert audio.wait_open(DEADLINE_SECONDS) is False
    assert _infos(caplog) == []
    assert len(_warnings(caplog)) == 1
    audio.close()


def _sdl_audio_threads() -> list[str]:
    """SDL's audio thread(s) of this process: SDL names them "SDLAudio..."."""
    names = (Path(f"/proc/self/task/{tid}/comm").read_text().strip() for tid in _tasks())
    return [name for name in names if name.startswith("SDLAudio")]


def _tasks() -> list[str]:
    return [p.name for p in Path("/proc/self/task").iterdir()]


def test_sleep_closes_the_device_and_its_thread_and_a_cue_opens_it_again(clock):
    audio = PygameAudio(AudioConfig(), clock)
    assert audio.available
    _wait_for(lambda: len(_sdl_audio_threads()) == 1)  # SDL names its thread from inside it
    assert audio.sleep() is True
    assert audio.asleep and not audio.available
    assert pygame.mixer.get_init() is None
    _wait_for(lambda: not _sdl_audio_threads())  # SDL joins it as the device closes
    audio.play("start", 0.5)  # reopens at once: the cue is not lost
    assert audio.available and not audio.asleep
    assert pygame.mixer.get_init() == (44_100, -16, 1)
    assert pygame.mixer.get_busy()
    assert audio.open_attempts == 2
    audio.close()


def test_sleep_waits_while_a_sound_plays(clock):
    audio = PygameAudio(AudioConfig(), clock)
    audio.play("end", 0.5)  # 1.95 s long
    assert audio.sleep() is False
    assert audio.available and pygame.mixer.get_init() is not None
    audio.stop()
    _wait_for(lambda: not pygame.mixer.get_busy())
    assert audio.sleep() is True
    audio.close()


def test_wake_opens_in_the_background_and_a_cue_meanwhile_waits_for_it(monkeypatch, clock):
    audio = PygameAudio(AudioConfig(), clock)
    assert audio.sleep() is True
    gate = threading.Event()
    opened_in: list[str] = []
    real_init = pygame.mixer.init

    def slow_init(*args, **kwargs):
        opened_in.append(threading.current_thread().name)
        assert gate.wait(DEADLINE_SECONDS)
        return real_init(*args, **kwargs)

    monkeypatch.setattr(pygame.mixer, "init", slow_init)
    audio.wake()  # returns at once
    assert not audio.available
    threading.Timer(0.05, gate.set).start()
    audio.play("start", 0.5)  # waits (at most WAKE_WAIT_S) for the wake, then plays
    assert opened_in == ["breathring-audio-wake"]
    assert audio.available and pygame.mixer.get_busy()
    audio.close()


def test_a_failed_wake_is_an_outage_warned_once_and_retried_later(monkeypatch, clock, caplog):
    audio = PygameAudio(AudioConfig(), clock)
    assert audio.sleep() is True
    monkeypatch.setenv("SDL_AUDIODRIVER", "no-such-driver")
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        audio.play("start", 0.5)
        audio.play("start", 0.5)
    assert not audio.available and not audio.asleep
    assert len(_warnings(caplog)) == 1
    assert audio.open_attempts == 2  # the second play waits for RETRY_SECONDS
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    clock.advance(RETRY_SECONDS)
    audio.play("start", 0.5)
    assert audio.available and audio.open_attempts == 3
    audio.close()


def test_silent_audio_sleeps_and_wakes_as_a_no_op(clock):
    silent = SilentAudio()
    assert silent.sleep() is True
    silent.wake()
    assert not silent.available and pygame.mixer.get_init() is None


def test_sleep_while_the_first_open_is_under_way_is_refused_until_it_is_done(monkeypatch, clock):
    gate = threading.Event()
    real_import = hw_audio._import_pygame

    def slow_import():
        assert gate.wait(DEADLINE_SECONDS)
        return real_import()

    monkeypatch.setattr(hw_audio, "_import_pygame", slow_import)
    audio = PygameAudio(AudioConfig(), clock, background=True)
    assert audio.sleep() is False  # not open yet: the service asks again later
    gate.set()
    assert audio.wait_open(DEADLINE_SECONDS) is True
    assert audio.sleep() is True
    assert pygame.mixer.get_init() is None
    audio.close()
