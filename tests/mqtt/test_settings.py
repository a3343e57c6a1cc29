"""The bridge's settings: the [mqtt] section checked like any other, the password file, the id."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from types import SimpleNamespace

import pytest

from breathring.config import ConfigError, MqttConfig
from breathring.mqtt.cli import add_mqtt_parser, cmd_mqtt
from breathring.mqtt.settings import (
    MqttSettings,
    default_device_id,
    load_mqtt_settings,
    resolve,
)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def machine_id(tmp_path: Path) -> Path:
    path = tmp_path / "machine-id"
    path.write_text("0123456789abcdef0123456789abcdef\n")
    return path


def test_defaults_without_a_section(machine_id: Path) -> None:
    s = resolve(MqttConfig(), machine_id_path=machine_id)
    assert (s.host, s.port, s.tls, s.keepalive) == ("localhost", 1883, False, 60)
    assert (s.discovery_prefix, s.topic) == ("homeassistant", "breathring")
    assert s.username is None and s.password is None and s.ca_file is None
    assert s.device_id == default_device_id(machine_id) and len(s.device_id) == 12


def test_no_config_file_gives_the_defaults(machine_id: Path) -> None:
    s = load_mqtt_settings(None, machine_id)
    assert (s.host, s.port, s.topic, s.username) == ("localhost", 1883, "breathring", None)


def test_default_device_id_is_short_stable_hashed(tmp_path: Path, machine_id: Path) -> None:
    first = default_device_id(machine_id)
    assert first == default_device_id(machine_id)
    assert len(first) == 12 and all(c in "0123456789abcdef" for c in first)
    assert first not in "0123456789abcdef0123456789abcdef"  # not the machine id itself
    other = tmp_path / "other-id"
    other.write_text("fedcba9876543210fedcba9876543210\n")
    assert default_device_id(other) != first


def test_missing_machine_id_still_gives_an_id(tmp_path: Path) -> None:
    found = default_device_id(tmp_path / "absent")
    assert len(found) == 12


def test_every_key_read_from_a_file(tmp_path: Path, machine_id: Path) -> None:
    (tmp_path / "pw").write_text("s3cret\n")
    (tmp_path / "ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    path = write(
        tmp_path,
        f"""
[ring]
pixels = 24

