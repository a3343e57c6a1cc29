"""How the `breathring` process ends (cli.entry): at once after `run` stopped in order.

After SIGTERM the service closes everything it holds and logs its last line; the process then
exits with os._exit instead of running the interpreter's teardown (atexit handlers, freeing
every module), which took over a second of `systemctl stop` on an emulated arm64 CPU. Other
commands end normally. A sitecustomize on PYTHONPATH registers an atexit handler that leaves
a mark file: no mark means the teardown was skipped.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from service_process import ROOT

EXIT_OK = 0
LAST_LINE = "stopped; the ring is dark"
HOOK = """\
import atexit
import os


def _mark():
    with open(os.environ["BREATHRING_TEST_ATEXIT_MARK"], "w") as f:
        f.write("teardown ran")


atexit.register(_mark)
"""


def _hook(tmp_path: Path) -> tuple[dict[str, str], Path]:
    hook_dir = tmp_path / "hook"
    hook_dir.mkdir()
    (hook_dir / "sitecustomize.py").write_text(HOOK)
    mark = tmp_path / "atexit.mark"
    env = {
        "PYTHONPATH": os.pathsep.join([str(ROOT / "firmware"), str(hook_dir)]),
        "BREATHRING_TEST_ATEXIT_MARK": str(mark),
    }
    return env, mark


def test_run_stopped_by_sigterm_skips_the_teardown_but_keeps_its_log(tmp_path, service_process):
    env, mark = _hook(tmp_path)
    service = service_process(extra_env=env)
    service.wait_ready()
    assert service.stop() == EXIT_OK
    assert LAST_LINE in service.stderr()
    assert not mark.exists(), "the interpreter's teardown ran after an orderly stop"


def test_other_commands_end_normally(tmp_path):
    env, mark = _hook(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("")
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "traced_run.py"),
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
    assert mark.read_text() == "teardown ran"


def test_a_run_that_cannot_start_ends_normally_with_its_code(tmp_path):
    env, mark = _hook(tmp_path)
    config = tmp_path / "config.toml"
    config.write_text("[ring]\npixels = -3\n")
    done = subprocess.run(
        [sys.executable, str(ROOT / "tests" / "traced_run.py"), "run", "--hardware", "mock"],
        env=dict(os.environ, **env, BREATHRING_CONFIG=str(config)),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 78, done.stderr
    assert "ring.pixels" in done.stderr
    assert mark.read_text() == "teardown ran"
