"""Command-line mistakes and unwritable outputs: one line, a documented exit code."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from testkit import ROOT
from testkit.process import run_cli

from breathring.cli import main

#: The exit codes, written down here (not imported): the documented contract.
USAGE = 2
UNAVAILABLE = 69
CANT_CREATE = 73
CONFIG = 78
REFUSED = 1


def cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, env=env, timeout=60)


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--seconds", "nan"),
        ("--seconds", "inf"),
        ("--seconds", "-inf"),
        ("--press", "nan"),
        ("--press", "inf"),
        ("--hold", "nan"),
        ("--double", "Infinity"),
    ],
)
def test_simulate_refuses_non_finite_times(option, value, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["simulate", f"{option}={value}"])
    assert exc.value.code == USAGE
    err = capsys.readouterr().err
    assert option in err and value in err and "Traceback" not in err


@pytest.mark.parametrize("command", ["simulate", "render"])
def test_unwritable_output_is_one_line_and_exit_73(command, tmp_path):
    missing = tmp_path / "no-such-dir" / "out.file"
    result = cli(command, "--out", str(missing))
    assert result.returncode == CANT_CREATE, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str(missing) in lines[0] and "No such file or directory" in lines[0]
    # A directory in the way: also 73, naming the path.
    result = cli(command, "--out", str(tmp_path))
    assert result.returncode == CANT_CREATE, result.stderr
    assert str(tmp_path) in result.stderr and "Traceback" not in result.stderr


def test_simulate_custom_pattern_without_durations_is_a_usage_error(capsys):
    assert main(["simulate", "--pattern", "custom", "--seconds", "1"]) == USAGE
    err = capsys.readouterr().err
    assert "--pattern custom" in err and "session.inhale" in err


def test_simulate_custom_pattern_with_durations_in_the_file_runs(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text('[session]\npattern = "custom"\ninhale = 3\nexhale = 5\n')
    assert main(["simulate", "--config", str(path), "--pattern", "custom", "--seconds", "1"]) == 0
    assert main(["simulate", "--config", str(path), "--pattern", "box", "--seconds", "1"]) == 0


def test_a_bad_configuration_file_is_still_78(tmp_path, capsys):
    path = tmp_path / "c.toml"
    path.write_text("[ring]\nbrightness = 7\n")
    assert main(["simulate", "--config", str(path), "--pattern", "box"]) == CONFIG


def test_help_documents_every_exit_code():
    result = cli("--help")
    assert result.returncode == 0
    text = " ".join(result.stdout.split())
    for code, meaning in (
        ("0", "done"),
        ("1", "refused"),
        ("2", "usage"),
        ("69", "unavailable"),
        ("73", "cannot create"),
        ("78", "bad configuration"),
        ("130", "interrupted"),
    ):
        assert f"{code} {meaning}" in text, (code, text)
    readme = " ".join((ROOT / "README.md").read_text().split())
    for code in ("0 done", "1 refused", "2 usage", "69", "73 cannot create", "78", "130"):
        assert code in readme


def test_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("breathring ") and out.strip().split()[-1][0].isdigit()


def test_check_off_a_pi_without_hardware_mock_exits_69():
    if Path("/proc/device-tree/model").exists():
        pytest.skip("this machine has a device tree; the test needs a machine that is not a Pi")
    result = cli("check", "--button-timeout", "0.1")
    assert result.returncode == UNAVAILABLE
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "--hardware mock" in lines[0]
    assert "all checks passed" not in result.stdout


def test_start_custom_refused_by_the_service_exits_1(tmp_path):
    """The service answers but refuses: exit 1 (not 69: it is running; not 78: no file is bad)."""
    import json
    import socket
    import threading

    path = tmp_path / "control.sock"
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)

    def answer() -> None:
        conn, _ = server.accept()
        with conn:
            conn.recv(4096)
            reply = {
                "ok": False,
                "code": "not-configured",
                "error": 'pattern "custom" needs session.pattern = "custom"',
            }
            conn.sendall(json.dumps(reply).encode() + b"\n")

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    try:
        result = cli("start", "--pattern", "custom", "--socket", str(path))
    finally:
        thread.join(timeout=10)
        server.close()
    assert result.returncode == REFUSED, result.stderr
    assert 'needs session.pattern = "custom"' in result.stderr
