"""`breathring ARGS...` with every frame the mock ring's bus carries appended to a trace file.

The process tests run `python tests/testkit/traced_run.py run --hardware mock`: the
product runs unchanged (the real NeoPixelRing over the captured transmit of
`--hardware mock`); this wrapper, which only tests use, also writes each
transmitted frame as one hex line (RGB, pixel 0 first) to $BREATHRING_TEST_TRACE.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "firmware"))

from breathring.cli import entry
from breathring.hw.mock import WireCapture

TRACE_ENV = "BREATHRING_TEST_TRACE"


def trace_transmits(path: str) -> None:
    """Make every WireCapture also append its frames to `path`."""
    trace = open(path, "a", encoding="ascii")  # noqa: SIM115 (open for the process's life)
    transmit = WireCapture.transmit

    def traced(self: WireCapture, buffer: bytes | bytearray) -> None:
        transmit(self, buffer)
        trace.write(self.rgb(bytes(buffer)).hex() + "\n")
        trace.flush()

    WireCapture.transmit = traced  # type: ignore[method-assign]


if __name__ == "__main__":
    if os.environ.get(TRACE_ENV):
        trace_transmits(os.environ[TRACE_ENV])
    entry(sys.argv[1:])
