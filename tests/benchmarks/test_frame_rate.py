"""benchmarks/frame_rate.py: what a lower frame rate saves, and what it costs the night light."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from benchmarks import frame_rate  # noqa: E402

pytestmark = pytest.mark.bench


def test_at_100_frames_the_night_light_keeps_its_hue_and_at_25_it_loses_it():
    # The first inhale in #FF8C32, virtual time: the figures section 2 of docs/benchmarks.md
    # reports at 100 frames a second, and the same inhale at 25.
    at_100 = frame_rate.light_at(100)
    at_25 = frame_rate.light_at(25)
    assert at_100[0.02] == pytest.approx({"rough_pct": 0.182, "hue_err_pct": 0.654}, abs=1e-3)
    assert at_25[0.02] == pytest.approx({"rough_pct": 0.801, "hue_err_pct": 5.882}, abs=1e-3)
    # Full light stays smooth either way.
    assert at_100[1.0]["rough_pct"] == pytest.approx(0.008, abs=1e-3)
    assert at_25[1.0]["rough_pct"] == pytest.approx(0.034, abs=1e-3)


def test_quick_run_prints_the_service_and_the_light_at_one_rate(capsys):
    assert frame_rate.main(["--quick"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert list(result) == ["25"]
    row = result["25"]
    assert row["session_cpu_pct"] >= 0.0
    # The loop wakes for every frame at least (plus the sound's thread), in a session.
    assert row["session_wakeups_per_s"] >= 25
    assert set(row["light"]) == {"1.0", "0.02"}
