"""Reloading the configuration (SIGHUP): a bad file keeps the old one; a held button and [audio]."""

from __future__ import annotations

import logging
from datetime import datetime

import pygame  # a hard dependency: a broken install must fail here, not skip
from testkit.mock_hw import RecordingAudio
from testkit.service_loop import (
    UTC,
    make_service,
    run_for,
)

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.hw.audio import PygameAudio, SilentAudio


def test_reload_keeps_old_config_when_the_new_one_is_bad(tmp_path, caplog):
    path = tmp_path / "config.toml"
    path.write_text("[ring]\nbrightness = 0.3\n")
    cfg = parse_config(path.read_text())
    service, _clock, _hw = make_service(cfg)
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


NOON = datetime(2026, 1, 15, 12, 10, tzinfo=UTC)


def test_a_reload_while_the_button_is_held_keeps_the_hold(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text("[ring]\nbrightness = 0.3\n")
    service, clock, hw = make_service(parse_config(path.read_text()))
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
    service, _clock, _hw = make_service(Config())
    service.config_path = path
    before = service.decoder
    path.write_text("[button]\nhold_seconds = 3\n")
    assert service.reload() is True
    assert service.decoder is not before and service.decoder.hold_seconds == 3.0


def test_reload_turns_the_real_mixer_off_and_on_again(tmp_path, caplog, monkeypatch):
    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    path = tmp_path / "config.toml"
    path.write_text('[audio]\ndriver = "dummy"\n')
    cfg = parse_config(path.read_text())
    clock = FakeClock(NOON)
    audio = PygameAudio(cfg.audio, clock)
    assert audio.available and pygame.mixer.get_init() is not None
    service, _clock, _bench = make_service(cfg, audio=audio, kind="pi")  # the device's audio path
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

    service, _clock, _bench = make_service(Config(), audio_opener=opener)
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
