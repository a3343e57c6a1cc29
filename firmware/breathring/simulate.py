"""`breathring simulate`: the service's engine in virtual time, as JSON lines.

No sleeping: a FakeClock jumps from frame to frame, and from one event to the
next while the ring is dark, so a day runs in well under a second when idle.
The same arguments always give byte-identical output.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import IO
from zoneinfo import ZoneInfo

from .clock import FakeClock, read
from .config import Config, format_color
from .engine import Engine, Rendered
from .gestures import DOUBLE, HOLD, PRESS
from .simulated_rate import RateFeed

DEFAULT_AT = "12:00"
DEFAULT_DATE = date(2026, 1, 15)
DEFAULT_TZ = "UTC"
DEFAULT_SECONDS = 60.0
#: Decimal places of the virtual time written in each line.
TIME_DECIMALS = 6
_AT_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_JUMP_RE = re.compile(r"^(\d+(?:\.\d+)?):([+-])(\d+(?:\.\d+)?)([smh])$")
_UNIT_SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}
#: A press whose button stays down (the start of `--hold`).
HELD_PRESS = "held-press"


def parse_at(text: str) -> time:
    """'HH:MM' or 'HH:MM:SS' -> time; ValueError with what is allowed."""
    match = _AT_RE.match(text.strip())
    if not match:
        raise ValueError(f"--at {text!r} is not a time; allowed HH:MM or HH:MM:SS, e.g. 07:30")
    hour, minute, second = match.groups()
    return time(int(hour), int(minute), int(second or 0))


def parse_jump(text: str) -> tuple[float, float]:
    """'T:+3h' -> (virtual second T, signed seconds the wall clock jumps)."""
    match = _JUMP_RE.match(text.strip())
    if not match:
        raise ValueError(
            f"--jump {text!r} is not a jump; allowed T:+Nh, T:-Nm or T:+Ns, e.g. 3600:+3h"
        )
    at, sign, amount, unit = match.groups()
    seconds = float(amount) * _UNIT_SECONDS[unit]
    return float(at), seconds if sign == "+" else -seconds


@dataclass
class SimOptions:
    """What to simulate."""

    seconds: float = DEFAULT_SECONDS
    fps: int | None = None
    at: time = field(default_factory=lambda: parse_at(DEFAULT_AT))
    day: date = DEFAULT_DATE
    tz: str = DEFAULT_TZ
    presses: list[float] = field(default_factory=lambda: [0.0])
    holds: list[float] = field(default_factory=list)
    doubles: list[float] = field(default_factory=list)
    jumps: list[tuple[float, float]] = field(default_factory=list)
    synced: bool = True
    #: Measured breathing rates (simulated_rate.py); None: no breath sensor.
    rates: RateFeed | None = None


@dataclass(order=True)
class _Event:
    at: float
    order: int
    kind: str
    value: float = 0.0


def _events(opts: SimOptions, hold_seconds: float, double_seconds: float) -> list[_Event]:
    events: list[_Event] = []
    for t in opts.presses:
        events.append(_Event(t, 1, PRESS))
    for t in opts.doubles:
        events.append(_Event(t, 1, PRESS))
        events.append(_Event(t + double_seconds / 2, 1, DOUBLE))
    for t in opts.holds:
        # The button goes down (a press, delivered at once, its `start` held back), then is held.
        events.append(_Event(t, 1, HELD_PRESS))
        events.append(_Event(t + hold_seconds, 1, HOLD))
    for t, delta in opts.jumps:
        events.append(_Event(t, 0, "jump", delta))
    return sorted(e for e in events if 0.0 <= e.at <= opts.seconds)


def header(cfg: Config, opts: SimOptions, fps: int) -> dict[str, object]:
    ring = cfg.ring
    return {
        "pixels": ring.pixels,
        "fps": fps,
        "order": "RGB",
        "brightness": ring.brightness,
        "color": format_color(ring.color),
        "max_milliamps": ring.max_milliamps,
        "pattern": cfg.session.pattern,
        "start": datetime.combine(opts.day, opts.at, ZoneInfo(opts.tz)).isoformat(),
        "seconds": opts.seconds,
        **(opts.rates.header() if opts.rates is not None else {}),
    }


def frame_record(t: float, rendered: Rendered) -> dict[str, object]:
    wire = rendered.wire
    tick = rendered.tick
    record: dict[str, object] = {
        "t": round(t, TIME_DECIMALS),
        "phase": tick.phase,
        "breath": tick.breath,
        "rgb": [list(wire[i : i + 3]) for i in range(0, len(wire), 3)],
        "cues": tick.cues,
        "ma": round(rendered.milliamps, 1),
    }
    if tick.events:
        record["events"] = tick.events
    return record


def simulate(cfg: Config, opts: SimOptions) -> Iterator[tuple[float, Rendered]]:
    """Frames the ring would be sent, with their virtual time.

    The loop is the service's: frames at the frame rate while the light
    changes; otherwise a jump straight to the next gesture or schedule check.
    """
    fps = opts.fps or cfg.ring.fps
    interval = 1.0 / fps
    clock = FakeClock(datetime.combine(opts.day, opts.at, ZoneInfo(opts.tz)))
    clock.synced = opts.synced
    engine = Engine(cfg)
    events = _events(opts, cfg.button.hold_seconds, cfg.button.double_seconds)
    anchor, n = 0.0, 0  # while active, frames fall on anchor + n / fps
    next_check = 0.0  # monotonic time of the next look at the reminder schedule
    end = opts.seconds
    inf = float("inf")

    while True:
        t_frame = anchor + n * interval if engine.active else inf
        t_event = events[0].at if events else inf
        t = min(t_frame, t_event, next_check)
        if t > end:
            return
        clock.advance_to(t)
        now = read(clock)
        restart = False
        if opts.rates is not None:  # a reading costs no frame, as in the service
            for reading in opts.rates.due(now.mono):
                engine.controller.breath_reading(reading)
        while events and events[0].at <= t:
            event = events.pop(0)
            if event.kind == "jump":
                clock.jump_wall(timedelta(seconds=event.value))
                now = read(clock)
                next_check = t  # look at the schedule again at once
            elif event.kind == HELD_PRESS:
                engine.gesture(PRESS, now, held=True)
                restart = True
            else:
                engine.gesture(event.kind, now)
                restart = True
        if t >= next_check:
            was_active = engine.active
            engine.check_reminder(now, clock.synced)
            restart = restart or (engine.active and not was_active)
            next_check = t + max(engine.seconds_to_next_check(now), interval)
        if restart:
            # Something new to show: draw at once and start a new frame grid.
            anchor, n = t, 0
        if engine.active and (restart or t >= anchor + n * interval):
            yield t, engine.render(now)
            n += 1


def write_jsonl(cfg: Config, opts: SimOptions, out: IO[str]) -> int:
    """Write the header and every frame; returns the number of frames."""
    fps = opts.fps or cfg.ring.fps
    out.write(json.dumps(header(cfg, opts, fps), separators=(",", ":")) + "\n")
    count = 0
    for t, rendered in simulate(cfg, opts):
        out.write(json.dumps(frame_record(t, rendered), separators=(",", ":")) + "\n")
        count += 1
    return count
