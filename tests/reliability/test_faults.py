"""Fault injection: ring write errors, audio gone mid-session, bad storage, clock jumps.

Each test runs the service loop in virtual time and checks that the device goes
on: the session keeps its pace, the ring ends dark, each problem is logged once
(or rate-limited), and what must be remembered is kept.
"""

from __future__ import annotations

import errno
import json
import logging
import os
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.rig import make_rig

from breathring.config import Config
from breathring.service import ERROR_LOG_INTERVAL_S, RING_RETRY_S
from breathring.state import STATE_FILE, TEMP_FILE

#: The default session: lead-in 2 s, three breaths of 4 + 6 s, closing 2.5 s.
SESSION_S = 2.0 + 3 * 10.0 + 2.5
SESSION_CUES = ["start", "inhale", "exhale", "inhale", "exhale", "inhale", "exhale", "end"]
#: Cue times (monotonic, from the press) of the default session.
CUE_TIMES = [0.0, 2.0, 6.0, 12.0, 16.0, 22.0, 26.0, 32.0]
#: One frame at the default 100 fps.
FRAME_S = 0.01


def _messages(caplog, level: int, name: str = "breathring") -> list[str]:
    return [
        r.getMessage() for r in caplog.records if r.levelno == level and r.name.startswith(name)
    ]


def _cue_times(rig, start: float) -> list[tuple[str, float]]:
    return [(c, t - start) for c, t, _ in rig.audio.played]


def _on_time(rig, start: float) -> bool:
    """The default session's cues, each on the first frame at or after its nominal time."""
    got = _cue_times(rig, start)
    return [c for c, _ in got] == SESSION_CUES and all(
        0.0 <= t - nominal <= FRAME_S + 1e-6 for (_, t), nominal in zip(got, CUE_TIMES, strict=True)
    )


# ------------------------------------------------------------------ the ring


def test_ring_errors_now_and_then_during_a_session(caplog):
    rig = make_rig()
    rig.ring.fail_every = 5  # 20 % of the writes fail, all session long
    start = rig.clock.monotonic()
    rig.button.press()
    rig.run_for(SESSION_S + 1.0)
    errors = _messages(caplog, logging.ERROR)
    assert 1 <= len(errors) <= 2  # rate-limited: at most one per 30 s
    assert rig.ring.attempts > 3000 and rig.ring.writes >= 0.79 * rig.ring.attempts
    assert _on_time(rig, start), _cue_times(rig, start)
    assert rig.ring.lit == 0  # the last frame (dark) got through


def test_ring_dead_for_minutes_then_back(caplog):
    caplog.set_level(logging.INFO)
    rig = make_rig()
    rig.button.press()
    rig.run_for(5.0)
    rig.ring.fail_next(10**9)  # unplugged
    rig.run_for(300.0)  # the session ends meanwhile; the dark frame cannot be sent
    assert rig.service.engine.controller.state == "idle"
    failed_attempts = rig.ring.attempts
    rig.run_for(60.0)
    retries = rig.ring.attempts - failed_attempts
    assert retries == pytest.approx(60.0 / RING_RETRY_S, abs=2)  # retried once a second
    errors = [m for m in _messages(caplog, logging.ERROR) if "ring failed" in m]
    assert len(errors) <= (365.0 / ERROR_LOG_INTERVAL_S) + 1
    assert "more since the last report" in errors[-1]
    rig.ring.heal()  # plugged back in
    rig.run_for(RING_RETRY_S + 0.1)
    assert rig.ring.lit == 0 and rig.ring.last == [(0, 0, 0)] * rig.ring.pixels
    assert "the ring works again" in _messages(caplog, logging.INFO)
    before = rig.ring.writes
    rig.run_for(30.0)
    assert rig.ring.writes == before  # recovered: idle and quiet again, no more retries
    rig.button.press()
    rig.run_for(1.0)
    assert rig.ring.lit > 0  # and the next session shows


# ------------------------------------------------------------------ the speaker


@pytest.fixture
def pygame_audio(monkeypatch):
    import pygame  # a hard dependency: a broken install fails, never skips

    monkeypatch.setenv("SDL_AUDIODRIVER", "dummy")
    yield pygame
    pygame.mixer.quit()


def test_audio_device_disappears_mid_session(pygame_audio, monkeypatch, caplog):
    from breathring.hw.audio import PygameAudio

    pygame = pygame_audio
    rig = make_rig()
    audio = PygameAudio(Config().audio, rig.clock)
    assert audio.available
    rig.hw.audio = audio
    plays: list[str] = []
    real_play = audio.play

    def counting_play(cue: str, volume: float) -> None:
        plays.append(cue)
        real_play(cue, volume)

    audio.play = counting_play  # type: ignore[method-assign]
    rig.button.press()
    rig.run_for(7.0)  # start, inhale, exhale played

    def unplugged(*_args, **_kwargs):
        raise pygame.error("Audio device has been removed")

    pygame.mixer.quit()  # the device goes away under the open mixer: play() now fails
    monkeypatch.setattr(pygame.mixer, "init", unplugged)  # and it cannot be reopened
    frames_before = rig.service.frames.timing.frames_sent
    rig.run_for(SESSION_S - 7.0 + 1.0)
    assert not audio.available
    warnings = [m for m in _messages(caplog, logging.WARNING, "breathring.audio")]
    assert len(warnings) == 1 and "not initialized" in warnings[0], warnings
    assert not _messages(caplog, logging.ERROR)
    assert plays == SESSION_CUES  # the loop went on asking; the device stayed silent
    assert rig.service.frames.timing.frames_sent - frames_before >= (SESSION_S - 7.0) / FRAME_S - 2
    assert rig.ring.lit == 0
    rig.button.press()  # the next session runs too, silently
    rig.run_for(SESSION_S + 1.0)
    assert len([m for m in _messages(caplog, logging.WARNING, "breathring.audio")]) == 1
    assert rig.service.engine.controller.state == "idle" and rig.ring.lit == 0


