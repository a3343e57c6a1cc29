"""`breathring web` and `breathring mqtt` without their extra: one line naming it, exit 69.

The extra's module is made unimportable in a child process (a None entry in
sys.modules, as if it were not installed), so the test runs where it is installed.
"""

from __future__ import annotations

import subprocess

import pytest
from testkit.process import run_cli

RUN = (
    "import sys\n"
    "for name in sys.argv[1].split(','):\n"
    "    sys.modules[name] = None\n"
    "from breathring.cli import main\n"
    "raise SystemExit(main(sys.argv[2:]))\n"
)


def _run(hidden: str, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(hidden, *args, python=("-c", RUN), timeout=60)


@pytest.mark.parametrize(
    ("hidden", "command"),
    [
        ("aiohttp", "web"),
        ("paho", "mqtt"),
        ("paho.mqtt.enums", "mqtt"),  # paho-mqtt 1.x: no enums module
    ],
)
def test_a_missing_extra_is_one_line_and_exit_69(tmp_path, hidden, command):
    token = tmp_path / "web.token"
    token.write_text("a" * 64 + "\n", encoding="utf-8")
    config = tmp_path / "config.toml"
    config.write_text('[mqtt]\nhost = "127.0.0.1"\n', encoding="utf-8")
    extra = ["--token-file", str(token)] if command == "web" else ["--config", str(config)]
    result = _run(hidden, command, *extra)
    assert result.returncode == 69, result.stderr
    assert result.stdout == ""
    assert result.stderr.splitlines() == [
        f"breathring {command} needs the {command} extra: pip install 'breathring[{command}]' "
        f"(on the Pi: sudo systemd/install.sh --{command})"
    ]


def test_web_url_needs_no_extra(tmp_path):
    token = tmp_path / "web.token"
    token.write_text("b" * 64 + "\n", encoding="utf-8")
    token.chmod(0o640)  # breathring web refuses a token file others can read
    result = _run(
        "aiohttp", "web", "--token-file", str(token), "--url", "--listen", "10.1.2.3:8080"
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[0] == f"http://10.1.2.3:8080/?token={'b' * 64}"


@pytest.mark.parametrize(("hidden", "command"), [("aiohttp", "web"), ("paho", "mqtt")])
def test_help_works_without_the_extra(hidden, command):
    result = _run(hidden, command, "--help")
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith(f"usage: breathring {command}")
