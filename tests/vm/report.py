"""Host side of the VM test: analyse what the guest left on the share and write the JSON report.

    python3 tests/vm/report.py --out-dir SHARE/out --arch amd64 --release trixie --elapsed S
                               [--report FILE]

The guest writes one JSON value per key to out/r/<key>.json and, when it recorded the session,
out/session.wav (the loopback's capture side), out/session-times.json and out/config.toml.
The recording is analysed here, on the host, where it is fast: cue onsets against the
session's timeline (from `breathring simulate` with the guest's configuration), clicks, gaps.

Underruns, clicks and gaps are the product's fault unless the machine itself was stopped at
that moment: under TCG the host can stop the emulated CPUs (another job, QEMU translating code
or serving its own I/O), and when it lets them run again the loopback card has played on
without them. The guest's pause probes (guest/pause_probe.py, one FIFO-99 thread per CPU) note
every such stop in out/pauses.txt; an underrun ALSA logged just after one, or a click or gap
recorded during one, is counted apart (details: underruns_in_vm_pauses, vm_pauses). A Pi has
no host to stop it; its own load (the frame loop, the disk) does not show up as a pause, since
no guest process can keep a FIFO-99 thread from running.

Exit 0 only if every check of issues 13, 20 (the first press after a long idle, to a closed
sound device) and 22 (the release's Python runs the pure core's tests) holds.
"""

from __future__ import annotations

import argparse
import array
import json
import os
import subprocess
import sys
import wave
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

REPORT_KEYS = (
    "release",
    "arch",
    "guest_python",
    "install_rc",
    "active_s",
    "idle_before_press_s",
    "audio_closed_before_press",
    "press_to_light_ms",
    "double_ok",
    "hold_toggles",
    "cue_onset_err_ms_max",
    "clicks",
    "underrun_gaps",
    "hardening_ok",
    "watchdog_restart_s",
    "reload_ok",
    "stop_s",
    "tracebacks",
    "reminders_after_reboot_ok",
    "late_frames_pct",
    "session_cpu_pct",
    "uninstall_clean",
    "guest_tests_rc",
    "radar_wired",
    "radar_rate_expected",
    "radar_rate_per_min",
    "radar_first_reading_s",
    "radar_ok",
    "elapsed_s",
)

# Limits from issue 13 ("Done when").
MAX_ACTIVE_S = 10.0
MAX_PRESS_TO_LIGHT_MS = 100.0
MAX_CUE_ONSET_ERR_MS = 50.0
MAX_STOP_S = 1.0
VM_WATCHDOG_S = 6.0  # the guest's drop-in (steps-first.sh)
UNIT_RESTART_S = 2.0  # RestartSec in systemd/breathring.service
WATCHDOG_SLACK_S = 2.0
#: Issue 20: the first press comes after this long idle, to a closed sound device.
MIN_IDLE_BEFORE_PRESS_S = 120.0

# Audio analysis.
FULL_SCALE = 32768.0
ONSET_WINDOW_S = 0.002  # RMS window for onset detection
ONSET_LEVEL = 0.01  # fraction of full scale that counts as sound
SILENCE_BEFORE_ONSET_S = 0.05  # quiet needed before a new onset
MATCH_WINDOW_S = 0.5  # an expected cue matches a detected onset within this
CLICK_MARGIN = 1.5  # a step this many times the cues' own steepest step is a click
CLICK_FLOOR = 0.05  # ... and never less than this fraction of full scale
GAP_MIN_S = 0.005  # a run of exact zeros this long inside a cue is an underrun gap
IDLE_TAIL_S = 1.5  # the end of the recording, after the session: must be silent
START_CUE = "start"  # the cue a press plays (on release)
#: ALSA's "underrun occurred" is logged this long after the stall that caused it, at most.
UNDERRUN_LOG_DELAY_S = 0.25
#: The cue timing is measured only when at least this share of the cues had no underrun
#: around them (else cue_onset_err_ms_max is null: a failed check).
MIN_ON_TIME_SHARE = 0.5
#: A click or gap in the recording is placed on the wall clock to within this.
RECORDING_MARGIN_S = 0.5


