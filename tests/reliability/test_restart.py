"""Restart safety: SIGKILL in the middle of a session, then start again.

The new process clears the ring before anything else (its first trace line is all
zero), replaces the dead process's stale socket, and finds the saved state intact.
"""

from __future__ import annotations

import json
import signal
import time

from testkit.rig import Proc, short_tmp

from breathring.state import STATE_FILE, TEMP_FILE


def test_sigkill_mid_session_then_restart(tmp_path):
    base = short_tmp(tmp_path)
    first = Proc(base)
    try:
        first.wait_ready()
        assert first.cmd(cmd="reminders", value="off")["reminders"] is False
        time.sleep(1.0)  # the confirm blink ends
        assert first.cmd(cmd="start", pattern="box")["state"] == "session"
        time.sleep(1.5)
        assert int(first.trace_lines()[-1], 16) != 0  # lit when killed
        first.proc.send_signal(signal.SIGKILL)
        assert first.proc.wait(timeout=10) == -signal.SIGKILL
    finally:
        first.close()
    saved = json.loads((base / "state" / STATE_FILE).read_text())
    assert saved["reminders_enabled"] is False
    assert not (base / "state" / TEMP_FILE).exists()
    assert first.socket_path.exists()  # the dead process left its socket behind
    lines_before = len(first.trace_lines())

    second = Proc(base)
    try:
        second.wait_ready()
        new_lines = second.trace_lines()[lines_before:]
        assert new_lines and set(new_lines[0]) == {"0"}  # cleared at start
        status = second.cmd(cmd="status")
        assert status["ok"] and status["state"] == "idle" and status["reminders"] is False
        assert json.loads((base / "state" / STATE_FILE).read_text()) == saved
        assert second.stop() == 0
        stderr = second.stderr()
        assert "Traceback" not in stderr and " ERROR " not in stderr, stderr
        assert set(second.trace_lines()[-1]) == {"0"}
    finally:
        second.close()
