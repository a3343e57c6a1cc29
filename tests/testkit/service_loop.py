"""Step a Service in virtual time (shared by the service tests)."""

from __future__ import annotations

from breathring.clock import FakeClock
from breathring.service import Service

#: More steps than this in one run_for means the loop is spinning without the clock moving.
STEP_LIMIT = 2_000_000


def run_for(service: Service, clock: FakeClock, seconds: float, limit: int = STEP_LIMIT) -> None:
    """Step the service until `seconds` of the fake clock have passed."""
    end = clock.monotonic() + seconds
    steps = 0
    while clock.monotonic() < end:
        service.step()
        steps += 1
        assert steps < limit, "the loop is spinning"
