"""`simulate` and `demo` with a measured breathing rate: the follow pace, frame by frame."""

from __future__ import annotations

import io
import itertools
import json
from pathlib import Path

from testkit.mock_hw import RecordingAudio

from breathring.analysis import roughness_pct
from breathring.cli import main
from breathring.clock import SystemClock
from breathring.config import parse_config
from breathring.demo import run_demo
from breathring.simulated_rate import RateFeed

#: Today's bound on the light's roughness (tests/cli/test_simulate.py), in % of the peak.
ROUGHNESS_BOUND_PCT = 1.5
#: Half a window around each breath boundary (frames at 100 fps).
BOUNDARY_HALF_FRAMES = 50


def simulate(capsys, *args: str) -> tuple[dict, list[dict]]:
    assert main(["simulate", *args]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    return records[0], records[1:]


def inhale_starts(frames: list[dict]) -> list[float]:
    starts: dict[int, float] = {}
    for record in frames:
        if record["phase"] == "inhale":
            starts.setdefault(record["breath"], record["t"])
    return [starts[k] for k in sorted(starts)]


def breath_lengths(frames: list[dict]) -> list[float]:
    return [round(b - a, 2) for a, b in itertools.pairwise(inhale_starts(frames))]


def totals(frames: list[dict]) -> list[int]:
    return [sum(v for px in r["rgb"] for v in px) for r in frames]


def worst_boundary_roughness(frames: list[dict], fps: float) -> float:
    """The largest roughness in a second around the start of each breath."""
    light = totals(frames)
    index = {r["t"]: i for i, r in enumerate(frames)}
    worst = 0.0
    for t in inhale_starts(frames):
        i = index[t]
        window = light[max(0, i - BOUNDARY_HALF_FRAMES) : i + BOUNDARY_HALF_FRAMES]
        worst = max(worst, roughness_pct(window, fps))
    return worst


def test_follow_at_14_a_minute_slows_to_6_and_holds(capsys) -> None:
    header, frames = simulate(
        capsys, "--pattern", "follow", "--breath-rate", "14", "--seconds", "320"
    )
    assert header["breath_rate"] == 14.0 and header["pattern"] == "follow"
    lengths = breath_lengths(frames)
    # 60/14 s, then 5 % longer each breath (within a frame), up to 10 s and held.
    assert lengths[:5] == [4.29, 4.5, 4.73, 4.96, 5.21]
    assert lengths == sorted(lengths)
    assert lengths[18:] == [10.0] * (len(lengths) - 18)
    assert len(inhale_starts(frames)) == 36
    cues = [(r["t"], c) for r in frames for c in r["cues"]]
    assert cues[-1] == (302.57, "end")  # 2 s lead-in + 36 breaths (300.57 s)
    assert cues.count((0.0, "start")) == 1
    assert sum(c == "inhale" for _, c in cues) == 36 and sum(c == "exhale" for _, c in cues) == 36


def test_the_light_is_as_smooth_as_today_at_every_breath_boundary(capsys) -> None:
    header, coherent = simulate(capsys, "--pattern", "coherent", "--seconds", "120")
    fps = header["fps"]
    today = worst_boundary_roughness(coherent, fps)
    assert today <= ROUGHNESS_BOUND_PCT
    for rate in ("14", "20"):
        _, frames = simulate(
            capsys, "--pattern", "follow", "--breath-rate", rate, "--seconds", "320"
        )
        session = [r for r in frames if r["phase"] != "idle"]
        assert roughness_pct(totals(session), fps) <= ROUGHNESS_BOUND_PCT
        assert worst_boundary_roughness(session, fps) <= today


def test_without_a_rate_follow_is_the_coherent_pace(capsys) -> None:
    header, frames = simulate(capsys, "--pattern", "follow", "--seconds", "320")
    assert "breath_rate" not in header
    assert set(breath_lengths(frames)) == {11.0}
    assert len(inhale_starts(frames)) == 27


def test_timed_readings_from_a_file_and_their_staleness(capsys, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[session]\npattern = "follow"\nfollow_minutes = 3\n')
    rates = tmp_path / "rates.txt"
    rates.write_text("# seconds rate\n0 15\n\n100 8\n240 10\n")
    _, frames = simulate(
        capsys,
        "--config",
        str(config),
        "--breath-rate-file",
        str(rates),
        "--press",
        "0",
        "--press",
        "200",
        "--press",
        "400",
        "--seconds",
        "600",
    )
    first = [r for r in frames if r["t"] < 200]
    second = [r for r in frames if 200 <= r["t"] < 400]
    third = [r for r in frames if r["t"] >= 400]
    # 15 a minute at t = 0, to 6 within 3 minutes: 8 % steps reach it by 45 %.
    assert breath_lengths(first)[:2] == [4.0, 4.32]
    # At 200 s the newest reading (8 a minute, at 100 s) is 100 s old: stale (30 s).
    assert set(breath_lengths(second)) == {11.0}
    # At 400 s the newest reading (240 s) is stale too: a reading counts for 30 s only.
    assert set(breath_lengths(third)) == {11.0}
    rates.write_text("0 15\n210 10\n")
    _, frames = simulate(
        capsys,
        "--config",
        str(config),
        "--breath-rate-file",
        str(rates),
        "--press",
        "220",
        "--seconds",
        "260",
    )
    assert breath_lengths(frames)[:2] == [6.0, 6.33]  # 10 a minute, 5.5 % steps


def test_bad_rates_exit_2_naming_what_is_allowed(capsys, tmp_path: Path) -> None:
    assert main(["simulate", "--breath-rate", "90"]) == 2
    assert "--breath-rate: 90 is not a breathing rate; allowed 2-60 breaths a minute" in (
        capsys.readouterr().err
    )
    bad = tmp_path / "rates.txt"
    bad.write_text("0 12\n5 fast\n")
    assert main(["simulate", "--breath-rate-file", str(bad)]) == 2
    assert (
        f"{bad} line 2: '5 fast' is not a reading; allowed lines \"SECONDS RATE\", "
        'e.g. "30 12.5", in time order'
    ) in capsys.readouterr().err
    bad.write_text("10 12\n5 12\n")
    assert main(["simulate", "--breath-rate-file", str(bad)]) == 2
    assert "line 2: time 5 s comes before 10 s" in capsys.readouterr().err
    assert main(["simulate", "--breath-rate-file", str(tmp_path / "missing")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_demo_paces_follow_from_the_rate_it_is_given() -> None:
    out = io.StringIO()
    cfg = parse_config('[session]\npattern = "follow"\n')
    audio = RecordingAudio(SystemClock())
    assert run_demo(cfg, seconds=2.5, out=out, audio=audio, rates=RateFeed(constant=20.0)) == 0
    # 20 a minute over 5 minutes is 40 breaths (the coherent pace would be 27).
    assert "breathe in  (1/40)" in out.getvalue()
