"""`breathring demo` sounds like the device: cues and guide tones through the speaker."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from testkit.mock_hw import RecordingAudio

from breathring.clock import SystemClock
from breathring.config import parse_config
from breathring.demo import run_demo

ROOT = Path(__file__).resolve().parents[2]
#: The demo runs in real time: long enough for the lead-in and the first in-breath cue.
DEMO_S = 2.5


def test_demo_plays_cues_and_guide_tones_through_the_audio_it_is_given():
    audio = RecordingAudio(SystemClock())
    cfg = parse_config("[audio]\nguide_tone = true\n")
    assert run_demo(cfg, seconds=DEMO_S, out=io.StringIO(), audio=audio) == 0
    assert audio.cues[:3] == ["start", "inhale", "guide:inhale"]
    assert audio.closed  # released at the end


def demo(*args: str, driver: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT / "firmware"), SDL_AUDIODRIVER=driver)
    return subprocess.run(
        [sys.executable, "-m", "breathring.cli", "-v", "demo", "--seconds", str(DEMO_S), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_demo_opens_the_speaker_with_the_devices_mixer():
    result = demo(driver="dummy")
    assert result.returncode == 0, result.stderr
    assert "breathe in" in result.stdout
    assert "audio" in result.stderr and "speaker" in result.stderr  # says where sound goes
    assert "WARNING" not in result.stderr


def test_demo_without_a_speaker_warns_once_and_goes_on():
    result = demo(driver="no-such-driver")
    assert result.returncode == 0, result.stderr
    assert "breathe in" in result.stdout
    warnings = [line for line in result.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "audio" in warnings[0]
    assert "Traceback" not in result.stderr


def test_demo_mute_opens_no_audio():
    result = demo("--mute", driver="no-such-driver")
    assert result.returncode == 0, result.stderr
    assert "WARNING" not in result.stderr and "muted" in result.stderr
