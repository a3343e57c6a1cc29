"""The device without its hardware: controller + output stage + schedules. Pure.

Both the service (real clock, real or mock hardware) and `simulate` (virtual
time) drive an Engine, so what `simulate` prints is exactly what the service
would send to the ring.
"""

from __future__ import annotations

from dataclasses import dataclass

from .clock import Now
from .config import Config
from .controller import Controller, Tick
from .output import OutputStage, PowerBudget


@dataclass
class Rendered:
    """One frame ready for the ring."""

    tick: Tick
    wire: bytes  # RGB, pixel 0 first
    milliamps: float


def budget_from(cfg: Config) -> PowerBudget:
    ring = cfg.ring
    return PowerBudget(ring.max_milliamps, ring.milliamps_per_channel, ring.idle_milliamps)


class Engine:
    """Gestures and time in, wire frames and cues out."""

    def __init__(self, cfg: Config, reminders_enabled: bool | None = None) -> None:
        self.cfg = cfg
        self.controller = Controller(cfg, reminders_enabled)
        self.output = OutputStage(cfg.ring.pixels, budget_from(cfg))

    def reconfigure(self, cfg: Config) -> None:
        if cfg.ring.pixels != self.cfg.ring.pixels:
            self.output = OutputStage(cfg.ring.pixels, budget_from(cfg))
        else:
            self.output.budget = budget_from(cfg)
        self.controller.reconfigure(cfg)
        self.cfg = cfg

    @property
    def active(self) -> bool:
        """True while frames must be sent at the frame rate."""
        return self.controller.active

    @property
    def frame_interval(self) -> float:
        return 1.0 / self.cfg.ring.fps

    def gesture(self, gesture: str, now: Now) -> None:
        self.controller.handle(gesture, now)

    def render(self, now: Now) -> Rendered:
        """The frame for `now`: controller tick, then the output stage."""
        tick = self.controller.tick(now)
        wire = self.output.render(tick.frame)
        return Rendered(tick, wire, self.output.budget.estimate(wire, self.cfg.ring.pixels))