@dataclass(frozen=True)
class Recording:
    rate: int
    channels: int
    left: array.array  # the first channel, as signed 16-bit samples


def read_results(out_dir: Path) -> dict[str, object]:
    results: dict[str, object] = {}
    for path in sorted((out_dir / "r").glob("*.json")):
        try:
            results[path.stem] = json.loads(path.read_text() or "null")
        except json.JSONDecodeError:
            results[path.stem] = None
    return results


def read_wav(path: Path) -> Recording:
    with wave.open(str(path), "rb") as w:
        if w.getsampwidth() != 2:
            raise ValueError(f"{path}: expected 16-bit samples")
        frames = w.readframes(w.getnframes())
        rate, channels = w.getframerate(), w.getnchannels()
    samples = array.array("h")
    samples.frombytes(frames)
    if sys.byteorder == "big":
        samples.byteswap()
    return Recording(rate, channels, samples[0::channels])


def onsets(rec: Recording) -> list[float]:
    """Times (s) where sound starts after at least SILENCE_BEFORE_ONSET_S of quiet."""
    win = max(1, int(rec.rate * ONSET_WINDOW_S))
    level = ONSET_LEVEL * FULL_SCALE
    found: list[float] = []
    quiet_s = SILENCE_BEFORE_ONSET_S
    x = rec.left
    for start in range(0, len(x) - win, win):
        peak = max(abs(v) for v in x[start : start + win])
        if peak >= level:
            if quiet_s >= SILENCE_BEFORE_ONSET_S:
                # refine to the first sample over the level
                first = next(i for i in range(start, start + win) if abs(x[i]) >= level)
                found.append(first / rec.rate)
            quiet_s = 0.0
        else:
            quiet_s += win / rec.rate
    return found


def steepest_cue_step() -> float:
    """The largest sample-to-sample step in the cue WAVs we ship (their own envelope)."""
    steepest = 0
    for path in sorted((REPO / "assets").glob("*.wav")):
        rec = read_wav(path)
        x = rec.left
        steepest = max(steepest, max((abs(x[i] - x[i - 1]) for i in range(1, len(x))), default=0))
    return float(steepest)


def click_times(rec: Recording, limit: float) -> list[float]:
    """Where (s) a sample jumps from the one before by more than `limit`: one per click."""
    x = rec.left
    found, i, n = [], 1, len(x)
    skip = int(rec.rate * 0.001)
    while i < n:
        if abs(x[i] - x[i - 1]) > limit:
            found.append(i / rec.rate)
            i += skip  # one click, not every sample of it
        i += 1
    return found


def clicks(rec: Recording, limit: float) -> int:
    return len(click_times(rec, limit))


def zero_gap_times(rec: Recording, spans: list[tuple[float, float]]) -> list[float]:
    """Where (s) a run of exact digital zero of at least GAP_MIN_S starts inside the spans."""
    need = int(rec.rate * GAP_MIN_S)
    found = []
    for a, b in spans:
        run = 0
        first = int(a * rec.rate)
        for k, v in enumerate(rec.left[first : int(b * rec.rate)]):
            if v == 0:
                run += 1
                if run == need:
                    found.append((first + k - need + 1) / rec.rate)
            else:
                run = 0
    return found


def zero_gaps(rec: Recording, spans: list[tuple[float, float]]) -> int:
    """Runs of exact digital zero of at least GAP_MIN_S inside the sounding spans."""
    return len(zero_gap_times(rec, spans))


def within(t_us: float, spans: list[tuple[int, int]], before_s: float, after_s: float) -> bool:
    """True if wall-clock time t_us falls in one of the spans (us), each widened by the margins."""
    return any(s - before_s * 1e6 <= t_us <= e + after_s * 1e6 for s, e in spans)


