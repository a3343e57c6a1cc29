"""breathring's benchmarks (issue 6): frame cost, smoothness, CPU, latency, drift, start-up.

Run with `python -m benchmarks` from the source checkout (no Pi needed); results
go to docs/benchmarks.md and docs/benchmarks.png, `--json` prints them.

Importing the package puts firmware/ on sys.path (if breathring is not
installed) and selects the off-Pi libraries, before any submodule runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

_FIRMWARE = Path(__file__).resolve().parent.parent / "firmware"

# The real neopixel/Blinka libraries off a Pi, pygame without a display: before any import.
os.environ.setdefault("BLINKA_OS_AGNOSTIC", "1")
os.environ.setdefault("BLINKA_SKIP_DEPENDENCY_CHECK", "1")
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
if str(_FIRMWARE) not in sys.path:
    sys.path.insert(0, str(_FIRMWARE))
