"""`python -m benchmarks [--json] [--quick] [--out DIR] [--no-write]`: run every benchmark."""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .common import DOCS, SIZES

#: The library we compare with (the bench extra), and the exit code without it.
PEER = "adafruit_led_animation"
EXIT_UNAVAILABLE = 69
#: (full, quick) sizes of each measurement.
FULL = {
    "sizes": SIZES,
    "frames": 1000,
    "repeats": 5,
    "cg_frames": 200,
    "presses": 200,
    "idle_s": 30.0,
    "session_s": 10.0,
    "starts": 3,
    "hours": 1.0,
    "day_hours": 24.0,
}
QUICK = {
    "sizes": (12, 24),
    "frames": 50,
    "repeats": 2,
    "cg_frames": 0,
    "presses": 5,
    "idle_s": 1.0,
    "session_s": 1.0,
    "starts": 1,
    "hours": 0.01,
    "day_hours": 2.0,
}


def run(quick: bool = False, log: Any = None) -> dict[str, Any]:
    """Every benchmark; the result has the keys issue 6 asks for (and a few more)."""
    from . import drift, frame, latency, process, report, smooth

    p = QUICK if quick else FULL
    # The in-process services log every session and pulse; only problems matter here.
    logging.getLogger("breathring").setLevel(logging.WARNING)

    def step(name: str) -> float:
        if log is not None:
            print(f"bench: {name} ...", file=log, flush=True)
        return time.perf_counter()

    result: dict[str, Any] = {"quick": quick, "machine": report.machine()}
    # CPU figures are CPU time over wall time, but caches and cores are shared: say how busy.
    result["load_avg_start"] = [round(v, 2) for v in os.getloadavg()]
    started = step("frame cost")
    result.update(frame.frame_costs(p["sizes"], p["frames"], p["repeats"]))
    if p["cg_frames"]:
        step("instruction counts (valgrind)")
        counts = frame.callgrind(p["sizes"], p["cg_frames"])
        if counts is not None:
            result.update(counts)
    step("smoothness")
    result.update(smooth.smoothness())
    step("button latency")
    result.update(latency.measure(p["presses"]))
    step("drift")
    result.update(drift.measure(p["hours"], p["day_hours"]))
    step("service process: start-up, idle and session CPU, memory")
    result.update(process.measure(p["idle_s"], p["session_s"], p["starts"]))
    step("the frame pipeline in place (a frame, then a sleep)")
    result.update(frame.in_place(p["session_s"] / 2))
    step("the loop's floor (waking at the frame rate, no work)")
    result.update(frame.wake_floor(p["session_s"] / 2))
    result["load_avg_end"] = [round(v, 2) for v in os.getloadavg()]
    result["goals_met"] = report.goals_met(result)
    result["bench_seconds"] = round(time.perf_counter() - started, 1)
    return result


#: Sections measured by their own scripts (e.g. benchmarks/companions.py): a rewrite keeps them.
KEPT_SECTIONS = ("## Session profile (py-spy)", "## Companions: web and MQTT")


def kept_sections(markdown: str) -> str:
    """The KEPT_SECTIONS of an existing report, each up to the next "## " heading."""
    out = []
    for heading in KEPT_SECTIONS:
        start = markdown.find("\n" + heading)
        if start < 0:
            continue
        end = markdown.find("\n## ", start + 1)
        out.append(markdown[start : end if end >= 0 else len(markdown)].rstrip("\n") + "\n")
    return "".join(out)


def write(result: dict[str, Any], out: Path, command: str) -> None:
    from . import report, smooth

    out.mkdir(parents=True, exist_ok=True)
    page = out / "benchmarks.md"
    kept = kept_sections(page.read_text(encoding="utf-8")) if page.exists() else ""
    page.write_text(report.markdown(result, command) + kept, encoding="utf-8")
    report.png(result, smooth.inhale_curves(0.02), out / "benchmarks.png")


def main(argv: Sequence[str] | None = None, command: str = "python -m benchmarks") -> int:
    parser = argparse.ArgumentParser(prog=command, description=__doc__)
    parser.add_argument("--json", action="store_true", help="print the results as one JSON object")
    parser.add_argument("--quick", action="store_true", help="tiny sizes and durations (tests)")
    parser.add_argument("--out", type=Path, default=DOCS, help="where to write the report")
    parser.add_argument("--no-write", action="store_true", help="do not write the report")
    args = parser.parse_args(argv)
    if importlib.util.find_spec(PEER) is None:
        print(
            f"{command}: the peer library ({PEER}) is not installed; "
            "install the bench extra: pip install -e '.[bench]'",
            file=sys.stderr,
        )
        return EXIT_UNAVAILABLE
    result = run(args.quick, log=sys.stderr)
    if not args.no_write:
        write(result, args.out, command + (" --quick" if args.quick else ""))
    if args.json:
        print(json.dumps(result, sort_keys=True))
    else:
        print(json.dumps(result["goals_met"], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
