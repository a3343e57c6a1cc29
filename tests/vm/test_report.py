"""The host-side analysis of the VM test (tests/vm/report.py) on synthetic recordings."""

from __future__ import annotations

import array
import importlib.util
import math
import sys
from pathlib import Path

import pytest

_SPEC = importlib.util.spec_from_file_location("vm_report", Path(__file__).with_name("report.py"))
assert _SPEC is not None and _SPEC.loader is not None
report = importlib.util.module_from_spec(_SPEC)
sys.modules[_SPEC.name] = report  # dataclasses look their module up
_SPEC.loader.exec_module(report)

RATE = 44100


def recording(samples: list[int]) -> object:
    return report.Recording(RATE, 1, array.array("h", samples))


def tone_bursts(starts_s: list[float], total_s: float, seconds: float = 0.3) -> list[int]:
    """Silence with 440 Hz bursts (a 10 ms linear fade in/out) starting at the given times."""
    out = [0] * int(total_s * RATE)
    fade = int(0.010 * RATE)
    for start in starts_s:
        first, n = int(start * RATE), int(seconds * RATE)
        for i in range(n):
            envelope = min(1.0, i / fade, (n - i) / fade)
            out[first + i] = int(8000 * envelope * math.sin(2 * math.pi * 440 * i / RATE))
    return out


def test_onsets_are_found_where_the_bursts_start() -> None:
    found = report.onsets(recording(tone_bursts([0.5, 1.7], total_s=2.5)))
    assert len(found) == 2
    assert found[0] == pytest.approx(0.5, abs=0.005)
    assert found[1] == pytest.approx(1.7, abs=0.005)


def test_smooth_bursts_have_no_clicks_and_a_hard_step_has_one() -> None:
    smooth = tone_bursts([0.5], total_s=1.0)
    limit = 0.05 * 32768
    assert report.clicks(recording(smooth), limit) == 0
    stepped = list(smooth)
    for i in range(int(0.9 * RATE), len(stepped)):
        stepped[i] = 12000  # a DC step out of silence: a click
    assert report.clicks(recording(stepped), limit) == 1


def test_a_dropout_inside_a_cue_is_a_gap() -> None:
    samples = tone_bursts([0.5], total_s=1.0)
    assert report.zero_gaps(recording(samples), [(0.5, 0.7)]) == 0
    for i in range(int(0.6 * RATE), int(0.61 * RATE)):
        samples[i] = 0
    assert report.zero_gaps(recording(samples), [(0.5, 0.7)]) == 1


PASSING = {
    "install_rc": 0,
    "active_s": 3.1,
    "press_to_light_ms": 40.0,
    "double_ok": True,
    "hold_toggles": 1,
    "cue_onset_err_ms_max": 12.0,
    "clicks": 0,
    "underrun_gaps": 0,
    "hardening_ok": True,
    "watchdog_restart_s": 8.5,
    "reload_ok": True,
    "stop_s": 0.6,
    "tracebacks": 0,
    "reminders_after_reboot_ok": True,
    "uninstall_clean": True,
    "idle_before_press_s": 121.4,
    "audio_closed_before_press": True,
    "guest_tests_rc": 0,
    "radar_wired": True,
    "radar_rate_expected": 13,
    "radar_rate_per_min": 13.0,
    "radar_ok": True,
}


def test_every_check_holds_on_a_good_run() -> None:
    assert all(report.checks(PASSING).values())


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("install_rc", 1),
        ("active_s", 10.5),
        ("press_to_light_ms", 101),
        ("press_to_light_ms", None),
        ("cue_onset_err_ms_max", 51),
        ("clicks", 1),
        ("watchdog_restart_s", 10.5),
        ("stop_s", 1.2),
        ("tracebacks", 2),
        ("reminders_after_reboot_ok", False),
        ("hardening_ok", None),
        ("idle_before_press_s", 119.9),
        ("idle_before_press_s", None),
        ("audio_closed_before_press", False),
        ("audio_closed_before_press", None),
        ("guest_tests_rc", 1),
        ("guest_tests_rc", 124),
        ("radar_ok", False),
        ("radar_ok", None),
        ("radar_rate_per_min", 14.0),
        ("radar_rate_per_min", None),
    ],
)
def test_one_bad_value_fails_its_check(key: str, value: object) -> None:
    result = report.checks({**PASSING, key: value})
    check = "radar_ok" if key.startswith("radar_") else key
    assert result[check] is False
    assert sum(1 for ok in result.values() if not ok) == 1


def test_without_a_wired_radar_its_check_is_not_asked() -> None:
    no_radar = {**PASSING, "radar_wired": False, "radar_ok": None, "radar_rate_per_min": None}
    assert report.checks(no_radar)["radar_ok"] is True
    assert report.checks({**PASSING, "radar_wired": None, "radar_ok": None})["radar_ok"] is False


def test_the_start_cue_belongs_at_the_release_and_phase_cues_on_the_timeline() -> None:
    cues = [(0.0, ["start"]), (2.0, ["inhale"]), (6.0, ["exhale"]), (34.5, ["end"])]
    # The session started 3.0 s into the recording; the button was held down for 0.15 s.
    placed = report.cue_times(cues, session_at=3.0, held_s=0.15)
    assert placed == pytest.approx([3.15, 5.0, 9.0, 37.5])
    # Without the press's times every cue goes on the timeline.
    assert report.cue_times(cues, session_at=3.0, held_s=None) == pytest.approx(
        [3.0, 5.0, 9.0, 37.5]
    )


