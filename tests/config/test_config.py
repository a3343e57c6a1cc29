"""Tests for breathring.config: defaults, validation messages, round-trips."""

from __future__ import annotations

import dataclasses
import os
import re
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from breathring import config as C
from breathring import patterns
from breathring.config import (
    Config,
    ConfigError,
    HourRange,
    check_file,
    config_path_from,
    default_toml,
    format_color,
    load_config,
    long_pattern,
    parse_config,
    session_pattern,
    to_toml,
    with_values,
)
from breathring.output import OutputStage, PowerBudget
from breathring.scene import Frame

SRC = "config.toml"


def error_of(text: str) -> ConfigError:
    with pytest.raises(ConfigError) as info:
        parse_config(text, SRC)
    message = str(info.value)
    assert "\n" not in message, message
    assert message.startswith(f"{SRC}: "), message
    return info.value


def all_keys() -> set[str]:
    return {
        f"{section.name}.{f.name}"
        for section in dataclasses.fields(Config)
        for f in dataclasses.fields(section.default_factory())  # type: ignore[misc]
    }


# --------------------------------------------------------------------------- defaults


def test_defaults_have_the_documented_values() -> None:
    cfg = Config()
    assert cfg.ring.pixels == 24
    assert cfg.ring.brightness == 0.5
    assert cfg.ring.color == (0x3C, 0x9B, 0xFF)
    assert cfg.ring.order == "GRB"
    assert cfg.ring.pin == "GPIO10"
    assert cfg.ring.driver == "spi"
    assert cfg.session.pattern == "three-breath"
    assert cfg.session.breaths == 3
    assert cfg.session.inhale is None
    assert cfg.session.long_pattern == "coherent"
    assert cfg.reminder.every_minutes == 60
    assert cfg.reminder.active_hours == HourRange(8 * 60, 22 * 60)
    assert cfg.night.hours == HourRange(22 * 60, 7 * 60)
    assert cfg.night.color == (0xFF, 0x8C, 0x32)
    assert cfg.audio.buffer_samples == 1024
    assert cfg.button.pin == "GPIO17"


def test_empty_file_is_the_default_config() -> None:
    assert parse_config("") == Config()
    assert parse_config("# nothing here\n\n[ring]\n") == Config()


def test_default_toml_parses_to_defaults_and_documents_every_key() -> None:
    text = default_toml()
    assert parse_config(text) == Config()
    lines = text.splitlines()
    for dotted in all_keys():
        key = dotted.split(".")[1]
        index = next(i for i, line in enumerate(lines) if re.match(rf"^(# )?{key} = ", line))
        assert lines[index - 1].startswith("# "), f"{dotted} has no comment line"
        assert "allowed" in lines[index - 1]


def test_to_toml_of_defaults_round_trips() -> None:
    assert parse_config(to_toml(Config())) == Config()


def test_to_toml_writes_every_set_key() -> None:
    text = to_toml(Config())
    for dotted in all_keys():
        section, key = dotted.split(".")
        if getattr(getattr(Config(), section), key) is not None:
            assert re.search(rf"^{key} = ", text, re.M), dotted


def test_reference_documents_every_key_and_its_example_parses() -> None:
    doc = (Path(__file__).resolve().parents[2] / "docs" / "configuration.md").read_text()
    sections = re.split(r"^### ", doc, flags=re.M)
    for dotted in all_keys():
        section, key = dotted.split(".")
        body = next(s for s in sections if s.startswith(f"[{section}]"))
        assert f"| `{key}` |" in body, f"{dotted} is not in docs/configuration.md"
    example = re.search(r"## Example.*?```toml\n(.*?)```", doc, re.S)
    assert example is not None
    cfg = parse_config(example.group(1))
    assert (cfg.ring.pixels, cfg.session.hold_in, cfg.reminder.every_minutes) == (16, 2.0, 30)


def test_keys_lists_every_field_once() -> None:
    listed = [k.dotted for k in C.key_infos()]
    assert sorted(listed) == sorted(all_keys())
    assert all(k.doc and k.allowed for k in C.key_infos())


# --------------------------------------------------------------------------- one bad value per key

BAD_VALUES = {
    "ring.pixels": "0",
    "ring.brightness": "0",
    "ring.color": '"#12345"',
    "ring.max_milliamps": "10",
    "ring.milliamps_per_channel": "0.5",
    "ring.idle_milliamps": "11",
    "ring.start_pixel": "-1",
    "ring.fps": "241",
    "ring.order": '"RGBX"',
    "ring.pin": '"GPIO28"',
    "ring.driver": '"bitbang"',
    "session.pattern": '"square"',
    "session.breaths": "101",
    "session.inhale": '"4"',
    "session.hold_in": "true",
    "session.exhale": "[6]",
    "session.hold_out": '"0"',
    "session.long_pattern": '"custom"',
    "session.long_breaths": "0",
    "reminder.enabled": '"yes"',
    "reminder.every_minutes": "45",
    "reminder.active_hours": '"8-22"',
    "reminder.seconds": "4.9",
    "reminder.sound": "1",
    "reminder.trust_clock": '"never"',
    "night.hours": '"22:00-25:00"',
    "night.brightness": "1.01",
    "night.color": '"orange"',
    "night.volume": "-0.1",
    "audio.enabled": '"on"',
    "audio.volume": "1.5",
    "audio.driver": '"alsa;rm"',
    "audio.device": "3",
    "audio.cues_dir": "false",
    "audio.guide_tone": "0",
    "audio.buffer_samples": "1000",
    "audio.idle_close_seconds": "-1",
    "button.pin": '"pin17"',
    "button.hold_seconds": "0.4",
    "button.double_seconds": "2.5",
    "button.bounce_seconds": "0.6",
    "mqtt.host": '"broker lan"',
    "mqtt.port": "65536",
    "mqtt.username": "1",
    "mqtt.password_file": "true",
    "mqtt.tls": '"yes"',
    "mqtt.ca_file": "[]",
    "mqtt.discovery_prefix": '"ha/#"',
    "mqtt.topic": '"home//bedroom"',
    "mqtt.device_id": '"bed/side"',
    "mqtt.keepalive": "4",
    "button.pi_revision": '"a0208z"',
    "session.follow_target": "3.9",
    "session.follow_minutes": "61",
    "breath_sensor.kind": '"radar"',
    "breath_sensor.topic": '"breath/+"',
    "breath_sensor.stale_seconds": "601",
    "breath_sensor.device": '"serial0"',
    "breath_sensor.baud": "100000",
}


def test_bad_value_table_covers_every_key() -> None:
    assert set(BAD_VALUES) == all_keys()


@pytest.mark.parametrize("dotted", sorted(BAD_VALUES))
def test_every_key_rejects_a_bad_value_naming_the_key_and_line(dotted: str) -> None:
    section, key = dotted.split(".")
    err = error_of(f"# a comment\n[{section}]\n{key} = {BAD_VALUES[dotted]}\n")
    assert f"{dotted} = " in str(err)
    assert "allowed" in str(err) or "must be" in str(err)
    assert str(err).endswith("(line 3)")
    assert err.key == dotted
    assert err.line == 3


