"""`breathring simulate` and the CLI, checked on behaviour."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from itertools import groupby
from pathlib import Path

import pytest

from breathring.analysis import hue_error_pct, roughness_pct
from breathring.cli import main

ROOT = Path(__file__).resolve().parents[2]
AMBER = (0xFF, 0x8C, 0x32)


def simulate(capsys, *args: str) -> tuple[dict, list[dict]]:
    assert main(["simulate", *args]) == 0
    lines = capsys.readouterr().out.splitlines()
    records = [json.loads(line) for line in lines]
    return records[0], records[1:]


def write_config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return str(path)


def flat(record: dict) -> list[int]:
    return [v for px in record["rgb"] for v in px]


def test_default_session_matches_the_contract(capsys):
    header, frames = simulate(capsys, "--seconds", "45")
    assert header["pixels"] == 24 and header["order"] == "RGB"
    fps = header["fps"]
    spans = []
    for (phase, breath), group in groupby(frames, key=lambda r: (r["phase"], r["breath"])):
        group = list(group)
        spans.append((phase, breath, group[0]["t"], len(group)))
    inhales = [s for s in spans if s[0] == "inhale"]
    exhales = [s for s in spans if s[0] == "exhale"]
    assert [s[1] for s in inhales] == [1, 2, 3] and [s[1] for s in exhales] == [1, 2, 3]
    # Each phase lasts its length within one frame: the next phase starts on time.
    for i, span in enumerate(spans[:-1]):
        if span[0] in ("inhale", "exhale"):
            length = spans[i + 1][2] - span[2]
            expected = 4.0 if span[0] == "inhale" else 6.0
            assert abs(length - expected) <= 1.0 / fps + 1e-9
    cues = [(r["t"], c) for r in frames for c in r["cues"]]
    names = [c for _, c in cues]
    assert names == ["start", "inhale", "exhale", "inhale", "exhale", "inhale", "exhale", "end"]
    for t, cue in cues:
        phase = next(r["phase"] for r in frames if r["t"] == t)
        assert phase == {"start": "lead-in", "end": "closing"}.get(cue, cue)
    last = frames[-1]
    assert sum(flat(last)) == 0 and last["phase"] == "idle"
    n = header["pixels"]
    for record in frames:
        for i in range(n):
            mirror = (n - i) % n
            assert all(
                abs(a - b) <= 1
                for a, b in zip(record["rgb"][i], record["rgb"][mirror], strict=True)
            )


def test_output_is_deterministic(capsys):
    args = ("--seconds", "20", "--press", "1", "--press", "9.5", "--fps", "37")
    assert main(["simulate", *args]) == 0
    first = capsys.readouterr().out
    assert main(["simulate", *args]) == 0
    assert capsys.readouterr().out == first
    assert len(first.splitlines()) > 100


def test_idle_writes_only_the_header(capsys):
    header, frames = simulate(capsys, "--idle", "--at", "12:10", "--seconds", "600")
    assert frames == [] and header["pixels"] == 24


def inhale_metrics(header: dict, frames: list[dict]) -> tuple[float, float, int]:
    inhale = [r for r in frames if r["phase"] == "inhale" and r["breath"] == 1]
    values = [flat(r) for r in inhale]
    rough = roughness_pct([sum(v) for v in values], header["fps"])
    hue = hue_error_pct(values, AMBER, header["fps"])
    return rough, hue, max(sum(v) for v in values)


def test_amber_at_two_percent_is_smooth_and_keeps_its_hue(capsys, tmp_path):
    cfg = write_config(tmp_path, '[ring]\nbrightness = 0.02\ncolor = "#FF8C32"\n')
    header, frames = simulate(capsys, "--config", cfg, "--seconds", "10")
    rough, hue, peak = inhale_metrics(header, frames)
    assert peak > 0
    assert rough <= 1.5
    assert hue <= 10.0


def test_defaults_stay_smooth_with_the_power_limiter_at_work(capsys, tmp_path):
    header, frames = simulate(capsys, "--seconds", "10")
    inhale = [r for r in frames if r["phase"] == "inhale" and r["breath"] == 1]
    assert max(r["ma"] for r in inhale) <= header["max_milliamps"]
    # The limiter is at work: unlimited, the peak would need more than the budget.
    cfg = write_config(tmp_path, "[ring]\nmax_milliamps = 20000\n")
    _, free = simulate(capsys, "--config", cfg, "--seconds", "10")
    assert max(r["ma"] for r in free) > header["max_milliamps"]
    totals = [sum(flat(r)) for r in inhale]
    assert roughness_pct(totals, header["fps"]) <= 1.5
    # No plateau with a corner: the light keeps rising to the top of the inhale.
    last_second = totals[-header["fps"] :]
    assert last_second[-1] >= last_second[0]


def test_white_300_ma_limit_holds_on_every_frame(capsys, tmp_path):
    cfg = write_config(
        tmp_path, '[ring]\npixels = 24\nbrightness = 1.0\ncolor = "#FFFFFF"\nmax_milliamps = 300\n'
    )
    _, frames = simulate(capsys, "--config", cfg, "--seconds", "40")
    for record in frames:
        current = sum(flat(record)) * 20 / 255 + 24 * 1.0
        assert current <= 300 + 1e-9


def test_hold_toggles_reminders_and_double_starts_long(capsys):
    _, frames = simulate(capsys, "--idle", "--hold", "1", "--seconds", "6")
    cues = [c for r in frames for c in r["cues"]]
    assert "confirm-off" in cues
    _, frames = simulate(capsys, "--idle", "--double", "0", "--seconds", "200")
    assert sum(c == "inhale" for r in frames for c in r["cues"]) == 10


def test_bad_arguments_exit_2(capsys):
    assert main(["simulate", "--at", "25:00"]) == 2
    assert "--at '25:00' is not a time" in capsys.readouterr().err
    assert main(["simulate", "--jump", "soon"]) == 2
    with pytest.raises(SystemExit) as exc:
        main(["simulate", "--fps", "500"])
    assert exc.value.code == 2


def test_config_check_names_the_key(capsys, tmp_path):
    good = write_config(tmp_path, "[ring]\npixels = 12\n")
    assert main(["config", "check", "--config", good]) == 0
    bad = tmp_path / "bad.toml"
    bad.write_text("[ring]\nbrightness = 1.5\n")
    assert main(["config", "check", "--config", str(bad)]) == 78
    err = capsys.readouterr().err
    assert "ring.brightness" in err and "1.5" in err
    bad.write_text("[ring]\npixles = 12\n")
    assert main(["simulate", "--config", str(bad)]) == 78
    assert "did you mean ring.pixels" in capsys.readouterr().err


def test_config_defaults_and_show_round_trip(capsys, tmp_path):
    assert main(["config", "defaults"]) == 0
    path = tmp_path / "defaults.toml"
    path.write_text(capsys.readouterr().out)
    assert main(["config", "check", "--config", str(path)]) == 0
    capsys.readouterr()
    assert main(["config", "show", "--config", str(path)]) == 0
    assert "pixels = 24" in capsys.readouterr().out


def test_console_script_help_and_render(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "firmware"))
    out = subprocess.run(
        [sys.executable, "-m", "breathring.cli", "--help"], capture_output=True, text=True, env=env
    )
    assert out.returncode == 0 and "simulate" in out.stdout and "demo" in out.stdout
    png = tmp_path / "session.png"
    assert main(["render", "--out", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 10_000


def test_demo_without_a_terminal_prints_plain_lines(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(ROOT / "firmware"))
    script = (
        "import io, sys\n"
        "from breathring.config import Config\n"
        "from breathring.demo import run_demo\n"
        "out = io.StringIO()\n"
        "run_demo(Config(), seconds=2.5, out=out)\n"
        "print(out.getvalue())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=30
    )
    assert result.returncode == 0, result.stderr
    assert "get ready" in result.stdout and "breathe in" in result.stdout
    assert "\x1b[" not in result.stdout