[mqtt]
host = "broker.lan"
port = 8884
username = "ring"
password_file = "{tmp_path / "pw"}"
tls = true
ca_file = "{tmp_path / "ca.pem"}"
discovery_prefix = "ha/discovery"
topic = "home/bedroom"
device_id = "bedside_1"
keepalive = 30
""",
    )
    s = load_mqtt_settings(path, machine_id)
    assert (s.host, s.port, s.username, s.password) == ("broker.lan", 8884, "ring", "s3cret")
    assert s.tls is True and s.ca_file == tmp_path / "ca.pem"
    assert (s.discovery_prefix, s.topic, s.device_id, s.keepalive) == (
        "ha/discovery",
        "home/bedroom",
        "bedside_1",
        30,
    )
    assert "s3cret" not in repr(s)


def test_port_0_is_1883_or_8883_with_tls(machine_id: Path) -> None:
    assert resolve(MqttConfig(tls=True), machine_id_path=machine_id).port == 8883
    assert resolve(MqttConfig(tls=True, port=0), machine_id_path=machine_id).port == 8883
    assert resolve(MqttConfig(port=0), machine_id_path=machine_id).port == 1883
    assert resolve(MqttConfig(tls=True, port=1884), machine_id_path=machine_id).port == 1884


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "port = 65536",
            "mqtt.port = 65536 is out of range; allowed 1-65535, or 0 for 1883 (8883 with tls)"
            " (line 3)",
        ),
        ("port = -1", "mqtt.port = -1 is out of range; allowed 1-65535, or 0 for 1883"),
        (
            'port = "1883"',
            'mqtt.port = "1883" must be an integer (1-65535, or 0 for 1883 (8883 with tls))'
            " (line 3)",
        ),
        ("keepalive = 1", "mqtt.keepalive = 1 is out of range; allowed 5-3600 (line 3)"),
        ("tls = 1", "mqtt.tls = 1 must be true or false (line 3)"),
        ('host = ""', 'mqtt.host = "" is not a host name'),
        ('topic = "breath/+/ring"', 'mqtt.topic = "breath/+/ring" contains an MQTT wildcard'),
        ('topic = "a/#"', 'mqtt.topic = "a/#" contains an MQTT wildcard'),
        ('topic = "a//b"', 'mqtt.topic = "a//b" has an empty level'),
        ('topic = "/a"', 'mqtt.topic = "/a" has an empty level'),
        ('topic = ""', 'mqtt.topic = "" is empty'),
        ('discovery_prefix = "ha/"', 'mqtt.discovery_prefix = "ha/" has an empty level'),
        (
            'device_id = "bed/side"',
            'mqtt.device_id = "bed/side" is not allowed; allowed "" (from the machine id) or '
            "1-64 letters, digits, _ and - (line 3)",
        ),
        (f'device_id = "{"x" * 65}"', "is not allowed"),
        ('topic = "a\\u0007b"', 'mqtt.topic = "a\\u0007b" contains a control character'),
        ('device_id = "a b"', 'mqtt.device_id = "a b" is not allowed'),
        ('device_id = "+"', 'mqtt.device_id = "+" is not allowed'),
        ("username = 7", "mqtt.username = 7 must be a string"),
        ('password = "x"', "mqtt.password is not a known key; did you mean mqtt.password_file?"),
        ('ca_file = "/etc/ssl/ca.pem"', "mqtt.ca_file is only used with mqtt.tls = true"),
        ('password_file = "/x"', "mqtt.password_file needs mqtt.username"),
    ],
)
def test_bad_values_name_key_value_and_what_is_allowed(
    tmp_path: Path, machine_id: Path, body: str, expected: str
) -> None:
    path = write(tmp_path, f"# breathring\n[mqtt]\n{body}\n")
    with pytest.raises(ConfigError) as caught:
        load_mqtt_settings(path, machine_id)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_unreadable_password_file_names_the_file(tmp_path: Path, machine_id: Path) -> None:
    missing = tmp_path / "no-such-password"
    path = write(tmp_path, f'[mqtt]\nusername = "u"\npassword_file = "{missing}"\n')
    with pytest.raises(ConfigError) as caught:
        load_mqtt_settings(path, machine_id)
    message = str(caught.value)
    assert message.startswith(f'{path}: mqtt.password_file = "')  # the value, maybe cut short
    assert message.endswith(
        f": cannot read {missing}: No such file or directory; "
        "allowed: a file readable by the bridge holding the broker password (line 3)"
    )
    assert caught.value.key == "mqtt.password_file"


def test_empty_password_file_is_refused(tmp_path: Path, machine_id: Path) -> None:
    (tmp_path / "pw").write_text("\n")
    path = write(tmp_path, f'[mqtt]\nusername = "u"\npassword_file = "{tmp_path / "pw"}"\n')
    with pytest.raises(ConfigError, match="is empty"):
        load_mqtt_settings(path, machine_id)


def test_unreadable_ca_file(tmp_path: Path, machine_id: Path) -> None:
    path = write(tmp_path, f'[mqtt]\ntls = true\nca_file = "{tmp_path / "none.pem"}"\n')
    with pytest.raises(ConfigError, match=r"mqtt.ca_file = .*cannot read"):
        load_mqtt_settings(path, machine_id)


def test_the_bridge_refuses_what_the_service_refuses(tmp_path: Path, machine_id: Path) -> None:
    path = write(tmp_path, "[ring]\nwhatever = 1\n[mqtt]\nport = 1884\n")
    with pytest.raises(ConfigError) as caught:
        load_mqtt_settings(path, machine_id)
    assert str(caught.value) == (
        f"{path}: ring.whatever is not a known key; allowed keys in [ring]: pixels, brightness, "
        "color, max_milliamps, milliamps_per_channel, idle_milliamps, start_pixel, fps, order, "
        "pin, driver (line 2)"
    )


def test_an_empty_username_and_files_mean_none(tmp_path: Path, machine_id: Path) -> None:
    path = write(tmp_path, '[mqtt]\nusername = ""\npassword_file = ""\nca_file = ""\n')
    s = load_mqtt_settings(path, machine_id)
    assert (s.username, s.password, s.ca_file) == (None, None, None)


def test_invalid_toml_is_a_config_error(tmp_path: Path) -> None:
    path = write(tmp_path, "[mqtt\n")
    with pytest.raises(ConfigError, match="invalid TOML"):
        load_mqtt_settings(path)


def run_cmd(argv: list[str], monkeypatch: pytest.MonkeyPatch) -> int:
    monkeypatch.delenv("BREATHRING_CONFIG", raising=False)
    parser = argparse.ArgumentParser()
    add_mqtt_parser(parser.add_subparsers(dest="command"))
    return cmd_mqtt(parser.parse_args(["mqtt", *argv]))


def test_cmd_exits_78_on_a_bad_section(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write(tmp_path, "[mqtt]\nport = 99999\n")
    assert run_cmd(["--config", str(path)], monkeypatch) == 78
    err = capsys.readouterr().err.strip()
    assert err == (
        f"breathring: configuration error: {path}: mqtt.port = 99999 is out of range; "
        "allowed 1-65535, or 0 for 1883 (8883 with tls) (line 2)"
    )


def test_cmd_exits_78_on_an_unreadable_password_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    secret = tmp_path / "secret"
    secret.write_text("pw\n")
    os.chmod(secret, 0)
    path = write(tmp_path, f'[mqtt]\nusername = "u"\npassword_file = "{secret}"\n')
    if os.access(secret, os.R_OK):  # root reads anything: use a directory instead
        secret.unlink()
        secret.mkdir()
    assert run_cmd(["--config", str(path)], monkeypatch) == 78
    assert f"cannot read {secret}" in capsys.readouterr().err


def test_cmd_exits_2_on_an_empty_socket_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write(tmp_path, "[mqtt]\n")
    assert run_cmd(["--config", str(path), "--socket", ""], monkeypatch) == 2


# Written-down values: the id's hash, the repr, the breath sensor's topic.


def test_the_default_device_id_is_the_salted_hash_of_the_machine_id(machine_id: Path) -> None:
    # printf 'breathring-mqtt-device-id\n0123456789abcdef0123456789abcdef' | sha256sum
    assert default_device_id(machine_id) == "8e6b019e0a9f"
    assert resolve(MqttConfig(), machine_id_path=machine_id).device_id == "8e6b019e0a9f"


@pytest.mark.parametrize("content", [None, "", "\n"])
def test_without_a_machine_id_the_host_name_is_hashed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    path = tmp_path / "machine-id"
    if content is not None:
        path.write_text(content)
    monkeypatch.setattr(os, "uname", lambda: SimpleNamespace(nodename="my-pi"))
    # printf 'breathring-mqtt-device-id\nmy-pi' | sha256sum
    assert default_device_id(path) == "344dce7930fb"
    # A name that is not UTF-8 (a surrogate from the kernel's bytes) is hashed as "my-pi?".
    monkeypatch.setattr(os, "uname", lambda: SimpleNamespace(nodename="my-pi\udce9"))
    assert default_device_id(path) == "9dda52d975af"


def test_the_settings_show_everything_but_the_password(machine_id: Path) -> None:
    s = MqttSettings(
        host="broker.lan",
        port=8883,
        username="ring",
        password="s3cret",
        tls=True,
        ca_file=Path("/etc/ca.pem"),
        device_id="bedside",
        keepalive=30,
        breath_sensor="mqtt",
        breath_topic="home/rate",
    )
    assert repr(s) == (
        "MqttSettings(host='broker.lan', port=8883, username='ring', password=***, tls=True, "
        "ca_file=/etc/ca.pem, discovery_prefix='homeassistant', topic='breathring', "
        "device_id='bedside', keepalive=30, breath_sensor='mqtt', breath_topic='home/rate')"
    )
    assert "password=None," in repr(MqttSettings())


def test_only_an_mqtt_breath_sensor_has_a_topic(tmp_path: Path, machine_id: Path) -> None:
    topic = 'topic = "home/bedroom/rate"\n'
    path = write(tmp_path, f'[breath_sensor]\nkind = "mqtt"\n{topic}')
    s = load_mqtt_settings(path, machine_id)
    assert (s.breath_sensor, s.breath_topic) == ("mqtt", "home/bedroom/rate")
    path = write(tmp_path, f'[breath_sensor]\nkind = "mr60bha2"\n{topic}')
    s = load_mqtt_settings(path, machine_id)
    assert (s.breath_sensor, s.breath_topic) == ("mr60bha2", None)
    s = resolve(MqttConfig(), machine_id_path=machine_id)
    assert (s.breath_sensor, s.breath_topic) == ("none", None)