def test_messages_from_the_brief() -> None:
    assert str(error_of("[ring]\nbrightness = 1.5")) == (
        "config.toml: ring.brightness = 1.5 is out of range; allowed 0.01-1 (line 2)"
    )
    assert str(error_of("[ring]\npixles = 3")) == (
        "config.toml: ring.pixles is not a known key; did you mean ring.pixels? (line 2)"
    )
    assert str(error_of('[ring]\ncolor = "blue"')) == (
        'config.toml: ring.color = "blue" is not a colour; allowed "#RRGGBB", e.g. "#3C9BFF"'
        " (line 2)"
    )
    assert str(error_of('[session]\nbreaths = "three"')) == (
        'config.toml: session.breaths = "three" must be an integer (1-100) (line 2)'
    )


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("[ring]\npixels = true", "ring.pixels = true must be an integer"),
        ("[ring]\npixels = 24.0", "ring.pixels = 24.0 must be an integer"),
        ("[ring]\nbrightness = true", "ring.brightness = true must be a number"),
        ("[ring]\nbrightness = nan", "ring.brightness = nan is out of range"),
        ("[ring]\nmax_milliamps = inf", "ring.max_milliamps = inf is out of range"),
        ('[ring]\ncolor = "3C9BFF"', "is not a colour"),
        ("[ring]\ncolor = [60, 155, 255]", "is not a colour"),
        ("[reminder]\nenabled = 1", "reminder.enabled = 1 must be true or false"),
        ('[ring]\norder = "GBRW"', 'did you mean "GBR"?'),
        ('[session]\npattern = "boxx"', 'did you mean "box"?'),
        ("[audio]\nbuffer_samples = 16384", "a power of two, 256-8192"),
        ('[reminder]\nactive_hours = "08:00-08:00"', "is an empty range"),
        ('[night]\nhours = "24:00-07:00"', "is not an hour range"),
        ('[night]\nhours = "22:60-07:00"', "is not an hour range"),
        ("[night]\nhours = 22", "is not an hour range"),
    ],
)
def test_wrong_types_and_formats(text: str, needle: str) -> None:
    assert needle in str(error_of(text))


def test_an_int_is_accepted_for_a_float_and_stored_as_float() -> None:
    cfg = parse_config("[ring]\nbrightness = 1\nmax_milliamps = 500")
    assert cfg.ring.brightness == 1.0 and isinstance(cfg.ring.brightness, float)
    assert isinstance(cfg.ring.max_milliamps, float)


def test_normalised_values() -> None:
    cfg = parse_config(
        '[ring]\norder = "grbw"\ncolor = "#3c9bff"\ndriver = "PWM"\npin = "D18"\n'
        '[button]\npin = 4\n[audio]\ndriver = "ALSA"\n[night]\nhours = "9:30 - 6:05"\n'
    )
    assert cfg.ring.order == "GRBW"
    assert cfg.ring.color == (0x3C, 0x9B, 0xFF)
    assert cfg.ring.driver == "pwm"
    assert cfg.ring.pin == "GPIO18"
    assert cfg.button.pin == "GPIO4"
    assert cfg.audio.driver == "alsa"
    assert str(cfg.night.hours) == "09:30-06:05"
    assert parse_config('[button]\npin = "gpio22"').button.pin == "GPIO22"


# --------------------------------------------------------------------------- unknown keys


def test_unknown_section_suggests_the_close_one() -> None:
    assert "[rign] is not a known section; did you mean [ring]?" in str(error_of("[rign]\n"))


def test_unknown_section_without_a_close_one_lists_sections() -> None:
    message = str(error_of("[wifi]\nssid = 'x'"))
    assert "allowed sections: ring, session, reminder, night, audio, button, mqtt" in message
    assert message.endswith("(line 1)")


def test_unknown_key_without_a_close_one_lists_keys_or_names_its_section() -> None:
    assert "allowed keys in [button]: pin, hold_seconds" in str(error_of("[button]\nzzz = 1"))
    assert "it belongs in [reminder] or [audio]" in str(error_of("[ring]\nenabled = true"))


def test_key_outside_any_section() -> None:
    err = error_of("\npixels = 12\n")
    assert "did you mean ring.pixels?" in str(err)
    assert err.line == 2


def test_section_that_is_not_a_table() -> None:
    assert "ring = 5 must be a table" in str(error_of("ring = 5"))
    assert "must be a table" in str(error_of("[[ring]]\npixels = 3"))


def test_line_is_found_in_the_right_section() -> None:
    text = "[audio]\nvolume = 0.5\n\n[night]\n  volume = 2\n"
    err = error_of(text)
    assert err.key == "night.volume"
    assert err.line == 5


def test_dotted_keys_and_inline_tables_are_read_and_located() -> None:
    assert parse_config("ring.pixels = 12").ring.pixels == 12
    assert error_of("\nring.pixels = 0").line == 2
    assert parse_config("ring = { pixels = 16 }").ring.pixels == 16
    assert "ring.pixels = 0 is out of range" in str(error_of("ring = { pixels = 0 }"))


def test_first_error_wins() -> None:
    err = error_of("[ring]\npixels = 0\nbrightness = 9\n")
    assert err.key == "ring.pixels"


def test_invalid_toml_names_line_and_column() -> None:
    err = error_of("[ring]\npixels = 24\nbrightness = 0.5.5\n")
    assert re.fullmatch(r"config\.toml: invalid TOML at line 3, column \d+: .+", str(err)), err
    assert err.line == 3


def test_invalid_toml_at_end_of_file() -> None:
    err = error_of("[ring]\npixels =")
    assert "invalid TOML at the end of the file (line 2)" in str(err)


def test_duplicate_key_is_invalid_toml() -> None:
    assert "invalid TOML" in str(error_of("[ring]\npixels = 1\npixels = 2\n"))


def test_utf8_bom_is_accepted() -> None:
    assert parse_config("\ufeff[ring]\npixels = 12\n").ring.pixels == 12


# --------------------------------------------------------------------------- checks across keys


@pytest.mark.parametrize(
    ("text", "key", "needle"),
    [
        ("[ring]\npixels = 12\nstart_pixel = 12", "ring.start_pixel", "allowed 0-11"),
        ("[ring]\nstart_pixel = 30", "ring.start_pixel", "allowed 0-23"),
        ('[ring]\npin = "GPIO18"', "ring.pin", 'cannot be used with ring.driver = "spi"'),
        ('[ring]\ndriver = "pwm"\npin = 5', "ring.pin", '"GPIO12", "GPIO13", "GPIO18"'),
        ("[button]\npin = 10", "button.pin", "is also ring.pin"),
        ("[button]\npin = 9", "button.pin", "held by the SPI bus"),
        ("[ring]\npixels = 500", "ring.max_milliamps", "leaves nothing to light the ring"),
        # 300 mA idle + up to 70.6 mA of dithering (300 x 3 channels x 20/255 mA) > 320 mA.
        (
            "[ring]\npixels = 300\nmax_milliamps = 320",
            "ring.max_milliamps",
            "leaves nothing to light the ring",
        ),
        (
            "[reminder]\nevery_minutes = 1\nseconds = 60",
            "reminder.seconds",
            "not shorter than the 60 s between pulses",
        ),
    ],
)
def test_cross_key_checks(text: str, key: str, needle: str) -> None:
    err = error_of(text)
    assert err.key == key
    assert needle in str(err)


