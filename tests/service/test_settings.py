"""Settings at run time: set, refuse with key and code, persist, fall back on a corrupt file."""

from __future__ import annotations

from testkit.process import SHORT_SESSION, CliService
from testkit.service_loop import (
    control,
    make_service_with_settings,
    run_for,
)

from breathring.config import Config


def test_set_brightness_during_a_session_keeps_it_going_and_dims_the_next_frame(tmp_path):
    service, clock, hw = make_service_with_settings(tmp_path, config="")
    hw.button.press()
    run_for(service, clock, 4.0)  # into the first in-breath
    before = max(max(p) for p in hw.ring.last)
    reply = control(service, cmd="set", key="ring.brightness", value=0.1)
    assert reply == {"ok": True, "key": "ring.brightness", "value": 0.1}
    run_for(service, clock, 0.02)
    after = max(max(p) for p in hw.ring.last)
    assert service.engine.controller.state == "session"
    assert 0 < after < before / 2
    assert "brightness = 0.1" in (tmp_path / "settings.toml").read_text()


def test_set_refusals_carry_key_and_code(tmp_path):
    service, _clock, _hw = make_service_with_settings(tmp_path)
    bad = control(service, cmd="set", key="ring.brightness", value=7)
    assert bad["ok"] is False and bad["code"] == "invalid" and bad["key"] == "ring.brightness"
    assert "ring.brightness = 7" in bad["error"]
    restart = control(service, cmd="set", key="ring.pixels", value=30)
    assert restart["code"] == "restart"
    assert control(service, cmd="set", key="nope.key", value=1)["code"] == "unknown"
    assert service.cfg.ring.brightness == 0.5
    assert not (tmp_path / "settings.toml").exists()
    listing = control(service, cmd="settings")
    assert listing["settings"]["ring.brightness"] == {"value": 0.5, "source": "default"}
    assert "ring.pixels" in listing["restart_keys"]


def test_corrupt_settings_file_gives_the_config_values(tmp_path, caplog):
    (tmp_path / "settings.toml").write_bytes(b"\xff\xfe not toml")
    service, _clock, _hw = make_service_with_settings(tmp_path, config="[ring]\nbrightness = 0.4\n")
    assert service.cfg.ring.brightness == 0.4
    assert "corrupt settings" in caplog.text
    assert (tmp_path / "settings.toml.corrupt").exists()


def test_config_default_is_used_without_settings(tmp_path):
    assert Config().ring.brightness == 0.5  # the value the tests above start from


def test_settings_set_refuse_persist_and_fall_back(cli_service):
    cli_service.config.write_text(SHORT_SESSION + "[night]\nbrightness = 0.04\n")
    cli_service.start()
    ok = cli_service.cli("set", "ring.brightness", "0.3")
    assert ok.returncode == 0, ok.stderr
    bad = cli_service.cli("set", "ring.brightness", "7")
    assert bad.returncode == 78 and "ring.brightness" in bad.stderr
    assert len(bad.stderr.strip().splitlines()) == 1
    pixels = cli_service.cli("set", "ring.pixels", "30")
    assert pixels.returncode == 78 and "restart" in pixels.stderr
    colour = cli_service.cli("set", "ring.color", "#FF8C32")  # a bare word: taken as a string
    assert colour.returncode == 0, colour.stderr
    settings = cli_service.json("settings")["settings"]
    assert settings["ring.brightness"] == {"value": 0.3, "source": "settings"}
    assert settings["ring.color"] == {"value": "#FF8C32", "source": "settings"}
    assert settings["night.brightness"] == {"value": 0.04, "source": "config"}
    assert settings["ring.pixels"] == {"value": 24, "source": "default"}

    cli_service.stop()
    cli_service.start()  # survives a restart
    assert cli_service.json("settings")["settings"]["ring.brightness"]["value"] == 0.3
    assert cli_service.cli("unset", "ring.color").returncode == 0
    assert cli_service.json("settings")["settings"]["ring.color"]["source"] == "default"

    cli_service.stop()
    (cli_service.state / "settings.toml").write_text("[ring]\nbrightness = \n")
    cli_service.start()
    settings = cli_service.json("settings")["settings"]
    assert settings["ring.brightness"] == {"value": 0.5, "source": "default"}
    assert settings["night.brightness"] == {"value": 0.04, "source": "config"}
    stderr = cli_service.stop()
    assert stderr.count("corrupt settings") == 1 and "Traceback" not in stderr
    assert (cli_service.state / "settings.toml.corrupt").exists()


def test_a_custom_pattern_is_set_with_its_breaths_and_kept_over_a_restart(cli_service):
    cli_service.config.write_text("[session]\nbreaths = 1\n")
    cli_service.start()
    alone = cli_service.cli("set", "session.pattern", "custom")
    assert alone.returncode == 78
    assert alone.stderr == (
        'breathring: session.pattern = "custom" needs session.inhale and session.exhale '
        "(seconds, 0.5-30)\n"
    )
    odd = cli_service.cli("set", "session.pattern", "custom", "session.inhale")
    assert (odd.returncode, odd.stderr) == (
        2,
        "breathring: set: session.inhale has no VALUE; give KEY VALUE pairs\n",
    )
    twice = cli_service.cli("set", "session.inhale", "4", "session.inhale", "5")
    assert (twice.returncode, twice.stderr) == (
        2,
        "breathring: set: session.inhale is given twice; give each KEY once\n",
    )
    words = ("session.pattern", "custom", "session.inhale", "4", "session.exhale", "6.5")
    ok = cli_service.cli("set", *words)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout == 'session.pattern = "custom"\nsession.inhale = 4.0\nsession.exhale = 6.5\n'

    cli_service.stop()
    cli_service.start()  # kept: the saved pattern is laid over the config with its breaths
    settings = cli_service.json("settings")["settings"]
    assert [settings[k] for k in ("session.pattern", "session.inhale", "session.exhale")] == [
        {"value": "custom", "source": "settings"},
        {"value": 4.0, "source": "settings"},
        {"value": 6.5, "source": "settings"},
    ]
    assert cli_service.json("status")["next_pattern"] == "custom"
    assert "not applied" not in cli_service.stop()


def test_set_without_a_service_exits_69(tmp_path):
    d = CliService(tmp_path)
    result = d.cli("set", "ring.brightness", "0.3")
    assert result.returncode == 69 and "not running" in result.stderr