def read_pauses(path: Path) -> list[tuple[int, int]] | None:
    """The pauses pause_probe.py saw (START_US END_US per line); None without a probe."""
    try:
        text = path.read_text()
    except OSError:
        return None
    pauses = []
    for line in text.splitlines():
        parts = line.split()
        if len(parts) == 2:
            pauses.append((int(parts[0]), int(parts[1])))
    return pauses


def read_times_us(path: Path) -> list[int]:
    try:
        return [int(line) for line in path.read_text().split()]
    except (OSError, ValueError):
        return []


def expected_cues(config: Path, pattern_seconds: float) -> list[tuple[float, list[str]]]:
    """(t, cues) of a session pressed at t = 0, from `breathring simulate`."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "firmware"))
    python = REPO / ".venv" / "bin" / "python"
    cmd = [
        str(python if python.exists() else sys.executable),
        "-c",
        "from breathring.cli import main; raise SystemExit(main())",
        "simulate",
        "--config",
        str(config),
        "--seconds",
        f"{pattern_seconds:.1f}",
        "--press",
        "0",
        "--out",
        "-",
    ]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    cues: list[tuple[float, list[str]]] = []
    for line in out.splitlines()[1:]:
        frame = json.loads(line)
        if frame.get("cues"):
            cues.append((float(frame["t"]), list(frame["cues"])))
    return cues


def _held_s(out_dir: Path) -> float | None:
    """How long the first press held the button down (s), from press.py's write times."""
    try:
        writes = json.loads((out_dir / "press-times.json").read_text())
    except (OSError, json.JSONDecodeError):
        return None
    if not isinstance(writes, list) or len(writes) < 2:
        return None
    return (writes[1] - writes[0]) / 1e6


def cue_times(
    cues: list[tuple[float, list[str]]], session_at: float, held_s: float | None
) -> list[float]:
    """Where each expected cue belongs in the recording (s).

    Phase cues belong at the session's start plus their time on the timeline. The `start` cue
    belongs at the press's release, not at the press (a press plays it when the button comes
    up, so that a hold never plays it; `simulate` presses and releases at the same instant):
    `held_s` after the session's start, since the service sees the release as late as it saw
    the press.
    """
    placed = []
    for t, names in cues:
        if START_CUE in names and held_s is not None:
            placed.append(session_at + t + held_s)
        else:
            placed.append(session_at + t)
    return placed


