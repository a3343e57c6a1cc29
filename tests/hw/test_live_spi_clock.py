"""The live SPI clock and buffer: `vcgencmd` first, then debugfs, then nothing.

The readers take the command runner and the files as arguments; a fake `vcgencmd` on PATH
stands in for the firmware's tool and files under tmp_path for debugfs and sysfs.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from breathring.hw.boot_config import live_bufsiz, live_core_mhz


def files(tmp_path: Path, *contents: str | None) -> list[Path]:
    """One path per content under tmp_path; None leaves that file missing."""
    paths = []
    for i, text in enumerate(contents):
        path = tmp_path / f"clk{i}" / "clk_rate"
        if text is not None:
            path.parent.mkdir()
            path.write_text(text)
        paths.append(path)
    return paths


def test_vcgencmd_is_asked_for_the_core_clock_first(tmp_path: Path) -> None:
    asked: list[list[str]] = []

    def run(cmd: list[str]) -> str:
        asked.append(cmd)
        return "frequency(1)=250000000\n"

    assert live_core_mhz(run, files(tmp_path, "500000000\n")) == 250.0
    assert asked == [["vcgencmd", "measure_clock", "core"]]


@pytest.mark.parametrize("answer", ["VCHI initialization failed\n", "frequency(1)=0\n", ""])
def test_an_unusable_answer_falls_back_to_the_first_readable_clock_file(
    tmp_path: Path, answer: str
) -> None:
    paths = files(tmp_path, None, "not a number\n", "500000000\n", "200000000\n")
    assert live_core_mhz(lambda cmd: answer, paths) == 500.0


@pytest.mark.parametrize(
    "error", [OSError("no such device"), subprocess.TimeoutExpired(["vcgencmd"], 5)]
)
def test_a_failing_vcgencmd_falls_back_to_debugfs(tmp_path: Path, error: Exception) -> None:
    def run(cmd: list[str]) -> str:
        raise error

    assert live_core_mhz(run, files(tmp_path, " 250000000 \n")) == 250.0
    assert live_core_mhz(run, files(tmp_path / "none", None)) is None


def test_no_clock_anywhere_is_none(tmp_path: Path) -> None:
    assert live_core_mhz(lambda cmd: "", files(tmp_path, None, "x\n")) is None
    assert live_core_mhz(lambda cmd: "", []) is None


def fake_vcgencmd(bin_dir: Path, answer: str) -> None:
    """A `vcgencmd` that answers `measure_clock core` only."""
    bin_dir.mkdir()
    tool = bin_dir / "vcgencmd"
    tool.write_text(f'#!/bin/sh\n[ "$*" = "measure_clock core" ] && echo "{answer}"\nexit 0\n')
    tool.chmod(0o755)


def test_the_vcgencmd_on_path_is_run_when_no_runner_is_given(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_vcgencmd(tmp_path / "bin", "frequency(1)=400000000")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert live_core_mhz(paths=files(tmp_path, "250000000\n")) == 400.0


def test_a_runner_given_is_asked_even_with_a_vcgencmd_on_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fake_vcgencmd(tmp_path / "bin", "frequency(1)=400000000")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    assert live_core_mhz(lambda cmd: "frequency(1)=250000000", []) == 250.0


def test_without_vcgencmd_only_debugfs_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert live_core_mhz(paths=files(tmp_path, "333000000\n")) == 333.0
    assert live_core_mhz(paths=[]) is None


def test_the_spidev_buffer_is_read_from_its_module_parameter(tmp_path: Path) -> None:
    bufsiz = tmp_path / "bufsiz"
    bufsiz.write_text("8192\n")
    assert live_bufsiz(bufsiz) == 8192
    bufsiz.write_text("big\n")
    assert live_bufsiz(bufsiz) is None
    assert live_bufsiz(tmp_path / "missing") is None


def test_vcgencmd_gets_five_seconds_to_answer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hung firmware mailbox must not hold `breathring check` up for long: the call is
    observed (not waited out), its time limit written down."""
    fake_vcgencmd(tmp_path / "bin", "frequency(1)=400000000")
    monkeypatch.setenv("PATH", str(tmp_path / "bin"))
    calls: list[tuple[list[str], dict[str, object]]] = []

    def observed_run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
        calls.append((cmd, kwargs))
        return subprocess.CompletedProcess(cmd, 0, stdout="frequency(1)=300000000\n")

    monkeypatch.setattr(subprocess, "run", observed_run)
    assert live_core_mhz(paths=[]) == 300.0
    assert calls == [
        (
            ["vcgencmd", "measure_clock", "core"],
            {"capture_output": True, "text": True, "timeout": 5},
        )
    ]
