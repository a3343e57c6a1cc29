"""The hourly pulse's schedule check: is a pulse due now, and when to look again.

Never raises: a schedule that cannot be computed (e.g. a wall clock near year 9999)
is logged, rate-limited, and looked at again a minute later.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..clock import Now
from ..engine import WALL_RECHECK_S, Engine
from .frames import RateLimitedLog
from .records import Records
from .status import ClockTrustLog

FAILED = "checking the reminder schedule failed"


@dataclass(frozen=True)
class ReminderCheck:
    """What one check found: a pulse started, the clock's state, the next check's time."""

    started: bool
    synced: bool | None
    next_check: float


def check_reminder(
    engine: Engine, trust_log: ClockTrustLog, records: Records, report: RateLimitedLog, now: Now
) -> ReminderCheck:
    """Start a due pulse (saving its slot); `synced` is None if the clock could not be read."""
    was_active = engine.active
    synced = None
    try:
        trust = trust_log()
        synced = trust.synchronized
        changed = engine.check_reminder(now, trust.trusted)
    except Exception:
        report("reminder", now.mono, FAILED)
        changed = False
    if changed:
        records.save()
    try:
        wait = engine.seconds_to_next_check(now)
    except Exception:  # e.g. a wall clock near year 9999: look again later, never crash
        report("reminder", now.mono, FAILED)
        wait = WALL_RECHECK_S
    next_check = now.mono + max(wait, engine.frame_interval)
    return ReminderCheck(engine.active and not was_active, synced, next_check)