def analyse_audio(out_dir: Path) -> dict[str, object]:
    wav, times_file, config = (
        out_dir / "session.wav",
        out_dir / "session-times.json",
        out_dir / "config.toml",
    )
    if not (wav.exists() and times_file.exists() and config.exists()):
        return {}
    rec = read_wav(wav)
    times = json.loads(times_file.read_text())
    found = onsets(rec)
    duration_s = len(rec.left) / rec.rate
    result: dict[str, object] = {"audio_onsets": len(found), "audio_seconds": round(duration_s, 1)}
    if times.get("session_started_us") is None:
        return result
    session_at = (times["session_started_us"] - times["record_start_us"]) / 1e6
    session_s = (times["session_end_us"] - times["session_started_us"]) / 1e6
    expected = cue_times(expected_cues(config, session_s), session_at, _held_s(out_dir))
    underrun_at = [
        u
        for u in read_times_us(out_dir / "underruns.txt")
        if times["record_start_us"] <= u <= times.get("record_end_us", u)
    ]
    errors: list[float] = []
    delayed: list[bool] = []
    for t in expected:
        near = [o for o in found if abs(o - t) <= MATCH_WINDOW_S]
        if near:
            errors.append(min(near, key=lambda o: abs(o - t)) - t)
            # An underrun logged from UNDERRUN_LOG_DELAY_S before the cue was due to the end
            # of its match window (plus that delay) held the cue up.
            cue_us = times["record_start_us"] + t * 1e6
            delayed.append(
                within(
                    cue_us,
                    [(u, u) for u in underrun_at],
                    MATCH_WINDOW_S + UNDERRUN_LOG_DELAY_S,
                    UNDERRUN_LOG_DELAY_S,
                )
            )
    on_time = [e for e, late in zip(errors, delayed, strict=True) if not late]
    if on_time and len(on_time) >= MIN_ON_TIME_SHARE * len(errors):
        # The recording's own start is known only to arecord's start-up latency: align on the
        # first cue, then every other cue's onset is measured against the service's timeline.
        # A cue the sound underran around is that underrun's (counted in underrun_gaps): it
        # is listed but neither the reference nor in the maximum.
        first = on_time[0]
        result["cue_onset_err_ms_max"] = round(max(abs(e - first) for e in on_time) * 1000, 1)
        result["first_cue_offset_ms"] = round(first * 1000, 1)
        result["cue_onset_errors_ms"] = [round((e - first) * 1000, 1) for e in errors]
    else:
        result["cue_onset_err_ms_max"] = None
    result["cues_expected"] = len(expected)
    result["cues_matched"] = len(errors)
    result["cues_at_underruns"] = sum(delayed)
    limit = max(CLICK_MARGIN * steepest_cue_step(), CLICK_FLOOR * FULL_SCALE)
    spans = [(o, o + 0.2) for o in found]  # the first 200 ms after every onset sounds
    # Recording time -> wall clock: the recording starts at record_start_us plus arecord's
    # start-up, which the first cue's offset measures (give or take the output latency).
    offset_s = float(result.get("first_cue_offset_ms", 0.0)) / 1000

    def wall_us(t: float) -> float:
        return times["record_start_us"] + (t - offset_s) * 1e6

    click_at = [wall_us(t) for t in click_times(rec, limit)]
    gap_at = [wall_us(t) for t in zero_gap_times(rec, spans)]
    pauses = read_pauses(out_dir / "pauses.txt")
    if pauses is None:  # no probe: every event counts against the product
        pauses = []
    else:
        inside = [(s, e) for s, e in pauses if e >= times["record_start_us"]]
        result["vm_pauses"] = len(inside)
        result["vm_pause_max_ms"] = round(max((e - s for s, e in inside), default=0) / 1000, 1)

    def ours(events: list[float], before_s: float, after_s: float) -> int:
        return sum(1 for t in events if not within(t, pauses, before_s, after_s))

    result["recorded_clicks"] = len(click_at)
    result["recorded_zero_gaps"] = len(gap_at)
    result["alsa_underruns_recorded"] = len(underrun_at)
    # ALSA logs an underrun when the sound thread writes again, just after the stall ended;
    # a click or gap in the recording is placed to within the output latency. A click where
    # the sound underran is that underrun's gap (counted in underrun_gaps), not a click of a
    # cue's own making: `clicks` checks the cues' envelopes.
    underrun_spans = [(int(u - UNDERRUN_LOG_DELAY_S * 1e6), int(u)) for u in underrun_at]
    own_clicks = [
        t
        for t in click_at
        if not within(t, pauses + underrun_spans, RECORDING_MARGIN_S, RECORDING_MARGIN_S)
    ]
    result["clicks"] = len(own_clicks)
    result["clicks_at_underruns"] = len(click_at) - len(own_clicks)
    own_underruns = ours(underrun_at, 0.0, UNDERRUN_LOG_DELAY_S)
    result["underrun_gaps"] = own_underruns + ours(gap_at, RECORDING_MARGIN_S, RECORDING_MARGIN_S)
    result["underruns_in_vm_pauses"] = len(underrun_at) - own_underruns
    tail = rec.left[-int(IDLE_TAIL_S * rec.rate) :]
    result["idle_silent"] = max((abs(v) for v in tail), default=0) < ONSET_LEVEL * FULL_SCALE
    return result


