"""`python benchmarks/history_size.py [--years Y] [--dir D] [--json]`: how big the history gets.

Writes Y years (default 5) of heavy use through the real `History` API (30
sessions and 14 hourly pulses a day, every tenth session stopped early, a few
patterns and triggers, Europe/Berlin with its DST changes), closes the file,
reopens it (integrity check, recovery and pruning run: the open time), and
prints the file size, the median commit time of one write, and the median
time of `stats()` over 14 and 366 days. The file size does not depend on the
medium; the commit time does: run with `--dir` on the SD card to see the
device's figure. By default the file goes to /dev/shm (RAM) when there is one,
so the many fsyncs are quick.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "firmware") not in sys.path:
    sys.path.insert(0, str(ROOT / "firmware"))

from breathring.history import HISTORY_FILE, History  # noqa: E402

ZONE = ZoneInfo("Europe/Berlin")
FIRST_DAY = date(2026, 1, 1)
DAYS_PER_YEAR = 365.25
SESSIONS_PER_DAY = 30
PULSES_PER_DAY = 14
BREATHS = 10
BREATH_S = 10
STOPPED_EVERY = 10
PATTERNS = ("box", "4-7-8", "coherent", "wind-down", "sigh")
TRIGGERS = ("button", "double", "pulse", "remote")
DAY_START_HOUR = 7
SESSION_GAP_MIN = 30
STATS_REPEATS = 7
RAM_DIR = Path("/dev/shm")
MB = 1e6


def fill(history: History, days: int) -> list[float]:
    """Record `days` days of heavy use; the seconds each session_started took."""
    commit_s: list[float] = []
    for d in range(days):
        today = FIRST_DAY + timedelta(days=d)
        morning = datetime(today.year, today.month, today.day, DAY_START_HOUR, tzinfo=ZONE)
        for p in range(PULSES_PER_DAY):
            row = history.pulse_shown(morning + timedelta(hours=p))
            if p % 2 == 0:
                history.pulse_answered(row)
        for s in range(SESSIONS_PER_DAY):
            start = morning + timedelta(minutes=SESSION_GAP_MIN * s)
            began = time.perf_counter()
            row = history.session_started(
                TRIGGERS[s % len(TRIGGERS)], PATTERNS[s % len(PATTERNS)], BREATHS, start
            )
            commit_s.append(time.perf_counter() - began)
            stopped = s % STOPPED_EVERY == 0
            breaths = BREATHS // 2 if stopped else BREATHS
            end = start + timedelta(seconds=breaths * BREATH_S)
            history.session_ended(row, breaths, not stopped, end)
    return commit_s


def _stats_ms(history: History, today: date, days: int) -> float:
    times = []
    for _ in range(STATS_REPEATS):
        began = time.perf_counter()
        history.stats(today, days, ZONE)
        times.append(time.perf_counter() - began)
    return statistics.median(times) * 1000


def measure(directory: Path, years: float) -> dict[str, float]:
    """Fill a history in `directory` with `years` of use and measure it."""
    path = directory / HISTORY_FILE
    days = round(years * DAYS_PER_YEAR)
    began = time.perf_counter()
    with History.open(path) as history:
        commit_s = fill(history, days)
    fill_s = time.perf_counter() - began
    last_day = FIRST_DAY + timedelta(days=days - 1)
    began = time.perf_counter()
    history = History.open(path)
    open_ms = (time.perf_counter() - began) * 1000
    with history:
        stats_14 = _stats_ms(history, last_day, 14)
        stats_366 = _stats_ms(history, last_day, 366)
        sessions = sum(d["sessions"] for d in history.stats(last_day, 14, ZONE)["days"])
    size = sum(p.stat().st_size for p in directory.glob(HISTORY_FILE + "*"))
    return {
        "years": years,
        "days": days,
        "sessions": days * SESSIONS_PER_DAY,
        "pulses": days * PULSES_PER_DAY,
        "sessions_last_14_days": sessions,
        "file_mb": round(size / MB, 2),
        "open_ms": round(open_ms, 1),
        "commit_ms_median": round(statistics.median(commit_s) * 1000, 3),
        "stats_14_days_ms": round(stats_14, 2),
        "stats_366_days_ms": round(stats_366, 2),
        "fill_s": round(fill_s, 1),
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--years", type=float, default=5.0, help="years of use (default 5)")
    parser.add_argument("--dir", type=Path, help="where to write the file (default: RAM)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    base = args.dir if args.dir is not None else (RAM_DIR if RAM_DIR.is_dir() else None)
    with tempfile.TemporaryDirectory(dir=base, prefix="history-size-") as tmp:
        result = measure(Path(tmp), args.years)
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key:24} {value}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
