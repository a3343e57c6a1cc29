"""The generated cue sounds and guide tones: reproducible, soft, click-free, distinct."""

from __future__ import annotations

import importlib.util
import math
import sys
import wave
from array import array
from itertools import pairwise
from pathlib import Path

import pytest

from breathring import sounds

ASSETS = Path(__file__).resolve().parents[2] / "assets"
MAX_TOTAL_BYTES = 1_000_000
#: A sample-to-sample jump this large (share of full scale) would be an audible click.
CLICK_JUMP = 0.08
#: Window for pitch estimates: ~0.19 s, fine enough to tell semitones apart at 200 Hz.
WINDOW = 8192
#: Candidate pitches for the estimate: every semitone from A2 (110 Hz) to A5 (880 Hz).
SEMITONES = [110.0 * 2 ** (k / 12) for k in range(37)]


def _load_make_sounds():
    spec = importlib.util.spec_from_file_location("make_sounds", ASSETS / "make_sounds.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _samples(pcm: bytes) -> array:
    samples = array("h", pcm)
    if sys.byteorder != "little":
        samples.byteswap()
    return samples


def _read_wav(path: Path) -> tuple[wave._wave_params, array]:
    with wave.open(str(path), "rb") as wav:
        return wav.getparams(), _samples(wav.readframes(wav.getnframes()))


def _dominant(samples: array, start: int) -> float:
    """The semitone with the most energy in a Hann-windowed window from `start` (Goertzel)."""
    window = samples[start : start + WINDOW]
    n = len(window)
    hann = [0.5 - 0.5 * math.cos(2 * math.pi * i / (n - 1)) for i in range(n)]
    x = [s * w for s, w in zip(window, hann, strict=True)]
    best, best_power = 0.0, -1.0
    for freq in SEMITONES:
        coeff = 2 * math.cos(2 * math.pi * freq / sounds.SAMPLE_RATE)
        s1 = s2 = 0.0
        for v in x:
            s1, s2 = v + coeff * s1 - s2, s1
        power = s1 * s1 + s2 * s2 - coeff * s1 * s2
        if power > best_power:
            best, best_power = freq, power
    return best


def _pitch_start_and_late(samples: array) -> tuple[float, float]:
    """Dominant pitch at the start and at 70 % of the sound."""
    late = max(0, min(len(samples) - WINDOW, int(0.7 * len(samples)) - WINDOW // 2))
    return _dominant(samples, 0), _dominant(samples, late)


def test_regenerating_gives_the_committed_bytes(tmp_path):
    written = _load_make_sounds().write_all(tmp_path)
    assert sorted(p.name for p in written) == sorted(f"{c}.wav" for c in sounds.CUE_NAMES)
    for path in written:
        assert path.read_bytes() == (ASSETS / path.name).read_bytes(), path.name


def test_make_sounds_refuses_a_file_as_out(tmp_path, capsys):
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("x")
    assert _load_make_sounds().main(["--out", str(not_a_dir)]) == 2
    assert "is not a directory" in capsys.readouterr().err


@pytest.mark.parametrize("cue", sounds.CUE_NAMES)
def test_cue_files_follow_the_rules(cue):
    params, samples = _read_wav(ASSETS / f"{cue}.wav")
    assert (params.nchannels, params.sampwidth, params.framerate) == (1, 2, 44_100)
    assert 0 < params.nframes <= sounds.MAX_CUE_SECONDS * sounds.SAMPLE_RATE
    assert samples[0] == 0 and samples[-1] == 0
    peak = max(abs(s) for s in samples)
    assert 0 < peak <= sounds.dbfs_to_amplitude(sounds.MAX_PEAK_DBFS) * sounds.FULL_SCALE


def test_cue_files_are_small_together():
    total = sum((ASSETS / f"{cue}.wav").stat().st_size for cue in sounds.CUE_NAMES)
    assert total < MAX_TOTAL_BYTES


def test_no_sample_to_sample_jump_is_a_click():
    # A click is a jump far larger than the signal's own slope; the loudest cue
    # at its highest partial moves under 0.04 of full scale per sample.
    for cue in sounds.CUE_NAMES:
        samples = _read_wav(ASSETS / f"{cue}.wav")[1]
        biggest = max(abs(b - a) for a, b in pairwise(samples))
        assert biggest < CLICK_JUMP * sounds.FULL_SCALE, cue


def test_inhale_rises_and_exhale_falls_lower():
    inhale = _pitch_start_and_late(_read_wav(ASSETS / "inhale.wav")[1])
    exhale = _pitch_start_and_late(_read_wav(ASSETS / "exhale.wav")[1])
    assert inhale[1] > inhale[0]
    assert exhale[1] < exhale[0]
    assert exhale[1] < inhale[0]  # exhale ends below where inhale starts


def test_hold_is_the_softest_cue():
    peaks = {c: sounds.peak_dbfs(sounds.render_cue(c)) for c in ("hold", "inhale", "exhale")}
    assert peaks["hold"] < min(peaks["inhale"], peaks["exhale"]) - 6


def test_unknown_cue_is_refused_with_the_allowed_names():
    with pytest.raises(ValueError, match="cue 'breathe' is not known; allowed: start, inhale"):
        sounds.render_cue("breathe")


@pytest.mark.parametrize("seconds", [0.5, 1.0, 4.0, 5.5, 7.123])
def test_guide_tone_lasts_exactly_the_phase(seconds):
    pcm = sounds.render_guide("inhale", seconds)
    samples = _samples(pcm)
    assert len(samples) == round(seconds * sounds.SAMPLE_RATE)
    assert samples[0] == 0 and samples[-1] == 0
    assert sounds.peak_dbfs(pcm) <= sounds.MAX_PEAK_DBFS


def test_guide_tone_swells_then_fades():
    samples = _samples(sounds.render_guide("exhale", 4.0))
    tenth = len(samples) // 10
    loudness = [max(abs(s) for s in samples[k * tenth : (k + 1) * tenth]) for k in range(10)]
    assert loudness[0] < loudness[3] and loudness[9] < loudness[3]


def test_guide_tones_rise_for_inhale_and_fall_for_exhale():
    inhale = _samples(sounds.render_guide("inhale", 5.0))
    exhale = _samples(sounds.render_guide("exhale", 5.0))
    # Look where the tone is audible: from 15 % in to 15 % before the end.
    for samples, rising in ((inhale, True), (exhale, False)):
        first = _dominant(samples, int(0.15 * len(samples)))
        last = _dominant(samples, int(0.85 * len(samples)) - WINDOW)
        assert (last > first) if rising else (last < first)


def test_hold_guide_is_quieter_and_hold_aliases_are_accepted():
    hold = sounds.render_guide("hold", 2.0)
    assert sounds.render_guide("hold-in", 2.0) == hold == sounds.render_guide("hold-out", 2.0)
    assert sounds.peak_dbfs(hold) < sounds.peak_dbfs(sounds.render_guide("inhale", 2.0))


@pytest.mark.parametrize(
    ("kind", "seconds", "message"),
    [
        ("breathe", 1.0, "guide tone kind 'breathe' is not known; allowed: inhale, exhale, hold"),
        ("inhale", 0.0, r"guide tone length 0.0 s is out of range; allowed 0 < seconds <= 60"),
        ("inhale", 61.0, r"guide tone length 61.0 s is out of range"),
        ("inhale", math.nan, r"guide tone length nan s is out of range"),
    ],
)
def test_bad_guide_requests_are_refused_clearly(kind, seconds, message):
    with pytest.raises(ValueError, match=message):
        sounds.render_guide(kind, seconds)


def test_peak_dbfs_of_silence_is_minus_infinity():
    assert sounds.peak_dbfs(bytes(100)) == -math.inf
