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
    ],
)
def test_one_bad_value_fails_its_check(key: str, value: object) -> None:
    result = report.checks({**PASSING, key: value})
    assert result[key] is False
    assert sum(1 for ok in result.values() if not ok) == 1


def test_the_start_cue_belongs_at_the_release_and_phase_cues_on_the_timeline() -> None:
    cues = [(0.0, ["start"]), (2.0, ["inhale"]), (6.0, ["exhale"]), (34.5, ["end"])]
    # The session started 3.0 s into the recording; the button was held down for 0.15 s.
    placed = report.cue_times(cues, session_at=3.0, held_s=0.15)
    assert placed == pytest.approx([3.15, 5.0, 9.0, 37.5])
    # Without the press's times every cue goes on the timeline.
    assert report.cue_times(cues, session_at=3.0, held_s=None) == pytest.approx(
        [3.0, 5.0, 9.0, 37.5]
    )
