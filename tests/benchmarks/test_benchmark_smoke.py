"""Smoke test of the benchmarks (issue 6) with tiny sizes: the whole run takes a few seconds."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

pytest.importorskip("adafruit_led_animation")

from benchmarks import drift, frame, report, smooth  # noqa: E402
from benchmarks.__main__ import main  # noqa: E402
from benchmarks.common import wire_us  # noqa: E402

pytestmark = pytest.mark.bench

REQUIRED = (
    "frame_us",
    "peer_frame_us",
    "wire_ratio",
    "rough_pct",
    "peer_rough_pct",
    "hue_err_pct",
    "peer_hue_err_pct",
    "idle_cpu_pct",
    "idle_wakeups_per_s",
    "idle_rss_mb",
    "session_cpu_pct",
    "pipeline_cpu_pct",
    "pipeline_cpu_pct_virtual",
    "pipeline_us_in_place_busy",
    "wake_floor_cpu_pct",
    "session_cpu_pct_runs",
    "latency_ms_p50",
    "latency_ms_p99",
    "drift_ms_per_hour",
    "startup_s",
    "rss_mb",
)


def test_wire_time_of_a_ws2812_frame():
    assert wire_us(24) == 30 * 24 + 50


def test_frame_cost_is_measured_for_both_and_related_to_the_wire():
    costs = frame.frame_costs((12,), frames=5, repeats=1)
    assert costs["frame_us"][12] > 0 and costs["peer_frame_us"][12] > 0
    assert costs["wire_ratio"][12] == pytest.approx(costs["frame_us"][12] / wire_us(12), rel=0.01)


def test_at_two_percent_we_keep_smooth_and_the_peer_loses_its_hue():
    m = smooth.measure(0.02)
    assert m["frames"] == m["peer_frames"] > 300
    assert m["rough_pct"] <= 1.0 and m["hue_err_pct"] <= 5.0
    assert m["peer_rough_pct"] > 2.0 and m["peer_hue_err_pct"] == 100.0


def test_cues_stay_within_a_frame_of_their_schedule():
    points = drift.session_lateness(hours=0.01)
    assert len(points) >= 8
    assert all(0.0 <= ms <= 10.0 + 1000 * drift.OVERSLEEP_S for _, ms in points)


def test_the_loops_floor_is_the_cpu_of_waking_at_the_frame_rate():
    floor = frame.wake_floor(seconds=0.2, fps=50)
    assert floor["wake_floor_us"] > 0.0
    # 50 wakes a second of `us` each: us * 50 / 1e6 of a core, in percent.
    assert floor["wake_floor_cpu_pct"] == pytest.approx(floor["wake_floor_us"] * 50 / 1e4, rel=1e-3)


def test_paced_frames_count_the_frame_not_the_wait_between():
    interval = 0.005
    # A frame of no work, five 5-ms intervals apart: the spin between them (the thread is
    # busy all 25 ms) is not the frame's; a few µs of the frame call are.
    for busy in (False, True):
        us = frame._paced_frame_us(lambda: None, 5, interval, busy=busy)
        assert 0.0 <= us < interval * 1e6 / 10, (busy, us)


def test_slope_of_a_line():
    assert drift.slope_per_hour([(0.0, 1.0), (3600.0, 3.0)]) == pytest.approx(2.0)


def test_goals_are_judged():
    met = report.goals_met({"wire_ratio": {12: 0.2}, "idle_cpu_pct": 0.05})
    assert met["wire_ratio"] is False and met["idle_cpu"] is True and met["rss"] is None
    assert met["idle_wakeups"] is None
    met = report.goals_met({"idle_cpu_pct": 0.06, "idle_wakeups_per_s": 2.0, "idle_rss_mb": 40.5})
    assert (met["idle_cpu"], met["idle_wakeups"], met["rss"]) == (False, True, False)


def test_instructions_are_judged_against_the_peer_at_24_pixels():
    assert report.goals_met({})["instr_ratio"] is None
    assert report.goals_met({"instr_ratio": {12: 2.4, 24: 1.5}})["instr_ratio"] is True
    assert report.goals_met({"instr_ratio": {12: 1.0, 24: 1.51}})["instr_ratio"] is False


def test_bench_quick_prints_json_and_writes_the_report(tmp_path, capsys):
    assert main(["--quick", "--json", "--out", str(tmp_path)]) == 0
    result = json.loads(capsys.readouterr().out)
    for key in REQUIRED:
        assert key in result, key
    assert result["latency_ms_p99"] < 100.0
    assert 0.0 < result["startup_s"] < 10.0
    assert 5.0 < result["rss_mb"] < 200.0
    runs = result["session_cpu_pct_runs"]
    # Three 1-s windows of one default session: the middle one is the figure.
    assert len(runs) == 3 and result["session_cpu_pct"] == pytest.approx(sorted(runs)[1])
    text = (tmp_path / "benchmarks.md").read_text()
    assert "adafruit-circuitpython-led-animation" in text and "| 24 |" in text
    assert (tmp_path / "benchmarks.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