def checks(report: dict[str, object]) -> dict[str, bool]:
    def num(key: str) -> float | None:
        value = report.get(key)
        return float(value) if isinstance(value, int | float) and value is not True else None

    def at_most(key: str, limit: float) -> bool:
        value = num(key)
        return value is not None and value <= limit

    return {
        "install_rc": report.get("install_rc") == 0,
        "idle_before_press_s": (num("idle_before_press_s") or 0.0) >= MIN_IDLE_BEFORE_PRESS_S,
        "audio_closed_before_press": report.get("audio_closed_before_press") is True,
        "active_s": at_most("active_s", MAX_ACTIVE_S),
        "press_to_light_ms": at_most("press_to_light_ms", MAX_PRESS_TO_LIGHT_MS),
        "double_ok": report.get("double_ok") is True,
        "hold_toggles": report.get("hold_toggles") == 1,
        "cue_onset_err_ms_max": at_most("cue_onset_err_ms_max", MAX_CUE_ONSET_ERR_MS),
        "clicks": report.get("clicks") == 0,
        "underrun_gaps": report.get("underrun_gaps") == 0,
        "hardening_ok": report.get("hardening_ok") is True,
        "watchdog_restart_s": at_most(
            "watchdog_restart_s", VM_WATCHDOG_S + UNIT_RESTART_S + WATCHDOG_SLACK_S
        ),
        "reload_ok": report.get("reload_ok") is True,
        "stop_s": at_most("stop_s", MAX_STOP_S),
        "tracebacks": report.get("tracebacks") == 0,
        "reminders_after_reboot_ok": report.get("reminders_after_reboot_ok") is True,
        "uninstall_clean": report.get("uninstall_clean") is True,
        "guest_tests_rc": report.get("guest_tests_rc") == 0,
        # The radar step (amd64 only: arm64's virt machine has no second UART wired): the
        # radar's rate in `status`, stale when it falls silent, back when it speaks, the service
        # unmoved.
        "radar_ok": report.get("radar_wired") is False
        or (
            report.get("radar_ok") is True
            and report.get("radar_rate_per_min") is not None
            and report.get("radar_rate_per_min") == report.get("radar_rate_expected")
        ),
    }


def build_report(
    out_dir: Path, arch: str, elapsed_s: float, release: str | None = None
) -> dict[str, object]:
    results = read_results(out_dir)
    try:
        results.update(analyse_audio(out_dir))
    except Exception as exc:  # a broken recording is a failed check, not a crash
        results["audio_error"] = str(exc)
    tracebacks = 0
    for name in ("tracebacks-boot1", "tracebacks-boot2"):
        path = out_dir / name
        if path.exists():
            tracebacks += int(path.read_text().strip() or 0)
    results["tracebacks"] = tracebacks if (out_dir / "tracebacks-boot1").exists() else None
    report: dict[str, object] = {key: results.get(key) for key in REPORT_KEYS}
    report["arch"] = arch
    report["release"] = release
    report["elapsed_s"] = round(elapsed_s)
    extra = {k: v for k, v in results.items() if k not in report}
    report["details"] = extra
    report["checks"] = checks(report)
    report["ok"] = all(report["checks"].values())
    return report


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--out-dir", required=True, type=Path)
    p.add_argument("--arch", required=True)
    p.add_argument("--release", help="the guest's Debian release (trixie, bookworm)")
    p.add_argument("--elapsed", type=float, default=0.0)
    p.add_argument("--report", type=Path)
    args = p.parse_args(argv)
    report = build_report(args.out_dir, args.arch, args.elapsed, args.release)
    text = json.dumps(report, indent=2)
    print(text)
    if args.report:
        args.report.write_text(text + "\n")
    failed = [k for k, ok in report["checks"].items() if not ok]
    if failed:
        print(f"vm: failed checks: {', '.join(failed)}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