# ------------------------------------------------------------------ the state directory


def _toggle(rig) -> None:
    rig.hold()
    rig.run_for(2.0)


def _assert_keeps_working_in_memory(rig, caplog) -> None:
    _toggle(rig)
    _toggle(rig)
    _toggle(rig)
    assert rig.service.engine.controller.reminders_enabled is False
    assert rig.service.store.state.reminders_enabled is False  # kept in memory
    warnings = _messages(caplog, logging.WARNING, "breathring.state")
    assert len(warnings) == 1 and "keeping it in memory" in warnings[0]
    assert not _messages(caplog, logging.ERROR)
    rig.button.press()
    rig.run_for(SESSION_S + 1.0)
    assert rig.ring.lit == 0 and rig.service.engine.controller.state == "idle"


def test_read_only_state_directory(caplog):
    """/proc/self refuses new files even to root: a real read-only directory."""
    rig = make_rig(state_dir=Path("/proc/self"))
    _assert_keeps_working_in_memory(rig, caplog)


def test_full_disk(tmp_path, caplog):
    """The temporary file is a link to /dev/full: each write fails with ENOSPC, for real.

    (The store removes its failed temporary file, so the link is put back before each save.)
    """
    caplog.set_level(logging.INFO)
    state = tmp_path / "state"
    state.mkdir()
    (state / STATE_FILE).write_text('{"version": 1, "reminders_enabled": true}\n')
    rig = make_rig(state_dir=state)
    for _ in range(3):
        if not (state / TEMP_FILE).is_symlink():
            (state / TEMP_FILE).symlink_to("/dev/full")
        _toggle(rig)
    assert rig.service.engine.controller.reminders_enabled is False
    assert rig.service.store.state.reminders_enabled is False  # kept in memory
    warnings = _messages(caplog, logging.WARNING, "breathring.state")
    assert len(warnings) == 1 and os.strerror(errno.ENOSPC) in warnings[0]
    assert not _messages(caplog, logging.ERROR)
    # The old file is intact (atomic write), and saving works once there is room again.
    assert json.loads((state / STATE_FILE).read_text())["reminders_enabled"] is True
    (state / TEMP_FILE).unlink(missing_ok=True)
    _toggle(rig)
    assert json.loads((state / STATE_FILE).read_text())["reminders_enabled"] is True
    assert "works again" in " ".join(_messages(caplog, logging.INFO, "breathring.state"))
    rig.button.press()
    rig.run_for(SESSION_S + 1.0)
    assert rig.ring.lit == 0


@pytest.mark.parametrize(
    "content",
    [b"", b"\x00" * 64, b"{not json", b'{"version": 1, "reminders_enabled": "yes"}', b"\xff\xfe"],
    ids=["empty", "nul-bytes", "truncated", "wrong-type", "not-utf8"],
)
def test_corrupt_state_file(tmp_path, caplog, content):
    (tmp_path / STATE_FILE).write_bytes(content)
    rig = make_rig(state_dir=tmp_path)
    assert rig.service.engine.controller.reminders_enabled is True  # the config's default
    assert len(_messages(caplog, logging.WARNING, "breathring.state")) == 1
    _toggle(rig)
    saved = json.loads((tmp_path / STATE_FILE).read_text())
    assert saved == {"version": 1, "reminders_enabled": False, "last_pulse": None}


# ------------------------------------------------------------------ the clock


@pytest.mark.parametrize("jump", [timedelta(hours=3), timedelta(hours=-3), timedelta(days=-400)])
def test_wall_clock_jump_mid_session_keeps_the_pace(jump):
    """Sessions run on the monotonic clock: a wall-clock jump changes nothing in them."""
    steady = make_rig()
    steady.button.press()
    steady.run_for(SESSION_S + 1.0)

    jumped = make_rig()
    start = jumped.clock.monotonic()
    jumped.button.press()
    jumped.run_for(9.0)
    jumped.clock.jump_wall(jump)
    jumped.run_for(SESSION_S - 9.0 + 1.0)
    assert _on_time(jumped, start), _cue_times(jumped, start)
    assert _cue_times(jumped, start) == _cue_times(steady, 0.0)
    assert [f.phase for f in jumped.frames] == [f.phase for f in steady.frames]
    assert jumped.ring.frames[-200:] == steady.ring.frames[-200:]
    assert jumped.ring.lit == 0
