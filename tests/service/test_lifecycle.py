"""The service process as systemd runs it: READY, watchdog, reload, a clean stop, exit codes."""

from __future__ import annotations

import json
import signal
import time
from itertools import pairwise

import pytest

#: Generous bounds for a loaded CI machine; the service itself is much faster.
START_TIMEOUT_S = 10.0


WATCHDOG_USEC = 200_000


#: The service's "old" configuration differs from the defaults, so a bad reload that
#: fell back to the defaults instead of keeping it would show (the pattern would change).
OLD_CONFIG = '[session]\npattern = "box"\n[ring]\nbrightness = 0.5\n'


@pytest.fixture
def service(service_process):
    return service_process(config=OLD_CONFIG, extra_env={"WATCHDOG_USEC": str(WATCHDOG_USEC)})


def frame_totals(service) -> list[int]:
    return [sum(bytes.fromhex(line)) for line in service.trace_lines()]


def test_ready_watchdog_control_reload_and_clean_stop(service):
    service.wait_ready(START_TIMEOUT_S, drain=False)
    # Watchdog pings keep coming at about half of WATCHDOG_USEC.
    service.messages.clear()
    service.receive("never", 1.0)
    pings = [t for t, m in service.messages if m == "WATCHDOG=1"]
    assert len(pings) >= 5
    gaps = [b - a for a, b in pairwise(pings)]
    assert max(gaps) < WATCHDOG_USEC / 1e6  # never late enough for systemd to act

    result = service.cli("press")
    assert result.returncode == 0, result.stderr
    status = json.loads(service.cli("status", "--json").stdout)
    assert status["state"] == "session" and status["pattern"] == "box"

    # A broken file on SIGHUP: reported, old configuration kept, still running.
    service.config.write_text("[ring]\nbrightness = 7\n")
    service.proc.send_signal(signal.SIGHUP)
    time.sleep(0.3)  # a real process: give it a moment to read the file
    assert service.proc.poll() is None
    assert service.cli("stop").returncode == 0
    time.sleep(1.0)  # the cancelled session has faded out
    assert service.cli("press").returncode == 0
    status = json.loads(service.cli("status", "--json").stdout)
    assert status["pattern"] == "box"  # the old configuration, not the defaults

    time.sleep(4.5)  # well into the first in-breath: the ring is lit
    lit = frame_totals(service)[-1]
    assert lit > 0
    sent_after = len(frame_totals(service))
    sent = time.monotonic()
    service.proc.send_signal(signal.SIGTERM)
    assert service.receive("STOPPING=1", 2.0)
    code = service.proc.wait(timeout=5)
    elapsed = time.monotonic() - sent
    stderr = service.stderr()
    assert code == 0, stderr
    assert elapsed < 1.0
    after = frame_totals(service)[sent_after - 1 :]
    # A fade, not a cut: several frames between the lit level and dark.
    assert sum(1 for total in after if 0.1 * lit < total < 0.9 * lit) >= 5, after
    assert after[-1] == 0, after  # dark at exit
    assert "reload failed, keeping the old configuration" in stderr
    assert "ring.brightness" in stderr
    assert "Traceback" not in stderr


def test_bad_config_at_start_exits_78(service_process):
    s = service_process(config="[ring]\npixles = 3\n")
    assert s.proc.wait(timeout=20) == 78
    err = s.stderr()
    assert "ring.pixles" in err and "did you mean ring.pixels" in err
    assert "Traceback" not in err