def test_a_budget_the_config_check_accepts_lights_the_ring() -> None:
    """One rule for the budget: what passes the check is never scaled to dark by the output."""
    cfg = parse_config("[ring]\npixels = 300\nmax_milliamps = 372")  # 300 + 70.6 < 372
    ring = cfg.ring
    stage = OutputStage(
        ring.pixels,
        PowerBudget(ring.max_milliamps, ring.milliamps_per_channel, ring.idle_milliamps),
    )
    wire = stage.render(Frame(intensity=1.0, coverage=(1.0,) * 300, color=(1.0, 1.0, 1.0)))
    assert sum(wire) > 0
    assert error_of("[ring]\npixels = 300\nmax_milliamps = 370").key == "ring.max_milliamps"


def test_cross_key_checks_accept_valid_combinations() -> None:
    cfg = parse_config('[ring]\ndriver = "pi5"\npin = 4\n[button]\npin = 9\n')
    assert (cfg.ring.pin, cfg.button.pin) == ("GPIO4", "GPIO9")
    assert parse_config('[ring]\ndriver = "pwm"\npin = 18').ring.pin == "GPIO18"
    assert parse_config("[ring]\npixels = 12\nstart_pixel = 11").ring.start_pixel == 11
    assert parse_config("[reminder]\nevery_minutes = 1\nseconds = 59").reminder.seconds == 59.0


# --------------------------------------------------------------------------- custom pattern


def test_custom_keys_are_refused_with_a_preset() -> None:
    assert str(error_of("[session]\ninhale = 4")) == (
        'config.toml: session.inhale is only used with session.pattern = "custom" (line 2)'
    )
    assert error_of('[session]\npattern = "box"\nhold_out = 1').key == "session.hold_out"


def test_custom_needs_inhale_and_exhale() -> None:
    message = str(error_of('[session]\npattern = "custom"\n'))
    assert "needs session.inhale and session.exhale" in message
    assert "needs session.exhale " in str(error_of('[session]\npattern = "custom"\ninhale = 3'))


def test_custom_durations_are_range_checked() -> None:
    err = error_of('[session]\npattern = "custom"\ninhale = 4\nexhale = 31\n')
    assert err.key == "session.exhale"
    assert "session.exhale = 31 s is out of range; allowed 0.5-30 s (line 4)" in str(err)
    err = error_of('[session]\npattern = "custom"\ninhale = 4\nexhale = 6\nhold_in = -1\n')
    assert err.key == "session.hold_in"


def test_custom_holds_default_to_zero_and_build_the_pattern() -> None:
    cfg = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\nhold_out = 2\n')
    assert (cfg.session.hold_in, cfg.session.hold_out) == (0.0, 2.0)
    pattern = session_pattern(cfg)
    assert [(p.kind, p.seconds) for p in pattern.phases(0)] == [
        (patterns.INHALE, 3.0),
        (patterns.EXHALE, 5.0),
        (patterns.HOLD_OUT, 2.0),
    ]
    assert parse_config(to_toml(cfg)) == cfg


def test_preset_patterns() -> None:
    cfg = parse_config('[session]\npattern = "box"\nlong_pattern = "4-7-8"')
    assert session_pattern(cfg) is patterns.PRESETS["box"]
    assert long_pattern(cfg) is patterns.PRESETS["4-7-8"]
    assert session_pattern(Config()).name == "three-breath"
    assert long_pattern(Config()).name == "coherent"


def test_session_pattern_of_a_hand_built_bad_config_raises_config_error() -> None:
    bad = dataclasses.replace(Config(), session=C.SessionConfig(pattern="nope"))
    with pytest.raises(ConfigError, match=r"session\.pattern"):
        session_pattern(bad)
    with pytest.raises(ConfigError, match=r"needs session\.inhale"):
        session_pattern(dataclasses.replace(Config(), session=C.SessionConfig(pattern="custom")))


# --------------------------------------------------------------------------- hour ranges


def test_hour_range_plain() -> None:
    r = C.parse_hour_range("08:00-22:00")
    assert (r.start_minute, r.end_minute) == (480, 1320)
    assert not r.wraps
    assert r.contains(480) and r.contains(1319.99)
    assert not r.contains(479.99) and not r.contains(1320) and not r.contains(0)
    assert str(r) == "08:00-22:00"


def test_hour_range_wrapping_midnight() -> None:
    r = C.parse_hour_range("22:00-07:00")
    assert r.wraps
    assert r.contains(1320) and r.contains(1439.5) and r.contains(0) and r.contains(419.9)
    assert not r.contains(420) and not r.contains(720) and not r.contains(1319.9)
    assert str(r) == "22:00-07:00"


def test_hour_range_whole_day_and_end_at_midnight() -> None:
    day = C.parse_hour_range("00:00-24:00")
    assert all(day.contains(m) for m in (0, 600, 1439.99))
    evening = C.parse_hour_range("18:00-24:00")
    assert evening.contains(1439) and not evening.contains(0)
    assert str(evening) == "18:00-24:00"
    assert parse_config(to_toml(Config(night=C.NightConfig(hours=evening)))).night.hours == evening


@pytest.mark.parametrize("text", ["", "08:00", "8-22", "08:00-22:60", "25:00-01:00", "24:30-01:00"])
def test_hour_range_rejects_bad_text(text: str) -> None:
    with pytest.raises(ValueError):
        C.parse_hour_range(text)


def test_hour_range_rejects_bad_minutes() -> None:
    for start, end in ((0, 0), (600, 600), (0, 1440 * 2), (1440, 10), (-1, 10)):
        with pytest.raises(ValueError):
            HourRange(start, end)


# --------------------------------------------------------------------------- files and paths


def test_load_config_none_gives_defaults() -> None:
    assert load_config(None) == Config()


def test_load_config_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text("[ring]\npixels = 16\n", encoding="utf-8")
    assert load_config(path).ring.pixels == 16
    assert load_config(str(path)).ring.pixels == 16


def test_load_config_errors_name_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=r"nope\.toml: cannot read the config file: No such file"):
        load_config(missing)
    with pytest.raises(ConfigError, match="cannot read the config file"):
        load_config(tmp_path)
    bad = tmp_path / "bad.toml"
    bad.write_text("[ring]\npixels = 0\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(bad))}: ring\.pixels = 0"):
        load_config(bad)


def test_load_config_refuses_large_files(tmp_path: Path) -> None:
    path = tmp_path / "big.toml"
    path.write_bytes(b"#" * (C.MAX_CONFIG_BYTES + 1))
    with pytest.raises(ConfigError, match="too large"):
        load_config(path)
    path.write_bytes(b"#" * C.MAX_CONFIG_BYTES)
    assert load_config(path) == Config()


