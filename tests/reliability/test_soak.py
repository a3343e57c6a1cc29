"""Soak: a virtual week of service operation on a FakeClock with mock hardware.

Random presses, double presses, holds and small wall-clock corrections, at
random moments of every hour. Checks: every pulse that belongs (reminders on,
active hours, device idle at the slot) happens, on its slot to within a frame
(after a week: no drift), and no other; file descriptors stay flat; live Python
memory (tracemalloc, over a traced stretch of six virtual hours) does not grow;
the ring ends dark. Budget: about 15 s of CPU.
"""

from __future__ import annotations

import gc
import os
import random
import tracemalloc
from datetime import datetime, timedelta

from testkit.rig import UTC, make_rig

from breathring.clock import Now
from breathring.config import parse_config

DAYS = 7
HOUR_S = 3600.0
#: The soak runs at 50 fps (half the default) to keep within its CPU budget.
FPS = 50
#: A pulse starts within one frame of its slot (the idle loop sleeps until the deadline).
PULSE_ON_TIME_S = 1.0 / FPS + 0.001
#: After a wall-clock correction of up to this much, a pulse may be that late or early.
NTP_STEP_S = 2.0
#: The stretch traced by tracemalloc (it slows Python ~10x): tracing starts at the first hour,
#: the baseline is taken an hour later (once the mocks' bounded buffers hold only traced
#: objects), and live memory may grow this much from there to the end of the stretch.
TRACED_HOURS = range(35, 38)
BASELINE_AFTER_H = 1
MAX_GROWTH_BYTES = 16 * 1024
#: Only memory allocated with our code on the stack counts: threads left over from other
#: tests in the same process (sockets, audio) must not make this test flaky.
TRACE_FRAMES = 30
OUR_CODE = ("*/breathring/*", "*/reliability/*")
ACTIVE = range(8, 22)  # default reminder.active_hours 08:00-22:00
#: The loop stops this long before each slot to note whether a pulse is due.
BEFORE_SLOT_S = 0.5


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _our_memory() -> int:
    """Live bytes allocated while our code (firmware or this harness) was on the stack."""
    filters = [tracemalloc.Filter(True, pattern, all_frames=True) for pattern in OUR_CODE]
    snapshot = tracemalloc.take_snapshot().filter_traces(filters)
    return sum(stat.size for stat in snapshot.statistics("filename"))


def _slot(wall: datetime) -> datetime:
    return (wall + timedelta(seconds=HOUR_S / 2)).replace(minute=0, second=0, microsecond=0)


def test_a_virtual_week(tmp_path):
    rng = random.Random(2026)
    start = datetime(2026, 3, 23, 0, 0, tzinfo=UTC)
    cfg = parse_config(f"[ring]\nfps = {FPS}\n")
    rig = make_rig(cfg, wall=start, state_dir=tmp_path, keep=1)  # mocks keep one frame
    rig.keep_frames = False
    pulses: list[datetime] = []
    render = rig.service.engine.render

    def watching(now: Now):
        rendered = render(now)
        if "pulse-shown" in rendered.tick.events:
            pulses.append(now.wall)
        return rendered

    rig.service.engine.render = watching  # type: ignore[method-assign]
    controller = rig.service.engine.controller
    gc.collect()  # earlier tests' sockets and files, unreachable but not yet collected
    fds_start = _fds()
    due: set[datetime] = set()
    jumped: set[datetime] = set()
    counts = {"press": 0, "double": 0, "hold": 0, "jump": 0}
    rig.run_for(HOUR_S - BEFORE_SLOT_S)
    for hour in range(DAYS * 24):
        if hour == TRACED_HOURS.start:
            tracemalloc.start(TRACE_FRAMES)
        if hour == TRACED_HOURS.start + BASELINE_AFTER_H:
            gc.collect()
            traced_from = _our_memory()
        if hour == TRACED_HOURS.stop:
            gc.collect()
            growth = _our_memory() - traced_from
            tracemalloc.stop()
        slot = _slot(rig.clock.wall())
        if controller.reminders_enabled and controller.state == "idle" and slot.hour in ACTIVE:
            due.add(slot)
        # Something happens at a random moment in most hours, never near a slot.
        wait = rng.uniform(120.0, 3000.0)
        rig.run_for(wait)
        roll = rng.random()
        if roll < 0.4:
            rig.button.press()
            counts["press"] += 1
        elif roll < 0.5:
            rig.button.double()
            counts["double"] += 1
        elif roll < 0.54:
            rig.hold()
            counts["hold"] += 1
        elif roll < 0.64:
            rig.clock.jump_wall(timedelta(seconds=rng.uniform(-NTP_STEP_S, NTP_STEP_S)))
            jumped.add(_slot(rig.clock.wall() + timedelta(hours=1)))
            counts["jump"] += 1
        wall = rig.clock.wall()
        rest = HOUR_S - (wall.minute * 60 + wall.second + wall.microsecond / 1e6) - BEFORE_SLOT_S
        rig.run_for(max(rest, 0.001))
    rig.run_for(120.0)

    assert min(counts.values()) >= 5, counts
    slots = [_slot(w) for w in pulses]
    assert len(slots) == len(set(slots)), "a slot pulsed twice"
    assert set(slots) == due, (sorted(due - set(slots)), sorted(set(slots) - due))
    for wall in pulses:
        late = abs((wall - _slot(wall)).total_seconds())
        limit = NTP_STEP_S + PULSE_ON_TIME_S if _slot(wall) in jumped else PULSE_ON_TIME_S
        assert late <= limit, (wall, late)
    hours = len(TRACED_HOURS) - BASELINE_AFTER_H
    assert growth < MAX_GROWTH_BYTES, f"live heap grew {growth} bytes in {hours} h"
    assert _fds() == fds_start
    assert rig.ring.lit == 0 and not rig.service.engine.active
    print(f"soak: {len(pulses)} pulses of {len(due)} due, {counts}, traced growth {growth} B")
