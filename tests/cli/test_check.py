"""`breathring check` on mock hardware: deterministic, whatever the machine's load."""

from __future__ import annotations

import io
import re
import threading
from datetime import datetime
from zoneinfo import ZoneInfo

from testkit.mock_hw import make_bench

from breathring.clock import FakeClock
from breathring.config import Config
from breathring.selftest import run_check

NOON = datetime(2026, 1, 15, 12, 0, tzinfo=ZoneInfo("UTC"))
#: Generous: the check itself needs no real time at all on mocks.
FINISH_WITHIN_S = 20.0


class LoadedClock(FakeClock):
    """A machine so loaded that every look at the clock finds a second gone."""

    def monotonic(self) -> float:
        self.advance(1.0)
        return super().monotonic()


def check_on_mocks(clock: FakeClock) -> tuple[int | None, str]:
    cfg = Config()
    hw = make_bench(cfg, clock).hardware  # the real ring and button over mock buses
    out = io.StringIO()
    result: list[int] = []
    worker = threading.Thread(
        target=lambda: result.append(run_check(cfg, hw, clock, out, 30.0)), daemon=True
    )
    worker.start()
    worker.join(FINISH_WITHIN_S)
    return (result[0] if result else None), out.getvalue()


def test_mock_check_passes_on_a_frozen_clock():
    """The scripted press and hold carry their own time stamps: no timers, no race."""
    code, text = check_on_mocks(FakeClock(NOON))
    assert code == 0, text
    assert re.search(r"button press +PASS", text) and re.search(r"button hold +PASS", text)


def test_mock_check_passes_on_a_heavily_loaded_machine():
    code, text = check_on_mocks(LoadedClock(NOON))
    assert code == 0, text
    assert "all checks passed" in text
