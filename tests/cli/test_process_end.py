"""How the `breathring` process ends (cli.entry): soon after `run` stopped in order.

After SIGTERM the service closes everything it holds and logs its last line; the exit handlers
then run (libraries release hardware there: rpi_ws281x's DMA and memory, gpiozero's pins) and
the process ends without the interpreter's finalization (freeing every module), which took
part of a 1.6-s `systemctl stop` on an emulated arm64 CPU. Other commands end normally.

A sitecustomize on PYTHONPATH registers an exit handler that writes one mark file, and keeps
another file open with unflushed text: only finalization (freeing the module's objects)
flushes that text into it.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from testkit.paths import ROOT
from testkit.process import TRACED_RUN

EXIT_OK = 0
LAST_LINE = "stopped; the ring is dark"
HOOK = """\
import atexit
import os


def _mark():
    with open(os.environ["BREATHRING_TEST_ATEXIT_MARK"], "w") as f:
        f.write("exit handlers ran")


atexit.register(_mark)
_left_open = open(os.environ["BREATHRING_TEST_FINAL_MARK"], "w")  # noqa: SIM115
_left_open.write("finalized")
"""
HANDLERS_RAN = "exit handlers ran"
FINALIZED = "finalized"


def _hook(tmp_path: Path) -> tuple[dict[str, str], Path, Path]:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK)
    handlers, final = tmp_path / "atexit.mark", tmp_path / "final.mark"
    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "firmware"), str(hook_dir)]),
        "BREATHRING_TEST_ATEXIT_MARK": str(handlers),
        "BREATHRING_TEST_FINAL_MARK": str(final),
    }
    return env, handlers, final


def test_run_stopped_by_sigterm_runs_exit_handlers_not_finalization(tmp_path, service_process):
    env, handlers, final = _hook(tmp_path)
    service = service_process(extra_env=env)
    service.wait_ready()
    assert service.stop() == EXIT_OK
    assert LAST_LINE in service.stderr()
    assert handlers.read_text() == HANDLERS_RAN
    assert final.read_text() == "", "the interpreter was finalized after an orderly stop"


def test_other_commands_end_normally(tmp_path):
    env, handlers, final = _hook(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("")
    done = subprocess.run(
        [
            sys.executable,
            str(TRACED_RUN),
            "config",
            "check",
            "--config",
            str(config),
        ],
        env=dict(os.environ, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == EXIT_OK, done.stderr
    assert handlers.read_text() == HANDLERS_RAN
    assert final.read_text() == FINALIZED


def test_a_run_that_cannot_start_ends_normally_with_its_code(tmp_path):
    env, handlers, final = _hook(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[ring]\npixels = -3\n")
    done = subprocess.run(
        [sys.executable, str(TRACED_RUN), "run", "--hardware", "mock"],
        env=dict(os.environ, **env, BREATHRING_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    assert "ring.pixels" in done.stderr
    assert handlers.read_text() == HANDLERS_RAN
    assert final.read_text() == FINALIZED
