"""`breathring mqtt` in the main CLI, and `[mqtt]` in the one config the service reads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from breathring.cli import main
from breathring.config import load_config

ROOT = Path(__file__).resolve().parents[2]

FULL_SECTION = """\
[ring]
pixels = 16

[mqtt]
host = "homeassistant.local"
port = 8884
username = "breathring"
password_file = "/etc/breathring/mqtt.password"
tls = true
ca_file = "/etc/breathring/ca.pem"
discovery_prefix = "homeassistant"
topic = "home/bedroom"
device_id = "bedside-1"
keepalive = 30
"""


def test_help_lists_mqtt(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "mqtt         bridge the device to an MQTT broker for Home Assistant" in out


def test_mqtt_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["mqtt", "--help"])
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: breathring mqtt [-h] [--config FILE] [--socket PATH]")


def test_help_does_not_import_paho() -> None:
    code = (
        "import sys\n"
        "from breathring.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in sys.modules if m.startswith('paho')))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        env={"PYTHONPATH": str(ROOT / "firmware"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines()[-1] == "[]"


def test_the_service_accepts_an_mqtt_section(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(FULL_SECTION, encoding="utf-8")
    cfg = load_config(path)  # what `breathring run` loads: it must not exit 78
    assert (cfg.ring.pixels, cfg.mqtt.host, cfg.mqtt.port) == (16, "homeassistant.local", 8884)
    assert (cfg.mqtt.topic, cfg.mqtt.device_id, cfg.mqtt.keepalive) == (
        "home/bedroom",
        "bedside-1",
        30,
    )
    assert cfg.mqtt.password_file == "/etc/breathring/mqtt.password"


def test_config_check_accepts_and_refuses_mqtt(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    good = tmp_path / "good.toml"
    good.write_text(FULL_SECTION, encoding="utf-8")
    assert main(["config", "check", "--config", str(good)]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text('[mqtt]\nhost = "broker.lan"\ndevice_id = "bed side"\n', encoding="utf-8")
    assert main(["config", "check", "--config", str(bad)]) == 78
    err = capsys.readouterr().err
    assert (
        f'{bad}: mqtt.device_id = "bed side" is not allowed; allowed "" (from the machine id) '
        "or 1-64 letters, digits, _ and - (line 3)"
    ) in err


def test_config_defaults_and_show_carry_the_section(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["config", "defaults"]) == 0
    defaults = capsys.readouterr().out
    section = defaults[defaults.index("[mqtt]") :]
    assert '\nhost = "localhost"\n' in section
    assert "\nport = 0\n" in section
    assert '\ndiscovery_prefix = "homeassistant"\n' in section
    assert "# the broker's port; allowed 1-65535, or 0 for 1883 (8883 with tls)\n" in section
    path = tmp_path / "config.toml"
    path.write_text(FULL_SECTION, encoding="utf-8")
    assert main(["config", "show", "--config", str(path)]) == 0
    shown = capsys.readouterr().out
    assert '[mqtt]\nhost = "homeassistant.local"\nport = 8884\n' in shown


def test_main_cli_runs_the_bridge_checks(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("BREATHRING_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)  # a short relative path: the whole value shows in the message
    Path("pw").write_text("\n", encoding="utf-8")
    Path("config.toml").write_text('[mqtt]\nusername = "u"\npassword_file = "pw"\n')
    assert main(["mqtt", "--config", "config.toml"]) == 78
    assert capsys.readouterr().err.strip() == (
        'breathring: configuration error: config.toml: mqtt.password_file = "pw": pw is '
        "empty; allowed: a file whose first line is the broker password (line 3)"
    )