def test_load_config_refuses_non_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes(b'[audio]\n\ndevice = "caf\xe9"\n')
    with pytest.raises(ConfigError, match=r"not UTF-8 text \(byte \d+, line 3\)"):
        load_config(path)


def test_config_path_from_precedence(tmp_path: Path) -> None:
    default = tmp_path / "default.toml"
    env = {C.CONFIG_ENV: "/env/config.toml"}
    assert config_path_from("/arg.toml", env, default) == Path("/arg.toml")
    assert config_path_from(None, env, default) == Path("/env/config.toml")
    assert config_path_from(None, {C.CONFIG_ENV: ""}, default) is None
    assert config_path_from(None, {}, default) is None
    default.write_text("")
    assert config_path_from(None, {}, default) == default
    assert str(C.DEFAULT_CONFIG_PATH) == "/etc/breathring/config.toml"


def test_check_file(tmp_path: Path) -> None:
    good = tmp_path / "good.toml"
    good.write_text("[ring]\npixels = 12\n")
    code, message = check_file(good)
    assert code == 0
    assert message.startswith(f"{good}: OK") and "12 pixels" in message
    bad = tmp_path / "bad.toml"
    bad.write_text("[ring]\nbrightness = 2\n")
    code, message = check_file(bad)
    assert code == 78
    assert message == f"{bad}: ring.brightness = 2 is out of range; allowed 0.01-1" + (" (line 2)")
    assert check_file(None)[0] == 0
    assert check_file(tmp_path / "missing.toml")[0] == 78


# --------------------------------------------------------------------------- overrides, writing


def test_with_values_validates_like_a_file() -> None:
    cfg = with_values(Config(), {"session.pattern": "box", "ring.pixels": 12})
    assert (cfg.session.pattern, cfg.ring.pixels) == ("box", 12)
    with pytest.raises(ConfigError, match=r'^command line: session\.pattern = "bx" .*"box"\?$'):
        with_values(Config(), {"session.pattern": "bx"})
    assert with_values(Config(), {"ring.pixels": 12}) == Config(ring=C.RingConfig(pixels=12))
    assert with_values(Config(), {}) == Config()
    custom = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 4')
    unset = with_values(custom, {"session.pattern": "box", "session.inhale": None})
    assert unset.session.inhale is None
    with pytest.raises(ConfigError, match=r"needs session\.inhale"):
        with_values(custom, {"session.inhale": None})
    back = with_values(custom, {"session.pattern": "coherent"})
    assert back.session == C.SessionConfig(pattern="coherent")


def test_format_color() -> None:
    assert format_color((60, 155, 255)) == "#3C9BFF"
    assert format_color((0, 0, 0)) == "#000000"
    assert C.parse_color("#ff8c32") == (255, 140, 50)


def test_strings_with_awkward_characters_round_trip() -> None:
    device = 'USB "Speaker" \\ café\t\n\x00\x7f\U0001f600'
    cfg = Config(audio=C.AudioConfig(device=device, cues_dir="/srv/cues dir"))
    assert parse_config(to_toml(cfg)) == cfg


def test_error_value_is_cut_short() -> None:
    message = str(error_of(f'[ring]\ncolor = "{"x" * 500}"'))
    assert "..." in message and len(message) < 200


# --------------------------------------------------------------------------- properties

PWM_PINS = (10, 12, 13, 18, 19, 21)
SPI_BUS = (7, 8, 9, 10, 11)
PERIODS = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)


def floats(low: float, high: float, **kw: bool) -> st.SearchStrategy[float]:
    return st.floats(low, high, allow_nan=False, allow_infinity=False, **kw)


colours = st.tuples(*[st.integers(0, 255)] * 3)


@st.composite
def hour_ranges(draw: st.DrawFn) -> HourRange:
    start = draw(st.integers(0, 1439))
    end = draw(st.integers(0, 1440).filter(lambda e: e != start))
    return HourRange(start, end)


@st.composite
def configs(draw: st.DrawFn) -> Config:
    pixels = draw(st.integers(1, 1000))
    idle = draw(floats(0, 10))
    per_channel = draw(floats(1, 100))
    driver = draw(st.sampled_from(("spi", "pwm", "pi5")))
    pins = {"spi": st.just(10), "pwm": st.sampled_from(PWM_PINS), "pi5": st.integers(0, 27)}
    ring_gpio = draw(pins[driver])
    button_gpio = draw(
        st.integers(0, 27).filter(
            lambda n: n != ring_gpio and not (driver == "spi" and n in SPI_BUS)
        )
    )
    ring = C.RingConfig(
        pixels=pixels,
        brightness=draw(floats(0.01, 1)),
        color=draw(colours),
        # Above the idle draw plus the most the dithering may add (3 channels, < 1 step each).
        max_milliamps=draw(floats(max(50.0, (idle + 3 * per_channel / 255) * pixels + 1), 20000)),
        milliamps_per_channel=per_channel,
        idle_milliamps=idle,
        start_pixel=draw(st.integers(0, pixels - 1)),
        fps=draw(st.integers(1, 240)),
        order=draw(st.sampled_from(("RGB", "RBG", "GRB", "GBR", "BRG", "BGR", "RGBW", "GRBW"))),
        pin=f"GPIO{ring_gpio}",
        driver=driver,
    )
    pattern = draw(st.sampled_from(patterns.PATTERN_NAMES))
    custom = pattern == patterns.CUSTOM
    session = C.SessionConfig(
        pattern=pattern,
        breaths=draw(st.integers(1, 100)),
        inhale=draw(floats(0.5, 30)) if custom else None,
        hold_in=draw(floats(0, 30)) if custom else None,
        exhale=draw(floats(0.5, 30)) if custom else None,
        hold_out=draw(floats(0, 30)) if custom else None,
        long_pattern=draw(st.sampled_from(tuple(patterns.PRESETS))),
        long_breaths=draw(st.integers(1, 100)),
    )
    every = draw(st.sampled_from(PERIODS))
    reminder = C.ReminderConfig(
        enabled=draw(st.booleans()),
        every_minutes=every,
        active_hours=draw(hour_ranges()),
        seconds=draw(floats(5, min(300.0, every * 60.0), exclude_max=every * 60 <= 300)),
        sound=draw(st.booleans()),
    )
    night = C.NightConfig(
        hours=draw(hour_ranges()),
        brightness=draw(floats(0.01, 1)),
        color=draw(colours),
        volume=draw(floats(0, 1)),
    )
    audio = C.AudioConfig(
        enabled=draw(st.booleans()),
        volume=draw(floats(0, 1)),
        driver=draw(st.from_regex(r"[a-z0-9_]{0,12}", fullmatch=True)),
        device=draw(st.text(max_size=30)),
        cues_dir=draw(st.text(max_size=30)),
        guide_tone=draw(st.booleans()),
        buffer_samples=draw(st.sampled_from((256, 512, 1024, 2048, 4096, 8192))),
        idle_close_seconds=draw(floats(0, 86400)),
    )
    button = C.ButtonConfig(
        pin=f"GPIO{button_gpio}",
        hold_seconds=draw(floats(0.5, 10)),
        double_seconds=draw(floats(0.1, 2)),
        bounce_seconds=draw(floats(0, 0.5)),
    )
    return Config(ring, session, reminder, night, audio, button)


