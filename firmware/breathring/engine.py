"""The device without its hardware: controller + output stage + schedules. Pure.

Both the service (real clock, real or mock hardware) and `simulate` (virtual
time) drive an Engine, so what `simulate` prints is exactly what the service
would send to the ring.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .activities import Tick
from .clock import Now
from .config import Config, ConfigError
from .controller import Controller
from .output import OutputStage, PowerBudget
from .reminder import ReminderSchedule

#: While idle, wake at least this often to notice wall-clock jumps and sync.
WALL_RECHECK_S = 60.0


@dataclass
class Rendered:
    """One frame ready for the ring."""

    tick: Tick
    wire: bytes  # RGB, pixel 0 first
    milliamps: float


def schedule_from(cfg: Config) -> ReminderSchedule:
    """The reminder schedule of `cfg`; ConfigError if it has no slot at all."""
    try:
        return ReminderSchedule.from_settings(cfg.reminder)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def budget_from(cfg: Config) -> PowerBudget:
    ring = cfg.ring
    return PowerBudget(ring.max_milliamps, ring.milliamps_per_channel, ring.idle_milliamps)


class Engine:
    """Gestures and time in, wire frames and cues out."""

    def __init__(
        self,
        cfg: Config,
        reminders_enabled: bool | None = None,
        last_pulse: datetime | None = None,
    ) -> None:
        self.cfg = cfg
        self.controller = Controller(cfg, reminders_enabled)
        self.output = OutputStage(cfg.ring.pixels, budget_from(cfg))
        self.schedule = schedule_from(cfg)
        #: The slot of the last pulse shown (or skipped because a session ran).
        self.last_pulse = last_pulse

    def reconfigure(self, cfg: Config) -> None:
        schedule = schedule_from(cfg)
        if cfg.ring.pixels != self.cfg.ring.pixels:
            self.output = OutputStage(cfg.ring.pixels, budget_from(cfg))
        else:
            self.output.budget = budget_from(cfg)
        self.controller.reconfigure(cfg)
        self.schedule = schedule
        self.cfg = cfg

    def check_reminder(self, now: Now, synced: bool) -> bool:
        """Start the hourly pulse if one is due; True if `last_pulse` changed."""
        if not self.controller.reminders_enabled:
            return False
        slot = self.schedule.due(now.wall, self.last_pulse, synced)
        if slot is None:
            return False
        # A slot that falls inside a session is used up, not shown afterwards.
        self.controller.start_pulse(now)
        self.last_pulse = slot
        return True

    def seconds_to_next_check(self, now: Now) -> float:
        """How long the idle loop may sleep before it must look at the schedule."""
        if not self.controller.reminders_enabled:
            return WALL_RECHECK_S
        deadline = self.schedule.next_deadline(now.wall, self.last_pulse)
        wait = (deadline - now.wall).total_seconds()
        return min(max(wait, 0.0), WALL_RECHECK_S)

    @property
    def active(self) -> bool:
        """True while frames must be sent at the frame rate."""
        return self.controller.active

    @property
    def frame_interval(self) -> float:
        return 1.0 / self.cfg.ring.fps

    def gesture(self, gesture: str, now: Now, held: bool = False) -> None:
        """A gesture; `held`: a press whose button is still down (see Controller.handle)."""
        self.controller.handle(gesture, now, held)

    def release(self, now: Now) -> None:
        """The button came up (see Controller.release)."""
        self.controller.release(now)

    def render(self, now: Now) -> Rendered:
        """The frame for `now`: controller tick, then the output stage."""
        tick = self.controller.tick(now)
        wire = self.output.render(tick.frame)
        return Rendered(tick, wire, self.output.budget.estimate(wire, self.cfg.ring.pixels))
