"""Timing drift: phase boundaries and hourly pulses against their schedule, in virtual time.

The real service loop (Service.step) runs on a FakeClock. Its wait oversleeps
by a random 0-2 ms each time, as a real OS sleep does, so a loop that timed
each frame from the last one would fall behind; ours keeps to its frame grid.

- one hour of breathing (a three-breath session of 360 breaths): each cue
  is stamped with the clock when it is played; its lateness against the
  session's timeline is fitted with a straight line over time;
- 24 hours with hourly reminders: each pulse's start against its slot.

drift_ms_per_hour is the larger slope of the two, in ms per hour.
"""

from __future__ import annotations

import queue
import random
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from breathring.clock import FakeClock
from breathring.config import Config
from breathring.hw.mock import WireCapture, mock_button, mock_ring
from breathring.hw.selection import Hardware
from breathring.service import Service

HOUR_S = 3600.0
MS = 1000.0
OVERSLEEP_S = 0.002
SEED = 6
#: Breaths of the default pattern (10 s each) in one hour.
HOUR_BREATHS = 360
DAY = datetime(2026, 1, 15, tzinfo=UTC)


class CueTimes:
    """Audio that notes when each cue was asked for (monotonic), and plays nothing."""

    available = True

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.played: list[tuple[str, float, float]] = []

    def play(self, cue: str, volume: float) -> None:
        self.played.append((cue, self.clock.monotonic(), volume))

    def play_guide(self, kind: str, seconds: float, volume: float) -> None:
        self.played.append(("guide:" + kind, self.clock.monotonic(), seconds))

    def stop(self) -> None:
        """Nothing plays."""

    def close(self) -> None:
        """Nothing to release."""


def _service(cfg: Config, start: datetime, seed: int) -> tuple[Service, FakeClock, Hardware]:
    clock = FakeClock(start)
    ring = mock_ring(cfg.ring.pixels, cfg.ring.order, WireCapture(cfg.ring.order, keep=1))
    button, pins = mock_button(cfg.button.pin, cfg.button.bounce_seconds, clock)
    hw = Hardware(ring, button, CueTimes(clock), "mock", pins=pins)
    rng = random.Random(seed)

    def wait(timeout: float) -> object | None:
        try:
            return hw.button.events.get_nowait()
        except queue.Empty:
            clock.advance(timeout + rng.uniform(0.0, OVERSLEEP_S))
            return None

    service = Service(cfg, hw, clock, wait=wait)
    service.start()
    return service, clock, hw


def slope_per_hour(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, ms) points, in ms per hour."""
    n = len(points)
    if n < 2:
        return 0.0
    mx = sum(x for x, _ in points) / n
    my = sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    sxy = sum((x - mx) * (y - my) for x, y in points)
    return sxy / sxx * HOUR_S if sxx else 0.0


def session_lateness(hours: float = 1.0) -> list[tuple[float, float]]:
    """(seconds into the session, ms late) of every cue over `hours` of breathing."""
    cfg = Config()
    breaths = max(1, round(HOUR_BREATHS * hours))
    cfg = replace(cfg, reminder=replace(cfg.reminder, enabled=False))
    cfg = replace(cfg, session=replace(cfg.session, breaths=breaths))
    service, _clock, hw = _service(cfg, DAY + timedelta(hours=12), SEED)
    assert hw.pins is not None
    hw.pins.press()
    hw.pins.release()
    service.step()
    activity = service.engine.controller._activity
    start = activity.start
    boundaries = [s.start for s in activity.timeline.segments if s.seconds > 0.0]
    while service.engine.active:
        service.step()
    times = [t for cue, t, _ in hw.audio.played if not cue.startswith("guide:")]  # type: ignore[attr-defined]
    if len(times) != len(boundaries):
        raise RuntimeError(f"{len(times)} cues for {len(boundaries)} phases")
    return [(b, (t - start - b) * MS) for b, t in zip(boundaries, times, strict=True)]


def pulse_lateness(hours: float = 24.0) -> list[tuple[float, float]]:
    """(seconds since the start, ms late) of every hourly pulse over `hours`."""
    cfg = Config()
    service, clock, _hw = _service(cfg, DAY, SEED + 1)
    end = clock.monotonic() + hours * HOUR_S
    points = []
    was_pulse = False
    while clock.monotonic() < end:
        service.step()
        is_pulse = service.engine.controller.state == "pulse"
        if is_pulse and not was_pulse:
            wall = clock.wall()
            slot = wall.replace(minute=0, second=0, microsecond=0)
            points.append(((wall - DAY).total_seconds(), (wall - slot).total_seconds() * MS))
        was_pulse = is_pulse
    return points


def measure(hours: float = 1.0, day_hours: float = 24.0) -> dict[str, float]:
    session = session_lateness(hours)
    pulses = pulse_lateness(day_hours)
    session_slope = slope_per_hour(session)
    pulse_slope = slope_per_hour(pulses)
    return {
        "drift_ms_per_hour": round(max(abs(session_slope), abs(pulse_slope)), 4),
        "session_drift_ms_per_hour": round(session_slope, 4),
        "session_late_ms_max": round(max(ms for _, ms in session), 3),
        "session_cues": len(session),
        "pulse_drift_ms_per_hour": round(pulse_slope, 4),
        "pulse_late_ms_max": round(max((ms for _, ms in pulses), default=0.0), 3),
        "pulses": len(pulses),
    }


if __name__ == "__main__":
    import json

    print(json.dumps(measure(), indent=2))