@given(configs())
def test_random_valid_configs_round_trip_through_toml(cfg: Config) -> None:
    assert parse_config(to_toml(cfg)) == cfg


scalars = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    st.floats(),
    st.text(max_size=20),
    st.sampled_from(["#3C9BFF", "GPIO17", "08:00-22:00", "custom", "box", "GRB", "pwm"]),
)


@given(
    st.dictionaries(
        st.sampled_from([*sorted(all_keys()), "ring.pixles", "wifi.ssid"]),
        st.one_of(scalars, st.lists(scalars, max_size=2)),
        max_size=6,
    )
)
def test_any_values_give_a_config_or_one_line_error_naming_a_key(values: dict) -> None:
    try:
        cfg = with_values(Config(), values)
    except ConfigError as e:
        message = str(e)
        assert "\n" not in message
        assert message.startswith("command line: ")
        assert e.key is not None and e.key.split(".")[0] in message
    else:
        assert parse_config(to_toml(cfg)) == cfg


@given(st.text(max_size=200))
def test_arbitrary_text_never_crashes_the_parser(text: str) -> None:
    try:
        parse_config(text)
    except ConfigError as e:
        assert "\n" not in str(e)


# --------------------------------------------------------------------------- [mqtt]


def test_mqtt_defaults_and_round_trip() -> None:
    default = Config().mqtt
    assert (default.host, default.port, default.tls) == ("localhost", 0, False)
    assert default.keepalive == 60
    assert (default.username, default.password_file, default.ca_file, default.device_id) == (
        "",
        "",
        "",
        "",
    )
    assert (default.discovery_prefix, default.topic) == ("homeassistant", "breathring")
    cfg = parse_config(
        '[mqtt]\nhost = "::1"\nport = 8883\ntls = true\nca_file = "/etc/ca.pem"\n'
        'username = "ring"\npassword_file = "/etc/pw"\ntopic = "home/bed room"\n'
        'device_id = "Bed_1-a"\nkeepalive = 3600\ndiscovery_prefix = "ha"\n'
    )
    assert (cfg.mqtt.host, cfg.mqtt.topic) == ("::1", "home/bed room")
    assert cfg.mqtt.device_id == "Bed_1-a"
    assert parse_config(to_toml(cfg)) == cfg


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[mqtt]\nca_file = "/etc/ca.pem"',
            "config.toml: mqtt.ca_file is only used with mqtt.tls = true; set tls = true "
            "(or leave ca_file out) (line 2)",
        ),
        (
            '[mqtt]\ntls = true\npassword_file = "/etc/pw"',
            "config.toml: mqtt.password_file needs mqtt.username (the broker checks the pair) "
            "(line 3)",
        ),
        (
            '[mqtt]\ndiscovery_prefix = "home/"',
            'config.toml: mqtt.discovery_prefix = "home/" has an empty level (a leading, trailing '
            'or double /); allowed an MQTT topic like "homeassistant" (no + or #, no empty '
            "levels) (line 2)",
        ),
        (
            "[mqtt]\nkeepalive = 3601",
            "config.toml: mqtt.keepalive = 3601 is out of range; allowed 5-3600 (line 2)",
        ),
        (
            '[mqtt]\nhost = "broker lan"',
            'config.toml: mqtt.host = "broker lan" is not a host name; allowed a host name or IP '
            'address, e.g. "localhost" (line 2)',
        ),
        (
            "[mqtt]\ntopic = " + '"' + "t" * 201 + '"',
            "is longer than 200 characters; allowed an MQTT topic",
        ),
    ],
)
def test_mqtt_messages(text: str, message: str) -> None:
    assert message in str(error_of(text))


def test_mqtt_keys_misplaced_or_mistyped_are_pointed_to() -> None:
    assert str(error_of('[ring]\nhost = "x"')).startswith(
        "config.toml: ring.host is not a known key; it belongs in [mqtt]"
    )
    assert "did you mean [mqtt]?" in str(error_of("[mqqt]\n"))


# =========================================================================== written-down values
# Added for mutation testing (docs/testing.md): whole messages and written lines, word for word,
# so that a changed word, bound, key or line number in the config package fails a test.

