"""The bridge's password file and CA file: what is read, and each refusal word for word.

Paths are relative to tmp_path (the test changes into it), so messages stay short and whole.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from breathring.config import ConfigError, MqttConfig
from breathring.mqtt.settings import (
    FileProblem,
    check_ca_file,
    load_mqtt_settings,
    read_password,
    resolve,
)


@pytest.fixture(autouse=True)
def in_tmp(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "machine-id").write_text("0123456789abcdef0123456789abcdef\n")
    return tmp_path


def refusal(path: Path) -> str:
    with pytest.raises(FileProblem) as caught:
        read_password(path)
    return str(caught.value)


def test_the_password_is_the_first_line(tmp_path: Path) -> None:
    Path("pw").write_text("s3cret \nsecond line\n")
    assert read_password(Path("pw")) == "s3cret "
    Path("pw").write_bytes(b"x" * 4096)
    assert read_password(Path("pw")) == "x" * 4096
    Path("pw").write_text("caf\u00e9\r\n")
    assert read_password(Path("pw")) == "caf\u00e9"


def test_a_password_file_over_4096_bytes_is_refused() -> None:
    Path("pw").write_bytes(b"x" * 4097)
    assert refusal(Path("pw")) == (
        "pw is larger than 4096 bytes; allowed: a file holding only the broker password"
    )


def test_a_password_file_not_in_utf8_is_refused() -> None:
    Path("pw").write_bytes(b"caf\xe9\n")
    assert refusal(Path("pw")) == (
        "pw is not UTF-8 text; allowed: a text file holding the broker password"
    )


@pytest.mark.parametrize("content", ["", "\n", "\nsecond line\n"])
def test_a_password_file_with_an_empty_first_line_is_refused(content: str) -> None:
    Path("pw").write_text(content)
    assert refusal(Path("pw")) == (
        "pw is empty; allowed: a file whose first line is the broker password"
    )


def test_an_unreadable_password_file_names_the_reason() -> None:
    assert refusal(Path("none")) == (
        "cannot read none: No such file or directory; "
        "allowed: a file readable by the bridge holding the broker password"
    )
    Path("dir").mkdir()
    assert refusal(Path("dir")) == (
        "cannot read dir: Is a directory; "
        "allowed: a file readable by the bridge holding the broker password"
    )


def test_the_ca_file_must_be_readable() -> None:
    Path("ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    assert check_ca_file(Path("ca.pem")) == Path("ca.pem")
    with pytest.raises(FileProblem) as caught:
        check_ca_file(Path("none.pem"))
    assert str(caught.value) == (
        "cannot read none.pem; "
        "allowed: a readable PEM file of CA certificates (or leave it out: system CAs)"
    )


def test_a_file_problem_names_the_config_file_key_value_and_line() -> None:
    Path("config.toml").write_text('# mine\n[mqtt]\ntls = true\nca_file = "none.pem"\n')
    with pytest.raises(ConfigError) as caught:
        load_mqtt_settings("config.toml", Path("machine-id"))
    assert str(caught.value) == (
        'config.toml: mqtt.ca_file = "none.pem": cannot read none.pem; '
        "allowed: a readable PEM file of CA certificates (or leave it out: system CAs) (line 4)"
    )
    assert (caught.value.key, caught.value.line) == ("mqtt.ca_file", 4)


def test_without_a_config_file_the_message_says_so() -> None:
    mqtt = MqttConfig(username="u", password_file="none")
    with pytest.raises(ConfigError) as caught:
        resolve(mqtt, None, Path("machine-id"))
    assert str(caught.value) == (
        'no config file: mqtt.password_file = "none": cannot read none: No such file or '
        "directory; allowed: a file readable by the bridge holding the broker password"
    )
    assert (caught.value.key, caught.value.line) == ("mqtt.password_file", None)


@pytest.mark.parametrize("source", [Path("gone.toml"), Path("latin1.toml")])
def test_a_config_file_that_cannot_be_read_again_gives_no_line(source: Path) -> None:
    Path("latin1.toml").write_bytes(b'[mqtt]\nusername = "caf\xe9"\npassword_file = "none"\n')
    mqtt = MqttConfig(username="u", password_file="none")
    with pytest.raises(ConfigError) as caught:
        resolve(mqtt, source, Path("machine-id"))
    assert str(caught.value) == (
        f'{source}: mqtt.password_file = "none": cannot read none: No such file or '
        "directory; allowed: a file readable by the bridge holding the broker password"
    )


def test_the_files_named_are_what_the_bridge_connects_with() -> None:
    Path("pw").write_text("s3cret\n")
    Path("ca.pem").write_text("-----BEGIN CERTIFICATE-----\n")
    mqtt = MqttConfig(username="ring", password_file="pw", tls=True, ca_file="ca.pem")
    s = resolve(mqtt, None, Path("machine-id"))
    assert (s.username, s.password, s.tls, s.ca_file) == ("ring", "s3cret", True, Path("ca.pem"))
