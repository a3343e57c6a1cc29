"""Settings owned by the service: validation like the config file, the file, the overlay."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from breathring.config import parse_config
from breathring.settings import (
    SettingError,
    Settings,
    SettingsCorrupt,
    SettingsFile,
    config_file_keys,
    parse_settings,
)


def make(tmp_path, config_text: str = "") -> Settings:
    cfg_path = tmp_path / "config.toml"
    cfg_path.write_text(config_text)
    settings = Settings(
        parse_config(config_text), SettingsFile(tmp_path / "state"), config_file_keys(cfg_path)
    )
    settings.load()
    return settings


def test_set_validates_like_the_config_file_and_persists(tmp_path):
    settings = make(tmp_path)
    keys, cfg = settings.proposed_set({"ring.brightness": 0.3})
    settings.commit_set(keys, cfg)
    assert settings.cfg.ring.brightness == 0.3
    text = (tmp_path / "state" / "settings.toml").read_text()
    assert "[ring]\nbrightness = 0.3\n" in text
    # A fresh load over the same config file gets it back.
    again = make(tmp_path)
    assert again.cfg.ring.brightness == 0.3
    assert again.listing()["ring.brightness"] == {"value": 0.3, "source": "settings"}


def test_bad_value_names_key_value_and_allowed_and_changes_nothing(tmp_path):
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"ring.brightness": 7})
    assert err.value.code == "invalid" and err.value.key == "ring.brightness"
    assert str(err.value) == "ring.brightness = 7 is out of range; allowed 0.01-1"
    assert settings.cfg.ring.brightness == 0.5
    assert not (tmp_path / "state" / "settings.toml").exists()


@pytest.mark.parametrize(
    "key", ["ring.pixels", "ring.driver", "ring.pin", "ring.order", "button.pin"]
)
def test_keys_needing_a_restart_are_refused(tmp_path, key):
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({key: 30})
    assert err.value.code == "restart"
    assert key in str(err.value) and "restart" in str(err.value)


def test_unknown_key_suggests_the_right_one(tmp_path):
    with pytest.raises(SettingError) as err:
        make(tmp_path).proposed_set({"ring.brightnes": 0.3})
    assert err.value.code == "unknown"
    assert str(err.value) == "ring.brightnes is not a known key; did you mean ring.brightness?"


def test_colour_is_stored_normalised_and_unset_returns_to_the_config_value(tmp_path):
    settings = make(tmp_path, '[ring]\ncolor = "#112233"\n')
    keys, cfg = settings.proposed_set({"ring.color": "#ff8c32"})
    settings.commit_set(keys, cfg)
    assert settings.listing()["ring.color"] == {"value": "#FF8C32", "source": "settings"}
    _key, cfg, overrides = settings.proposed_unset("ring.color")
    settings.commit_unset(cfg, overrides)
    assert settings.listing()["ring.color"] == {"value": "#112233", "source": "config"}
    assert settings.listing()["ring.fps"] == {"value": 100, "source": "default"}


def test_corrupt_file_falls_back_to_the_config_with_one_warning(tmp_path, caplog):
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.toml").write_text("[ring\nbrightness = 0.3\n")
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        settings = make(tmp_path, "[ring]\nbrightness = 0.4\n")
    assert settings.cfg.ring.brightness == 0.4
    assert len(caplog.records) == 1 and "corrupt settings" in caplog.records[0].message
    assert not (state / "settings.toml").exists()
    assert (state / "settings.toml.corrupt").read_text().startswith("[ring\n")


def test_bad_value_in_the_file_is_corrupt_too():
    with pytest.raises(Exception, match=r"ring.brightness"):
        parse_settings("[ring]\nbrightness = 9\n", "settings.toml")
    with pytest.raises(Exception, match=r"ring.pixels"):
        parse_settings("[ring]\npixels = 30\n", "settings.toml")


def test_a_setting_that_no_longer_fits_the_config_is_skipped_not_fatal(tmp_path, caplog):
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.toml").write_text("[reminder]\nseconds = 100.0\n[ring]\nfps = 50\n")
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        settings = make(tmp_path, "[reminder]\nevery_minutes = 1\nseconds = 30.0\n")
    assert settings.cfg.reminder.seconds == 30.0  # 100 s pulses cannot fit a 1-minute period
    assert settings.cfg.ring.fps == 50
    assert "reminder.seconds" in caplog.text
    assert (state / "settings.toml").exists()


def test_every_key_is_listed_with_a_source(tmp_path):
    listing = make(tmp_path).listing()
    # 11 ring, 10 session, 6 reminder, 4 night, 8 audio, 5 button, 5 breath_sensor
    assert len(listing) == 49
    assert "ring.brightness" in listing and "button.double_seconds" in listing
    assert listing["session.inhale"] == {"value": None, "source": "default"}
    assert {item["source"] for item in listing.values()} == {"default"}


def test_mqtt_keys_belong_to_the_bridge_not_the_service(tmp_path):
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"mqtt.host": "broker.lan"})
    assert err.value.code == "restart" and err.value.key == "mqtt.host"
    assert str(err.value) == (
        "mqtt.host is read by breathring-mqtt from the config file, not by the service; "
        "set it there and restart: sudo systemctl restart breathring-mqtt"
    )
    assert not any(key.startswith("mqtt.") for key in settings.listing())


# -- written-down values: refusals of set and unset, word for word ------------------------------


def test_unset_refuses_what_set_refuses_word_for_word(tmp_path):
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_unset("ring.brightnes")
    assert (err.value.key, err.value.code) == ("ring.brightnes", "unknown")
    assert str(err.value) == "ring.brightnes is not a known key; did you mean ring.brightness?"
    with pytest.raises(SettingError) as err:
        settings.proposed_unset(42)
    assert (err.value.key, err.value.code) == ("42", "unknown")
    assert str(err.value) == "42 is not a known key; see `breathring settings` for the keys"
    with pytest.raises(SettingError) as err:
        settings.proposed_unset("mqtt.host")
    assert (err.value.key, err.value.code) == ("mqtt.host", "restart")
    assert str(err.value) == (
        "mqtt.host is read by breathring-mqtt from the config file, not by the service; "
        "set it there and restart: sudo systemctl restart breathring-mqtt"
    )
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"ring.pixels": 30})
    assert (err.value.key, err.value.code) == ("ring.pixels", "restart")
    assert str(err.value) == (
        "ring.pixels cannot change while the service runs (the ring's driver is opened for a "
        "fixed number of pixels); set it in the config file and restart: "
        "sudo systemctl restart breathring"
    )


def test_unset_gives_the_key_the_config_without_it_and_the_other_settings(tmp_path):
    settings = make(tmp_path, "[ring]\nbrightness = 0.4\n")
    for key, value in (("ring.brightness", 0.3), ("ring.color", "#ff8c32")):
        settings.commit_set(*settings.proposed_set({key: value}))
    key, cfg, overrides = settings.proposed_unset("ring.brightness")
    assert (key, cfg.ring.brightness, cfg.ring.color) == ("ring.brightness", 0.4, (255, 140, 50))
    assert overrides == {"ring.color": "#FF8C32"}
    assert settings.cfg.ring.brightness == 0.3  # nothing changes before the commit
    settings.commit_unset(cfg, overrides)
    assert settings.cfg.ring.brightness == 0.4
    assert (tmp_path / "state" / "settings.toml").read_text().count("brightness") == 0
    assert make(tmp_path, "[ring]\nbrightness = 0.4\n").listing()["ring.color"] == {
        "value": "#FF8C32",
        "source": "settings",
    }


def test_unset_that_would_leave_the_settings_invalid_is_refused_and_changes_nothing(tmp_path):
    settings = make(tmp_path, "[reminder]\nevery_minutes = 1\nseconds = 30.0\n")
    settings.commit_set(*settings.proposed_set({"reminder.every_minutes": 10}))
    settings.commit_set(*settings.proposed_set({"reminder.seconds": 100.0}))
    with pytest.raises(SettingError) as err:
        settings.proposed_unset("reminder.every_minutes")
    assert (err.value.key, err.value.code) == ("reminder.every_minutes", "invalid")
    assert str(err.value) == (
        "unset reminder.every_minutes would leave the settings invalid: reminder.seconds = 100"
        " is not shorter than the 60 s between pulses (reminder.every_minutes = 1)"
    )
    assert (settings.cfg.reminder.every_minutes, settings.cfg.reminder.seconds) == (10, 100.0)


def test_the_load_warnings_word_for_word(tmp_path, caplog):
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.toml").write_text("[ring\n")
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        make(tmp_path)
    (corrupt,) = [r.getMessage() for r in caplog.records]
    assert corrupt.startswith("ignoring corrupt settings (")
    assert corrupt.endswith(f"); moved to {state / 'settings.toml.corrupt'}; using the config file")
    caplog.clear()
    (state / "settings.toml").write_text("[reminder]\nseconds = 100.0\n")
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        settings = make(tmp_path, "[reminder]\nevery_minutes = 1\nseconds = 30.0\n")
    (skipped,) = [r.getMessage() for r in caplog.records]
    assert skipped == (
        f"settings that no longer fit the config file are not applied: {state / 'settings.toml'}:"
        " reminder.seconds = 100 is not shorter than the 60 s between pulses"
        " (reminder.every_minutes = 1)"
    )
    assert settings.listing()["reminder.seconds"] == {"value": 30.0, "source": "config"}


def test_a_new_pattern_drops_the_saved_keys_of_the_old_one_and_keeps_the_rest(tmp_path):
    settings = make(
        tmp_path, '[session]\npattern = "custom"\ninhale = 2.0\nexhale = 3.0\nbreaths = 10\n'
    )
    for key, value in (("session.inhale", 4.0), ("session.breaths", 12), ("ring.brightness", 0.3)):
        settings.commit_set(*settings.proposed_set({key: value}))
    settings.commit_set(*settings.proposed_set({"session.pattern": "box"}))
    assert settings.overrides == {
        "session.breaths": 12,
        "ring.brightness": 0.3,
        "session.pattern": "box",
    }
    text = (tmp_path / "state" / "settings.toml").read_text()
    assert text.endswith('[ring]\nbrightness = 0.3\n\n[session]\npattern = "box"\nbreaths = 12\n')


def test_a_settings_file_that_cannot_be_used_says_why(tmp_path):
    store = SettingsFile(tmp_path)
    path = tmp_path / "settings.toml"
    path.write_bytes(b"\xff\xfe")
    with pytest.raises(SettingsCorrupt, match=rf"^{re.escape(str(path))}: not UTF-8 text$"):
        store.read()
    path.write_bytes(b"#" * (64 * 1024 + 1))
    with pytest.raises(
        SettingsCorrupt, match=rf"^{re.escape(str(path))}: larger than 65536 bytes$"
    ):
        store.read()
    path.write_bytes(b"#" * (64 * 1024))  # exactly the most: read (a comment, no keys)
    assert store.read() == {}
    path.unlink()
    path.mkdir()
    with pytest.raises(
        SettingsCorrupt, match=rf"^{re.escape(str(path))}: cannot read: Is a directory$"
    ):
        store.read()
    path.rmdir()
    path.write_text("[ring]\nbrightness = 9\n")
    with pytest.raises(SettingsCorrupt, match=rf"^{re.escape(str(path))}"):
        store.read()


def test_set_without_a_value_points_to_unset_and_the_file_says_what_it_is(tmp_path):
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"ring.brightness": None})
    assert (err.value.key, err.value.code) == ("ring.brightness", "invalid")
    assert str(err.value) == "ring.brightness needs a value; to remove a setting use unset"
    settings.commit_set(*settings.proposed_set({"ring.brightness": 0.3}))
    assert (tmp_path / "state" / "settings.toml").read_text() == (
        "# Set by `breathring set` (or the web page); overrides the config file key by key.\n"
        "\n[ring]\nbrightness = 0.3\n"
    )


# -- written-down values: what the mutation run of settings.py left open -----------------------


def test_a_key_of_the_bridges_section_is_the_bridges_at_any_depth(tmp_path: Path) -> None:
    with pytest.raises(SettingError) as err:
        make(tmp_path).proposed_set({"mqtt.tls.ca": "ca.pem"})
    assert (err.value.key, err.value.code) == ("mqtt.tls.ca", "restart")
    assert str(err.value) == (
        "mqtt.tls.ca is read by breathring-mqtt from the config file, not by the service; "
        "set it there and restart: sudo systemctl restart breathring-mqtt"
    )


def test_a_refusal_carries_its_message_as_any_exception_does(tmp_path: Path) -> None:
    with pytest.raises(SettingError) as err:
        make(tmp_path).proposed_set({"ring.brightness": 7})
    assert err.value.args == ("ring.brightness = 7 is out of range; allowed 0.01-1",)


def test_a_settings_text_that_cannot_be_used_says_why() -> None:
    with pytest.raises(SettingsCorrupt) as err:
        parse_settings("brightness = 0.3\n", "state/settings.toml")
    assert str(err.value) == "state/settings.toml: brightness is not a [section]"
    with pytest.raises(SettingsCorrupt) as err:
        parse_settings("[ring\n", "state/settings.toml")
    assert str(err.value).startswith("state/settings.toml: invalid TOML: ")
    assert str(err.value).endswith(" (at line 1, column 6)")
    with pytest.raises(SettingsCorrupt) as err:
        parse_settings("[ring]\nbrightness = 9\n", "state/settings.toml")
    assert str(err.value) == "state/settings.toml: ring.brightness is out of range; allowed 0.01-1"


def test_unset_leaves_the_other_settings_in_force(tmp_path: Path) -> None:
    settings = make(tmp_path)
    for key, value in (("ring.brightness", 0.3), ("ring.color", "#ff8c32")):
        settings.commit_set(*settings.proposed_set({key: value}))
    settings.commit_unset(*settings.proposed_unset("ring.brightness")[1:])
    assert (settings.cfg.ring.brightness, settings.cfg.ring.color) == (0.5, (255, 140, 50))
    assert settings.listing()["ring.color"] == {"value": "#FF8C32", "source": "settings"}


def test_unset_of_a_key_that_needs_a_restart_changes_nothing(tmp_path: Path) -> None:
    settings = make(tmp_path, "[ring]\npixels = 24\n")
    settings.commit_set(*settings.proposed_set({"ring.brightness": 0.3}))
    key, cfg, overrides = settings.proposed_unset("ring.pixels")
    assert (key, cfg.ring.pixels, cfg.ring.brightness) == ("ring.pixels", 24, 0.3)
    assert overrides == {"ring.brightness": 0.3}


def test_settings_without_a_file_work_in_memory() -> None:
    settings = Settings(parse_config("[reminder]\nevery_minutes = 1\nseconds = 30.0\n"))
    assert settings.load().reminder.seconds == 30.0
    assert settings.listing()["reminder.seconds"] == {"value": 30.0, "source": "default"}
    settings.commit_set(*settings.proposed_set({"reminder.every_minutes": 10}))
    settings.commit_set(*settings.proposed_set({"reminder.seconds": 100.0}))
    assert settings.listing()["reminder.seconds"] == {"value": 100.0, "source": "settings"}
    with pytest.raises(SettingError) as err:
        settings.proposed_unset("reminder.every_minutes")
    assert str(err.value) == (
        "unset reminder.every_minutes would leave the settings invalid: reminder.seconds = 100"
        " is not shorter than the 60 s between pulses (reminder.every_minutes = 1)"
    )


def test_a_corrupt_file_that_cannot_be_moved_is_left_in_place_and_named(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    (state / "settings.toml.corrupt" / "older").mkdir(parents=True)  # a rename onto it fails
    (state / "settings.toml").write_text("[ring]\nbrightness = 9\n")
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        settings = make(tmp_path, "[ring]\nbrightness = 0.4\n")
    assert [r.getMessage() for r in caplog.records] == [
        f"ignoring corrupt settings ({state / 'settings.toml'}: ring.brightness is out of range;"
        " allowed 0.01-1); left in place; using the config file"
    ]
    assert (state / "settings.toml").read_text() == "[ring]\nbrightness = 9\n"
    assert settings.cfg.ring.brightness == 0.4
    assert settings.listing()["ring.brightness"] == {"value": 0.4, "source": "config"}


def test_every_setting_that_no_longer_fits_is_named_in_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / "settings.toml").write_text(
        "[ring]\nstart_pixel = 20\n\n[reminder]\nseconds = 100.0\n"
    )
    with caplog.at_level(logging.WARNING, "breathring.settings"):
        make(tmp_path, "[ring]\npixels = 12\n[reminder]\nevery_minutes = 1\nseconds = 30.0\n")
    path = state / "settings.toml"
    assert [r.getMessage() for r in caplog.records] == [
        "settings that no longer fit the config file are not applied: "
        f"{path}: ring.start_pixel = 20 is out of range; allowed 0-11 (0 to ring.pixels - 1); "
        f"{path}: reminder.seconds = 100 is not shorter than the 60 s between pulses"
        " (reminder.every_minutes = 1)"
    ]


def test_a_set_after_a_restart_keeps_the_settings_saved_before(tmp_path: Path) -> None:
    before = make(tmp_path)
    before.commit_set(*before.proposed_set({"ring.brightness": 0.3}))
    settings = make(tmp_path)  # the service started again
    assert settings.overrides == {"ring.brightness": 0.3}
    settings.commit_set(*settings.proposed_set({"ring.color": "#ff8c32"}))
    text = (tmp_path / "state" / "settings.toml").read_text()
    assert text.endswith('\n[ring]\nbrightness = 0.3\ncolor = "#FF8C32"\n')


def test_a_new_config_file_is_laid_under_the_saved_settings(tmp_path: Path) -> None:
    settings = make(tmp_path, "[ring]\nbrightness = 0.4\n")
    settings.commit_set(*settings.proposed_set({"ring.brightness": 0.3}))
    new_text = '[ring]\nbrightness = 0.2\ncolor = "#112233"\n'
    (tmp_path / "config.toml").write_text(new_text)
    cfg = settings.rebase(parse_config(new_text), config_file_keys(tmp_path / "config.toml"))
    assert (cfg.ring.brightness, cfg.ring.color) == (0.3, (17, 34, 51))
    assert settings.cfg is cfg
    listing = settings.listing()
    assert listing["ring.brightness"] == {"value": 0.3, "source": "settings"}
    assert listing["ring.color"] == {"value": "#112233", "source": "config"}
    assert listing["ring.fps"] == {"value": 100, "source": "default"}
    settings.commit_unset(*settings.proposed_unset("ring.brightness")[1:])
    assert settings.cfg.ring.brightness == 0.2


def test_a_custom_pattern_and_its_breaths_are_set_and_saved_together(tmp_path: Path) -> None:
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"session.pattern": "custom"})
    assert (err.value.key, err.value.code) == ("session.pattern", "invalid")
    assert str(err.value) == (
        'session.pattern = "custom" needs session.inhale and session.exhale (seconds, 0.5-30)'
    )
    keys, cfg = settings.proposed_set(
        {"session.pattern": "custom", "session.inhale": 4, "session.exhale": 6.5}
    )
    settings.commit_set(keys, cfg)
    assert keys == ["session.pattern", "session.inhale", "session.exhale"]
    assert (cfg.session.pattern, cfg.session.inhale, cfg.session.exhale) == ("custom", 4.0, 6.5)
    assert make(tmp_path).overrides == {
        "session.pattern": "custom",
        "session.inhale": 4.0,
        "session.exhale": 6.5,
    }


def test_several_keys_are_refused_together_naming_the_one_at_fault(tmp_path: Path) -> None:
    settings = make(tmp_path)
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"audio.volume": 0.2, "ring.brightness": 7})
    assert (err.value.key, err.value.code) == ("ring.brightness", "invalid")
    assert str(err.value) == "ring.brightness = 7 is out of range; allowed 0.01-1"
    with pytest.raises(SettingError) as err:
        settings.proposed_set({"audio.volume": 0.2, "ring.pixels": 30})
    assert (err.value.key, err.value.code) == ("ring.pixels", "restart")
    assert settings.overrides == {}
    assert not (tmp_path / "state" / "settings.toml").exists()


def test_unset_of_a_saved_custom_pattern_takes_its_saved_breaths(tmp_path: Path) -> None:
    settings = make(tmp_path, '[session]\npattern = "box"\n')
    settings.commit_set(
        *settings.proposed_set(
            {"session.pattern": "custom", "session.inhale": 4, "session.exhale": 6}
        )
    )
    settings.commit_set(*settings.proposed_set({"ring.brightness": 0.3}))
    key, cfg, overrides = settings.proposed_unset("session.pattern")
    assert (key, cfg.session.pattern, cfg.session.inhale) == ("session.pattern", "box", None)
    assert overrides == {"ring.brightness": 0.3}


def test_unset_of_the_pattern_over_a_custom_file_keeps_the_saved_breaths(tmp_path: Path) -> None:
    settings = make(tmp_path, '[session]\npattern = "custom"\ninhale = 2.0\nexhale = 3.0\n')
    settings.commit_set(*settings.proposed_set({"session.inhale": 5}))
    _key, cfg, overrides = settings.proposed_unset("session.pattern")
    assert (cfg.session.pattern, cfg.session.inhale, cfg.session.exhale) == ("custom", 5.0, 3.0)
    assert overrides == {"session.inhale": 5.0}
