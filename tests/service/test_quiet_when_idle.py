"""Quiet when idle: the real service closes its sound device while it waits, opens it for use.

`breathring run --hardware mock` plays through the real pygame mixer on SDL's dummy
driver, whose audio thread ("SDLAudioP2") feeds the device for as long as the mixer is
open: its presence in /proc tells whether the device is open. Idle, no thread of the
process may wake more than a couple of times a second (context switches, counted).
"""

from __future__ import annotations

import threading
import time
from pathlib import Path

from testkit import wait_until
from testkit.stack import SHORT_SESSION as SHORT_ONE_BREATH

#: One short custom breath, and a sound device that closes 5 s after the last sound.
SHORT_SESSION = SHORT_ONE_BREATH + "\n[audio]\nidle_close_seconds = 5\n"
#: The device is closed 5 s after the light stopped changing; give a loaded machine slack.
CLOSED_WITHIN_S = 5.0 + 5.0
SESSION_S = 5.5
#: Idle, the whole process may wake at most this often (the issue's goal: 2 a second).
MAX_IDLE_WAKEUPS_PER_S = 2.0
IDLE_WINDOW_S = 3.0


def audio_threads(pid: int) -> list[str]:
    names = (p.read_text().strip() for p in Path(f"/proc/{pid}/task").glob("*/comm"))
    return [name for name in names if name.startswith("SDLAudio")]


def context_switches(pid: int) -> int:
    """Voluntary and involuntary context switches of every thread: each wake-up is one."""
    total = 0
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        for line in status.read_text().splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                total += int(line.split()[1])
    return total


def test_the_sound_device_is_closed_while_idle_and_opened_for_a_session(service_process):
    proc = service_process(config=SHORT_SESSION)
    proc.wait_ready()
    wait_until(lambda: audio_threads(proc.pid) == [], CLOSED_WITHIN_S, "the device closed")

    assert proc.cmd(cmd="press")["state"] == "session"
    wait_until(lambda: len(audio_threads(proc.pid)) == 1, what="the device open")
    wait_until(lambda: proc.cmd(cmd="status")["state"] == "idle", SESSION_S + CLOSED_WITHIN_S)
    wait_until(lambda: audio_threads(proc.pid) == [], CLOSED_WITHIN_S, "the device closed again")
    assert "ERROR" not in proc.stderr() and "WARNING breathring.audio" not in proc.stderr()


def test_an_idle_service_does_not_wake_for_nothing(service_process):
    proc = service_process(config=SHORT_SESSION)
    proc.wait_ready()
    wait_until(lambda: audio_threads(proc.pid) == [], CLOSED_WITHIN_S, "the device closed")
    before = context_switches(proc.pid)
    started = time.monotonic()
    # The measurement is a window of real time in which the process is left alone.
    threading.Event().wait(IDLE_WINDOW_S)
    woke = context_switches(proc.pid) - before
    elapsed = time.monotonic() - started
    assert woke <= MAX_IDLE_WAKEUPS_PER_S * elapsed, f"{woke} wake-ups in {elapsed:.1f} s idle"
