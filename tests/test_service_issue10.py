"""The service loop (virtual time, mock pins and ring) on issue 10's findings: a reload
applies `[audio]` and keeps a held button, a hold never plays `start`, close blanks the ring.
"""

from __future__ import annotations

import dataclasses
import logging
import queue
import signal
from datetime import datetime
from zoneinfo import ZoneInfo

import pygame  # a hard dependency: a broken install must fail here, not skip
from testkit import service_loop as steps
from testkit.mock_hw import RecordingAudio, make_bench

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.hw.audio import PygameAudio, SilentAudio
from breathring.service import Service

UTC = ZoneInfo("UTC")
NOON = datetime(2026, 1, 15, 12, 10, tzinfo=UTC)


def make(cfg: Config, audio=None, audio_opener=None, kind="mock"):
    """A service on the real NeoPixelRing and GpioButton over mock buses (tests/mock_hw.py).

    Returns the service, its clock and the bench: `.button` is a hand on the mock
    pin, `.ring` what went over the wire, `.audio` the cues asked for.
    """
    clock = FakeClock(NOON)
    bench = make_bench(cfg, clock)
    bench.hardware = dataclasses.replace(bench.hardware, audio=audio or bench.audio, kind=kind)
    if audio is not None:
        bench.audio = audio
    hw = bench.hardware

    def wait(timeout: float):
        try:
            return hw.button.events.get_nowait()
        except queue.Empty:
            clock.advance(timeout)
            return None

    extra = {} if audio_opener is None else {"audio_opener": audio_opener}
    service = Service(cfg, hw, clock, wait=wait, **extra)
    service.start()
    return service, clock, bench


def run_for(service: Service, clock: FakeClock, seconds: float) -> None:
    steps.run_for(service, clock, seconds, limit=1_000_000)


# --------------------------------------------------------------- bug 9: held button


def test_a_reload_while_the_button_is_held_keeps_the_hold(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[ring]\nbrightness = 0.3\n")
    service, clock, hw = make(parse_config(path.read_text()))
    service.config_path = path
    assert service.engine.controller.reminders_enabled
    hw.button.down()
    run_for(service, clock, 1.0)
    path.write_text("[ring]\nbrightness = 0.5\n")  # not a button key
    assert service.reload() is True
    run_for(service, clock, 1.5)  # 2.5 s down in all: a hold (button.hold_seconds = 2)
    assert service.engine.controller.reminders_enabled is False
    hw.button.up()
    run_for(service, clock, 3.0)
    assert "start" not in hw.audio.cues and "confirm-off" in hw.audio.cues


def test_a_reload_that_changes_the_button_starts_a_new_decoder(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("")
    service, _clock, _hw = make(Config())
    service.config_path = path
    before = service.decoder
    path.write_text("[button]\nhold_seconds = 3\n")
    assert service.reload() is True
    assert service.decoder is not before and service.decoder.hold_seconds == 3.0


# ------------------------------------------------------ bug 13: hold, then the blink


def test_a_hold_on_the_button_blinks_without_start_or_end():
    service, clock, hw = make(Config())
    hw.button.down()
    run_for(service, clock, 0.5)
    assert hw.ring.lit > 0  # the light may start at once...
    assert hw.audio.cues == []  # ...but not the sound
    run_for(service, clock, 2.0)
    hw.button.up()
    run_for(service, clock, 3.0)
    assert hw.audio.cues == ["confirm-off"]


def test_a_short_press_on_the_button_plays_start_at_its_release():
    service, clock, hw = make(Config())
    hw.button.down()
    run_for(service, clock, 0.2)
    assert hw.audio.cues == []
    hw.button.up()
    run_for(service, clock, 0.1)
    assert hw.audio.cues == ["start"]
    run_for(service, clock, 40)
    assert hw.audio.cues.count("start") == 1 and hw.audio.cues[-1] == "end"


# ------------------------------------------------------------------ bug 8: [audio]


def test_reload_turns_the_real_mixer_off_and_on_again(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    path = tmp_path / "config.toml"
    path.write_text('[audio]\ndriver = "dummy"\n')
    cfg = parse_config(path.read_text())
    clock = FakeClock(NOON)
    audio = PygameAudio(cfg.audio, clock)
    assert audio.available and pygame.mixer.get_init() is not None
    service, _clock, _bench = make(cfg, audio=audio, kind="pi")  # the device's audio path
    service.config_path = path
    caplog.set_level(logging.INFO, logger="breathring.service")
    path.write_text('[audio]\ndriver = "dummy"\nenabled = false\n')
    assert service.reload() is True
    assert isinstance(service.hw.audio, SilentAudio)
    assert pygame.mixer.get_init() is None  # the old mixer is closed
    assert "audio.enabled" in caplog.text
    path.write_text('[audio]\ndriver = "dummy"\nvolume = 0.3\n')
    assert service.reload() is True
    assert isinstance(service.hw.audio, PygameAudio) and service.hw.audio.available
    assert "audio.enabled" in caplog.text and "audio.volume" in caplog.text
    service.hw.audio.close()


def test_reload_with_only_the_volume_changed_keeps_the_mixer(tmp_path, caplog):
    path = tmp_path / "config.toml"
    path.write_text("")
    opened = []

    def opener(settings):
        opened.append(settings)
        return RecordingAudio(FakeClock(NOON), available=settings.enabled)

    service, _clock, _bench = make(Config(), audio_opener=opener)
    service.config_path = path
    first = service.hw.audio
    caplog.set_level(logging.INFO, logger="breathring.service")
    path.write_text("[audio]\nvolume = 0.2\n")
    assert service.reload() is True
    assert service.hw.audio is first and opened == []
    assert "audio.volume" in caplog.text
    path.write_text("[audio]\nvolume = 0.2\nenabled = false\n")
    assert service.reload() is True
    assert service.hw.audio is not first and first.closed and not service.hw.audio.available
    assert len(opened) == 1 and opened[0].enabled is False


# ------------------------------------------------------ close: the final blank


def test_close_blanks_a_lit_ring():
    service, clock, hw = make(Config())
    hw.button.press()
    run_for(service, clock, 5)
    assert hw.ring.lit > 0
    writes = hw.ring.writes
    service.close()
    assert hw.ring.lit == 0 and hw.ring.closed
    # The first frame after the lit ones is the blank (the neopixel library's own
    # deinit may send one more, also dark).
    after = hw.ring.frames[writes - hw.ring.writes :]
    assert 1 <= len(after) <= 2 and all(sum(frame) == 0 for frame in after)


def test_sigterm_fades_a_lit_session_over_several_frames():
    service, clock, hw = make(Config())
    hw.button.press()
    run_for(service, clock, 5)
    before = hw.ring.writes
    lit = sum(hw.ring.frames[-1])
    service.request_stop(signal.SIGTERM)
    while not service.step():
        pass
    fade = [sum(f) for f in hw.ring.frames[before - hw.ring.writes :]]
    assert fade[-1] == 0
    # A fade, not a cut: several frames step down from the lit level to dark.
    assert len(fade) >= 0.3 * Config().ring.fps
    assert sum(1 for v in fade if 0.1 * lit < v < 0.9 * lit) >= 5
    assert max(a - b for a, b in zip([lit, *fade], fade, strict=False)) < 0.3 * lit