EXACT_MESSAGES = {
    "ring.pixels": "ring.pixels = 0 is out of range; allowed 1-1000",
    "ring.brightness": "ring.brightness = 0 is out of range; allowed 0.01-1",
    "ring.color": 'ring.color = "#12345" is not a colour; allowed "#RRGGBB", e.g. "#3C9BFF"',
    "ring.max_milliamps": "ring.max_milliamps = 10 is out of range; allowed 50-20000",
    "ring.milliamps_per_channel": "ring.milliamps_per_channel = 0.5 is out of range; allowed 1-100",
    "ring.idle_milliamps": "ring.idle_milliamps = 11 is out of range; allowed 0-10",
    "ring.start_pixel": "ring.start_pixel = -1 is out of range; allowed 0 to ring.pixels - 1",
    "ring.fps": "ring.fps = 241 is out of range; allowed 1-240",
    "ring.order": 'ring.order = "RGBX" is not a known colour order; allowed: RGB, RBG, GRB, GBR,'
    ' BRG, BGR, RGBW, GRBW; did you mean "RGB"?',
    "ring.pin": 'ring.pin = "GPIO28" is not a GPIO pin; allowed "GPIO0"-"GPIO27" (BCM numbers;'
    ' "D17" or 17 also accepted)',
    "ring.driver": 'ring.driver = "bitbang" is not a known LED driver; allowed: spi, pwm, pi5,'
    " none",
    "session.pattern": 'session.pattern = "square" is not a known pattern; allowed: three-breath,'
    " box, 4-7-8, coherent, sigh, wind-down, follow, custom",
    "session.breaths": "session.breaths = 101 is out of range; allowed 1-100",
    "session.inhale": 'session.inhale = "4" must be a number of seconds (0.5-30 s; only with'
    ' pattern = "custom")',
    "session.hold_in": "session.hold_in = true must be a number of seconds (0-30 s; only with"
    ' pattern = "custom")',
    "session.exhale": "session.exhale = [6] must be a number of seconds (0.5-30 s; only with"
    ' pattern = "custom")',
    "session.hold_out": 'session.hold_out = "0" must be a number of seconds (0-30 s; only with'
    ' pattern = "custom")',
    "session.long_pattern": 'session.long_pattern = "custom" is not a preset pattern; allowed:'
    " three-breath, box, 4-7-8, coherent, sigh, wind-down, follow",
    "session.long_breaths": "session.long_breaths = 0 is out of range; allowed 1-100",
    "reminder.enabled": 'reminder.enabled = "yes" must be true or false',
    "reminder.every_minutes": "reminder.every_minutes = 45 is not allowed; allowed 1, 2, 3, 4, 5,"
    " 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440 (divides an hour, or whole"
    " hours dividing a day)",
    "reminder.active_hours": 'reminder.active_hours = "8-22" is not an hour range; allowed'
    ' "HH:MM-HH:MM" (may wrap midnight), e.g. "08:00-22:00"',
    "reminder.seconds": "reminder.seconds = 4.9 is out of range; allowed 5-300",
    "reminder.sound": "reminder.sound = 1 must be true or false",
    "night.hours": 'night.hours = "22:00-25:00" is not an hour range; allowed "HH:MM-HH:MM"'
    ' (may wrap midnight), e.g. "22:00-07:00"',
    "night.brightness": "night.brightness = 1.01 is out of range; allowed 0.01-1",
    "night.color": 'night.color = "orange" is not a colour; allowed "#RRGGBB", e.g. "#FF8C32"',
    "night.volume": "night.volume = -0.1 is out of range; allowed 0-1",
    "audio.enabled": 'audio.enabled = "on" must be true or false',
    "audio.volume": "audio.volume = 1.5 is out of range; allowed 0-1",
    "audio.driver": 'audio.driver = "alsa;rm" is not allowed; allowed "" (automatic) or a name of'
    ' letters, digits and _, e.g. "alsa", "pulseaudio", "pipewire", "disk", "dummy"',
    "audio.device": 'audio.device = 3 must be a string ("" (default) or an SDL device name)',
    "audio.cues_dir": 'audio.cues_dir = false must be a string ("" (bundled) or a directory path)',
    "audio.guide_tone": "audio.guide_tone = 0 must be true or false",
    "audio.buffer_samples": "audio.buffer_samples = 1000 is not allowed; allowed a power of two,"
    " 256-8192",
    "audio.idle_close_seconds": "audio.idle_close_seconds = -1 is out of range; allowed 0-86400",
    "button.pin": 'button.pin = "pin17" is not a GPIO pin; allowed "GPIO0"-"GPIO27" (BCM numbers;'
    ' "D17" or 17 also accepted), or "none"',
    "button.pi_revision": 'button.pi_revision = "a0208z" is not a Pi revision code; allowed ""'
    ' (read it from the Pi) or 4-8 hex digits, e.g. "a02082" (Pi 3B)',
    "reminder.trust_clock": 'reminder.trust_clock = "never" is not a clock policy; allowed: sync,'
    " always",
    "mqtt.host": 'mqtt.host = "broker lan" is not a host name; allowed a host name or IP address,'
    ' e.g. "localhost"',
    "mqtt.port": "mqtt.port = 65536 is out of range; allowed 1-65535, or 0 for 1883 (8883 with"
    " tls)",
    "mqtt.username": 'mqtt.username = 1 must be a string ("" (anonymous) or a user name)',
    "mqtt.password_file": 'mqtt.password_file = true must be a string ("" (none) or a file path)',
    "mqtt.tls": 'mqtt.tls = "yes" must be true or false',
    "mqtt.ca_file": 'mqtt.ca_file = [] must be a string ("" (the system\'s CAs) or a file path)',
    "mqtt.discovery_prefix": 'mqtt.discovery_prefix = "ha/#" contains an MQTT wildcard (+ or #);'
    ' allowed an MQTT topic like "homeassistant" (no + or #, no empty levels)',
    "mqtt.topic": 'mqtt.topic = "home//bedroom" has an empty level (a leading, trailing or double'
    ' /); allowed an MQTT topic like "breathring" or "home/bedroom" (no + or #, no empty levels)',
    "mqtt.device_id": 'mqtt.device_id = "bed/side" is not allowed; allowed "" (from the machine'
    " id) or 1-64 letters, digits, _ and -",
    "mqtt.keepalive": "mqtt.keepalive = 4 is out of range; allowed 5-3600",
    "button.hold_seconds": "button.hold_seconds = 0.4 is out of range; allowed 0.5-10",
    "button.double_seconds": "button.double_seconds = 2.5 is out of range; allowed 0.1-2",
    "button.bounce_seconds": "button.bounce_seconds = 0.6 is out of range; allowed 0-0.5",
    "session.follow_target": "session.follow_target = 3.9 is out of range; allowed 4-10",
    "session.follow_minutes": "session.follow_minutes = 61 is out of range; allowed 3-60",
    "breath_sensor.kind": 'breath_sensor.kind = "radar" is not a known breath sensor; allowed:'
    " none, mr60bha2, c1001, mqtt",
    "breath_sensor.topic": 'breath_sensor.topic = "breath/+" contains an MQTT wildcard (+ or #);'
    ' allowed an MQTT topic like "breathring/breath_rate" (no + or #, no empty levels)',
    "breath_sensor.stale_seconds": "breath_sensor.stale_seconds = 601 is out of range;"
    " allowed 5-600",
    "breath_sensor.device": 'breath_sensor.device = "serial0" is not a device path; allowed an'
    ' absolute path without spaces, e.g. "/dev/serial0", "/dev/ttyAMA0" or "/dev/ttyUSB0"',
    "breath_sensor.baud": "breath_sensor.baud = 100000 is not allowed; allowed 0, 9600, 19200,"
    " 38400, 57600, 115200, 230400, 460800, 921600 (0 = the kind's default 115200, or a"
    " standard rate)",
}


def test_exact_message_table_covers_every_key() -> None:
    assert set(EXACT_MESSAGES) == all_keys()


