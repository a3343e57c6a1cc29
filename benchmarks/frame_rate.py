"""What the frame rate costs and what it buys: session CPU against the night light.

For each rate: the real service (`breathring run --hardware mock`, the benchmark's config
with `ring.fps` set) pressed once, its CPU and wake-ups over windows of that session (the
median window, as in process.py); and the first inhale of a session at that rate, in virtual
time, judged as in smooth.py (roughness and hue error at full and at night brightness).

    python -m benchmarks.frame_rate            # 100, 50, 30 and 25 frames a second
    python -m benchmarks.frame_rate --quick    # one rate, short windows (the smoke test)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from breathring.analysis import hue_error_pct, roughness_pct
from breathring.config import Config

from .common import AMBER
from .process import CONFIG, ServiceProcess
from .smooth import our_inhale

RATES = (100, 50, 30, 25)
#: Full light and the night light of section 2.
BRIGHTNESSES = (1.0, 0.02)
WINDOWS = 3
WINDOW_S = 8.0
#: The press comes this long after READY=1, once the start-up's work is done.
SETTLE_S = 3.0


def light_at(fps: int) -> dict[float, dict[str, float]]:
    """Roughness and hue error (%) of the first inhale at `fps`, by brightness."""
    cfg = Config()
    cfg = replace(cfg, ring=replace(cfg.ring, fps=fps))
    out = {}
    for brightness in BRIGHTNESSES:
        frames, rate, _ = our_inhale(brightness, cfg)
        out[brightness] = {
            "rough_pct": round(roughness_pct([sum(f) for f in frames], rate), 3),
            "hue_err_pct": round(hue_error_pct(frames, AMBER, rate), 3),
        }
    return out


def session_at(fps: int, windows: int = WINDOWS, window_s: float = WINDOW_S) -> dict[str, Any]:
    """Session CPU (% of a core) and wake-ups a second of the service at `fps` (median window)."""
    config = CONFIG + f"\n[ring]\nfps = {fps}\n"
    with tempfile.TemporaryDirectory(prefix="breathring-bench-") as tmp:
        service = ServiceProcess(Path(tmp), config)
        try:
            time.sleep(SETTLE_S)
            service.press()
            runs = [service.cpu_and_wakeups(window_s) for _ in range(windows)]
        finally:
            service.close()
    return {
        "session_cpu_pct": round(statistics.median(cpu for cpu, _ in runs), 3),
        "session_wakeups_per_s": round(statistics.median(woke for _, woke in runs), 1),
    }


def measure(rates: Sequence[int] = RATES, quick: bool = False) -> dict[str, Any]:
    """Per rate: the service's session CPU and wake-ups, and the light's figures."""
    windows, window_s = (1, 1.0) if quick else (WINDOWS, WINDOW_S)
    return {
        str(fps): session_at(fps, windows, window_s) | {"light": light_at(fps)} for fps in rates
    }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.frame_rate", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="one rate, 1-s windows")
    args = parser.parse_args(argv)
    rates = RATES[-1:] if args.quick else RATES
    print(json.dumps(measure(rates, args.quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