def test_an_event_counts_as_a_pause_only_inside_a_pause_widened_by_its_margins() -> None:
    pauses = [(1_000_000, 1_100_000)]  # the machine stood still from 1.0 s to 1.1 s
    assert report.within(1_050_000, pauses, 0.0, 0.25)
    assert report.within(1_300_000, pauses, 0.0, 0.25)  # logged 0.2 s after the stall
    assert not report.within(1_400_000, pauses, 0.0, 0.25)
    assert not report.within(950_000, pauses, 0.0, 0.25)
    assert report.within(950_000, pauses, 0.1, 0.25)
    assert not report.within(1_050_000, [], 0.5, 0.5)


def test_click_and_gap_times_are_where_they_happen() -> None:
    samples = tone_bursts([0.5], total_s=1.0)
    for i in range(int(0.6 * RATE), int(0.61 * RATE)):
        samples[i] = 0
    rec = recording(samples)
    gaps = report.zero_gap_times(rec, [(0.5, 0.7)])
    assert len(gaps) == 1
    assert gaps[0] == pytest.approx(0.6, abs=0.002)
    stepped = list(tone_bursts([0.5], total_s=1.0))
    for i in range(int(0.9 * RATE), len(stepped)):
        stepped[i] = 12000
    at = report.click_times(recording(stepped), 0.05 * 32768)
    assert at == [pytest.approx(0.9, abs=0.001)]


def test_underruns_during_a_pause_of_the_machine_are_counted_apart(tmp_path: Path) -> None:
    (tmp_path / "pauses.txt").write_text("5000000 5080000\n")
    underruns = [5_100_000, 9_000_000]  # one just after the pause, one on its own
    assert report.read_pauses(tmp_path / "pauses.txt") == [(5_000_000, 5_080_000)]
    pauses = report.read_pauses(tmp_path / "pauses.txt")
    assert pauses is not None
    ours = [u for u in underruns if not report.within(u, pauses, 0.0, 0.25)]
    assert ours == [9_000_000]
    assert report.read_pauses(tmp_path / "missing.txt") is None


RECORD_START_US = 1_000_000_000_000


def write_session(out: Path, samples: list[int], underruns_s: list[float]) -> None:
    """What the guest leaves for the analysis: a session pressed 1.0 s into the recording."""
    import json
    import wave

    with wave.open(str(out / "session.wav"), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(RATE)
        w.writeframes(array.array("h", samples).tobytes())
    times = {
        "record_start_us": RECORD_START_US,
        "record_end_us": RECORD_START_US + int(len(samples) / RATE * 1e6),
        "press_us": RECORD_START_US + 1_000_000,
        "session_started_us": RECORD_START_US + 1_000_000,
        "session_end_us": RECORD_START_US + 35_500_000,
    }
    (out / "session-times.json").write_text(json.dumps(times))
    (out / "config.toml").write_text("")  # every key at its default
    (out / "underruns.txt").write_text(
        "".join(f"{RECORD_START_US + int(t * 1e6)}\n" for t in underruns_s)
    )


def test_a_click_where_the_sound_underran_is_the_underruns_not_the_cues(tmp_path: Path) -> None:
    """analyse_audio on a recording with one click at an underrun and one on its own."""
    samples = tone_bursts([1.0, 3.0], total_s=5.0)
    for at in (1.1, 3.1):  # two hard steps inside the two cues
        for i in range(int(at * RATE), int((at + 0.002) * RATE)):
            samples[i] = 20000
    write_session(tmp_path, samples, underruns_s=[1.15])
    result = report.analyse_audio(tmp_path)
    assert result["recorded_clicks"] == 4  # each step: up, then down
    assert result["clicks_at_underruns"] == 2
    assert result["clicks"] == 2
    assert result["underrun_gaps"] == 1
    assert result["alsa_underruns_recorded"] == 1


#: The default three-breath session's cues (s after the press), written down.
DEFAULT_CUES_S = [0.0, 2.0, 6.0, 12.0, 16.0, 22.0, 26.0, 32.0]


@pytest.mark.parametrize(
    ("underruns_s", "expected_max_ms", "at_underruns"),
    [
        ([], 300.0, 0),  # the late cue counts
        ([13.2], 10.0, 1),  # an underrun around it: the late cue is the underrun's
    ],
)
def test_a_cue_late_around_an_underrun_is_left_out_of_the_timing(
    tmp_path: Path, underruns_s: list[float], expected_max_ms: float, at_underruns: int
) -> None:
    session_at = 1.0
    late = {12.0: 0.300, 22.0: 0.010}  # the second inhale 300 ms late, the third 10 ms
    starts = [session_at + t + late.get(t, 0.0) for t in DEFAULT_CUES_S]
    write_session(tmp_path, tone_bursts(starts, total_s=36.0), underruns_s=underruns_s)
    result = report.analyse_audio(tmp_path)
    assert result["cues_matched"] == 8
    assert result["cues_at_underruns"] == at_underruns
    assert result["cue_onset_err_ms_max"] == pytest.approx(expected_max_ms, abs=3.0)


def test_no_cue_timing_when_most_cues_sounded_around_underruns(tmp_path: Path) -> None:
    session_at = 1.0
    starts = [session_at + t for t in DEFAULT_CUES_S]
    underruns = [session_at + t + 0.1 for t in DEFAULT_CUES_S[:5]]
    write_session(tmp_path, tone_bursts(starts, total_s=36.0), underruns_s=underruns)
    result = report.analyse_audio(tmp_path)
    assert result["cues_at_underruns"] == 5
    assert result["cue_onset_err_ms_max"] is None


def test_the_report_names_the_release_and_the_guest_python(tmp_path: Path) -> None:
    results = tmp_path / "r"
    results.mkdir()
    (results / "guest_python.json").write_text('"3.13.5"\n')
    built = report.build_report(tmp_path, "amd64", 12.0, "trixie")
    assert built["release"] == "trixie"
    assert built["guest_python"] == "3.13.5"
    assert built["ok"] is False  # nothing else ran