@pytest.mark.parametrize("dotted", sorted(EXACT_MESSAGES))
def test_every_bad_value_message_word_for_word(dotted: str) -> None:
    section, key = dotted.split(".")
    err = error_of(f"# a comment\n[{section}]\n{key} = {BAD_VALUES[dotted]}\n")
    assert str(err) == f"config.toml: {EXACT_MESSAGES[dotted]} (line 3)"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "[ring]\norder = 5",
            "ring.order = 5 must be a string (one of RGB, RBG, GRB, GBR, BRG, BGR, RGBW, GRBW)",
        ),
        (
            '[ring]\nbrightness = "x"',
            'ring.brightness = "x" must be a number (0.01-1)',
        ),
        (
            '[reminder]\nevery_minutes = "60"',
            'reminder.every_minutes = "60" must be an integer'
            " (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440"
            " (divides an hour, or whole hours dividing a day))",
        ),
        (
            "[audio]\nbuffer_samples = 1024.0",
            "audio.buffer_samples = 1024.0 must be an integer (a power of two, 256-8192)",
        ),
        (
            "[audio]\ndriver = 1",
            'audio.driver = 1 must be a string ("" (automatic) or a name of'
            ' letters, digits and _, e.g. "alsa", "pulseaudio", "pipewire", "disk", "dummy")',
        ),
        (
            "[night]\nhours = 22",
            'night.hours = 22 is not an hour range; allowed "HH:MM-HH:MM"'
            ' (may wrap midnight), e.g. "22:00-07:00"',
        ),
        (
            '[reminder]\nactive_hours = "08:00-08:00"',
            'reminder.active_hours = "08:00-08:00" is'
            ' an empty range; start and end must differ ("00:00-24:00" = all day)',
        ),
        (
            '[session]\npattern = "Box"',
            'session.pattern = "Box" is not a known pattern; allowed:'
            " three-breath, box, 4-7-8, coherent, sigh, wind-down, follow, custom;"
            ' did you mean "box"?',
        ),
        (
            "[session]\nexhale = [6, 7]",
            "session.exhale = [6, 7] must be a number of seconds"
            ' (0.5-30 s; only with pattern = "custom")',
        ),
        (
            "[ring]\npixels = {a = 1, b = 2}",
            "ring.pixels = {a = 1, b = 2} must be an integer (1-1000)",
        ),
        ("[ring]\npixels = 1979-05-27", "ring.pixels = 1979-05-27 must be an integer (1-1000)"),
        (
            "[ring]\npixels = 500",
            "ring.max_milliamps = 400 leaves nothing to light the ring: 500"
            " pixels idle at 1 mA draw 500 mA and dithering may add 118 mA; raise"
            " ring.max_milliamps or lower ring.idle_milliamps",
        ),
        (
            "[ring]\nidle_milliamps = 2\npixels = 190",
            "ring.max_milliamps = 400 leaves nothing to"
            " light the ring: 190 pixels idle at 2 mA draw 380 mA and dithering may add 44.7 mA;"
            " raise ring.max_milliamps or lower ring.idle_milliamps",
        ),
        (
            "[button]\npin = 9",
            'button.pin = "GPIO9" is held by the SPI bus that ring.driver ='
            ' "spi" uses (GPIO7-11); choose another pin, e.g. "GPIO17"',
        ),
    ],
)
def test_more_messages_word_for_word(text: str, message: str) -> None:
    assert re.sub(r" \(line \d\)$", "", str(error_of(text))) == f"config.toml: {message}"


def test_a_budget_with_exactly_nothing_left_is_refused() -> None:
    # 85 pixels x 3 channels x 0.2 mA (51/255) of dithering = 51 mA = the whole budget.
    err = error_of(
        "[ring]\npixels = 85\nmax_milliamps = 51\nmilliamps_per_channel = 51\nidle_milliamps = 0"
    )
    assert err.key == "ring.max_milliamps"


def test_values_shown_in_messages_are_cut_at_60_characters() -> None:
    fits = "x" * 58  # with its quotes: 60 characters, shown whole
    assert f'"{fits}" is not a colour' in str(error_of(f'[ring]\ncolor = "{fits}"'))
    long = "y" * 500
    message = str(error_of(f'[ring]\ncolor = "{long}"'))
    assert f'ring.color = "{"y" * 56}... is not a colour' in message


def test_errors_point_at_the_right_line_and_key() -> None:
    # A key absent from the file: the line of its section's header.
    assert error_of("\n[ring]\npixels = 500\n").line == 2
    assert error_of("[Ring]\n").line == 1
    table = error_of("\nring = 5")
    assert (table.key, table.line) == ("ring", 2)
    missing = error_of('\n[session]\npattern = "custom"\n')
    assert (missing.key, missing.line) == ("session.pattern", 3)
    assert str(missing) == (
        'config.toml: session.pattern = "custom" needs session.inhale and session.exhale'
        " (seconds, 0.5-30) (line 3)"
    )


def test_error_context_keeps_a_line_it_is_given() -> None:
    ctx = C.errors.ErrorContext("f.toml", "[ring]\npixels = 1\n")
    err = ctx.error("bad", key="ring.pixels", line=9)
    assert (str(err), err.line, err.key) == ("f.toml: bad (line 9)", 9, "ring.pixels")
    assert ConfigError("plain").args == ("plain",)


def test_invalid_toml_at_the_end_of_a_one_line_file() -> None:
    err = error_of("pixels =")
    assert str(err) == "config.toml: invalid TOML at the end of the file (line 1): Invalid value"
    assert err.line == 1
    two = error_of("[ring]\npixels =")
    assert two.line == 2


def test_toml_nested_too_deeply_is_one_line() -> None:
    text = "x = " + "[" * 3000 + "]" * 3000
    assert str(error_of(text)) == (
        "config.toml: invalid TOML: arrays or inline tables nested too deeply; allowed: the flat"
        " keys of `breathring config defaults`"
    )


def test_default_source_name_is_config_in_angle_brackets() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config("[ring]\npixels = 0")
    assert str(caught.value).startswith("<config>: ring.pixels = 0 ")


def test_custom_pattern_details() -> None:
    cfg = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\n')
    assert (cfg.session.hold_in, cfg.session.hold_out) == (0.0, 0.0)
    assert (
        error_of('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\nhold_out = 31\n').key
        == "session.hold_out"
    )
    # Hand-built configs (not checked by the parser) go through session_pattern's own checks.
    built = Config(session=C.SessionConfig(pattern="custom", inhale=3.0, exhale=4.0))
    assert [(p.kind, p.seconds) for p in session_pattern(built).phases(0)] == [
        ("inhale", 3.0),
        ("exhale", 4.0),
    ]
    with pytest.raises(ConfigError) as caught:
        session_pattern(Config(session=C.SessionConfig(pattern="custom", exhale=4.0)))
    assert str(caught.value) == 'session.pattern = "custom" needs session.inhale and session.exhale'
    with pytest.raises(ConfigError) as caught:
        session_pattern(Config(session=C.SessionConfig(pattern="custom", inhale=3.0, exhale=40.0)))
    assert str(caught.value) == "session.exhale = 40 s is out of range; allowed 0.5-30 s"
    with pytest.raises(ConfigError) as caught:
        session_pattern(Config(session=C.SessionConfig(pattern="nope")))
    assert str(caught.value) == (
        'session.pattern = "nope" is not a preset pattern; allowed: three-breath, box, 4-7-8,'
        " coherent, sigh, wind-down, follow"
    )
    with pytest.raises(ConfigError) as caught:
        long_pattern(Config(session=C.SessionConfig(long_pattern="custom")))
    assert str(caught.value) == (
        'session.long_pattern = "custom" is not a preset pattern; allowed: three-breath, box,'
        " 4-7-8, coherent, sigh, wind-down, follow"
    )


def test_hour_range_messages_word_for_word() -> None:
    cases = {
        "8-22": "not HH:MM-HH:MM",
        "24:00-07:00": "not a time of day",
        "08:60-09:00": "not a time of day",
        "08:00-09:60": "not a time of day",
        "08:00-25:00": "not a time of day",
        "08:00-24:30": "not a time of day",
    }
    for text, message in cases.items():
        with pytest.raises(ValueError) as caught:
            C.parse_hour_range(text)
        assert str(caught.value) == message, text
    assert C.parse_hour_range("08:00-22:59") == HourRange(480, 1379)
    assert C.parse_hour_range("23:59-24:00") == HourRange(1439, 1440)
    for start, end, message in (
        (1440, 10, "start_minute = 1440 must be 0-1439"),
        (-1, 10, "start_minute = -1 must be 0-1439"),
        (0, 1441, "end_minute = 1441 must be 0-1440"),
        (600, 600, "10:00-10:00 is an empty range; start and end must differ"),
    ):
        with pytest.raises(ValueError) as caught:
            HourRange(start, end)
        assert str(caught.value) == message
    with pytest.raises(ValueError) as caught:
        C.parse_color("#12345G")
    assert str(caught.value) == "not #RRGGBB"


def test_toml_strings_escape_exactly_what_they_must() -> None:
    assert C.writing.toml_scalar("a b\nc\td") == '"a b\\nc\\td"'
    assert C.toml_text.toml_string("\x01\x7f ~") == '"\\u0001\\u007F ~"'


def test_key_infos_carry_the_defaults() -> None:
    infos = {k.dotted: k for k in C.key_infos()}
    assert infos["ring.pixels"].default == 24
    assert infos["button.pin"].default == "GPIO17"
    assert infos["ring.brightness"].allowed == "0.01-1"


def test_default_toml_lines_word_for_word() -> None:
    lines = default_toml().splitlines()
    assert lines[:8] == [
        "# breathring configuration (TOML). Every key is optional; these are the defaults.",
        "# Check it with: breathring config check",
        "",
        "# The LED ring and how bright it may get.",
        "[ring]",
        "# number of LEDs on the ring; allowed 1-1000",
        "pixels = 24",
        "# daytime cap on every wire value (linear); allowed 0.01-1",
    ]
    assert "# What a press (and a double press) starts." in lines
    assert "# inhale = 4.0" in lines and "# hold_out = 0.0" in lines
    assert "# play sound cues; allowed true or false" in lines
    assert 'order = "GRB"' in lines
    assert (
        "# colour order the LEDs expect (most WS2812 rings: GRB); allowed one of RGB, RBG, GRB,"
        " GBR, BRG, BGR, RGBW, GRBW"
    ) in lines


def test_to_toml_has_no_comments_and_marks_unset_keys() -> None:
    lines = to_toml(Config()).splitlines()
    assert lines[:3] == ["[ring]", "pixels = 24", "brightness = 0.5"]
    assert "# inhale is unset" in lines
    assert not any(line.startswith("# ") and "allowed" in line for line in lines)


def test_with_values_keeps_custom_durations_unless_the_pattern_changes() -> None:
    custom = parse_config('[session]\npattern = "custom"\ninhale = 3\nexhale = 4')
    assert with_values(custom, {"ring.pixels": 12}).session.inhale == 3.0
    assert with_values(Config(), {"wifi.ssid": None}) == Config()


def test_check_file_summaries_word_for_word(tmp_path: Path) -> None:
    assert check_file(None) == (
        0,
        "no config file, defaults: OK (24 pixels, spi on GPIO10, pattern three-breath x 3,"
        " reminders every 60 min 08:00-22:00, night 22:00-07:00)",
    )
    off = tmp_path / "off.toml"
    off.write_text("[reminder]\nenabled = false\n")
    assert check_file(off) == (
        0,
        f"{off}: OK (24 pixels, spi on GPIO10, pattern three-breath x 3, reminders off,"
        " night 22:00-07:00)",
    )


def test_load_config_messages_word_for_word(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo.toml"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError) as caught:
        load_config(fifo)
    assert str(caught.value) == (
        f"{fifo}: cannot read the config file: not a regular file (a directory, FIFO or"
        " device); allowed: a TOML file"
    )
    latin = tmp_path / "latin1.toml"
    latin.write_bytes(b'[audio]\n\ndevice = "caf\xe9"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(latin)
    assert caught.value.line == 3
    no_slot = tmp_path / "no-slot.toml"
    no_slot.write_text('[reminder]\nevery_minutes = 120\nactive_hours = "09:00-10:00"\n')
    with pytest.raises(ConfigError) as caught:
        load_config(no_slot)
    assert str(caught.value) == (
        f'{no_slot}: reminder.active_hours = "09:00-10:00" contains no pulse time of'
        " reminder.every_minutes = 120 (pulses fall on multiples of 120 min after midnight);"
        " allowed: a range that includes one (line 3)"
    )
    assert (caught.value.key, caught.value.line) == ("reminder.active_hours", 3)


def test_each_key_carries_its_spec_and_doc() -> None:
    spec = C.validation.BoolSpec()
    assert C.schema._meta(spec, "a switch") == {"spec": spec, "doc": "a switch"}


def test_new_keys_edges_word_for_word() -> None:
    def refused(values: dict) -> str:
        with pytest.raises(ConfigError) as caught:
            with_values(Config(), values)
        return str(caught.value)

    assert refused({"mqtt.topic": "a\x7fb"}) == (
        'command line: mqtt.topic = "a\\u007Fb" contains a control character; allowed an MQTT'
        ' topic like "breathring" or "home/bedroom" (no + or #, no empty levels)'
    )
    assert "contains a control character" in refused({"mqtt.topic": "a\x01b"})
    assert refused({"mqtt.device_id": 5}) == (
        'command line: mqtt.device_id = 5 must be a string ("" (from the machine id) or 1-64'
        " letters, digits, _ and -)"
    )
    assert with_values(Config(), {"mqtt.device_id": "d" * 64}).mqtt.device_id == "d" * 64
    assert "is not allowed" in refused({"mqtt.device_id": "d" * 65})
    assert refused({"mqtt.host": 5}) == (
        'command line: mqtt.host = 5 must be a string (a host name or IP address, e.g. "localhost")'
    )
    assert with_values(Config(), {"mqtt.host": "h" * 253}).mqtt.host == "h" * 253
    assert "is not a host name" in refused({"mqtt.host": "h" * 254})
    assert "is not a host name" in refused({"mqtt.host": ""})
    assert with_values(Config(), {"button.pi_revision": "A02082"}).button.pi_revision == "a02082"


def test_topics_and_no_button_edges_word_for_word() -> None:
    def refused(values: dict) -> str:
        with pytest.raises(ConfigError) as caught:
            with_values(Config(), values)
        return str(caught.value)

    tail = 'allowed an MQTT topic like "breathring" or "home/bedroom" (no + or #, no empty levels)'
    assert refused({"mqtt.topic": "home/+"}) == (
        f'command line: mqtt.topic = "home/+" contains an MQTT wildcard (+ or #); {tail}'
    )
    assert refused({"mqtt.topic": ""}) == f'command line: mqtt.topic = "" is empty; {tail}'
    assert refused({"mqtt.topic": 7}) == (
        f"command line: mqtt.topic = 7 must be a string ({tail.removeprefix('allowed ')})"
    )
    assert with_values(Config(), {"mqtt.topic": "t" * 200}).mqtt.topic == "t" * 200
    assert "is longer than 200 characters" in refused({"mqtt.topic": "t" * 201})
    assert with_values(Config(), {"button.pin": " None "}).button.pin == "none"
