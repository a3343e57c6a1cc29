"""Button edges -> gestures ("press", "double", "hold"); pure, no time source.

The decoder is fed timestamped edges (`ButtonEvent`, monotonic seconds) and
polled with the current monotonic time; it never reads a clock itself.

Rules (timings are the constructor arguments):

- **press** is delivered at once, on the "down" edge: a session must start
  within a frame of the press, not after a double-press window has expired.
- **double**: a second "down" within `double_seconds` of the first down
  (measured down to down) upgrades the press; the controller receives
  "press" then "double" and switches to the long session.
- **hold**: a "down" kept for `hold_seconds` emits "hold" exactly once: from
  `poll()` once the deadline has passed, or from a late "up" when nobody
  polled in time. The release that ends a hold emits nothing.
- **triple press**: after a "double" the next down is a new "press" (and a
  fourth one within the window a new "double"): every gesture is delivered
  at once and nothing is held back waiting for more presses.
- A "hold" also ends the double window: a press that became a hold is never
  upgraded to "double" by the next down.
- **bounce**: a "down" within `bounce_seconds` of the previous accepted "up"
  is contact chatter: the release was not real, the press goes on (its
  hold deadline too) and nothing is emitted. gpiozero debounces as well;
  this is defence in depth, and it also keeps a chattering release from
  turning a hold into two presses.
- A "down" while already down, and an "up" while already up, are ignored.
- Timestamps that go backwards are treated as equal to the latest seen.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PRESS = "press"
DOUBLE = "double"
HOLD = "hold"
GESTURES = (PRESS, DOUBLE, HOLD)

DOWN = "down"
UP = "up"
EDGE_KINDS = (DOWN, UP)

DEFAULT_HOLD_SECONDS = 2.0
DEFAULT_DOUBLE_SECONDS = 0.4
DEFAULT_BOUNCE_SECONDS = 0.03


@dataclass(frozen=True)
class ButtonEvent:
    """One edge of the button: "down" (pressed) or "up" (released) at `mono`."""

    kind: Literal["down", "up"]
    mono: float

    def __post_init__(self) -> None:
        if self.kind not in EDGE_KINDS:
            raise ValueError(f"button event kind {self.kind!r} is not one of 'down', 'up'")


class GestureDecoder:
    """Turns button edges into gestures; see the module docstring for the rules."""

    def __init__(
        self,
        hold_seconds: float = DEFAULT_HOLD_SECONDS,
        double_seconds: float = DEFAULT_DOUBLE_SECONDS,
        bounce_seconds: float = DEFAULT_BOUNCE_SECONDS,
    ) -> None:
        if hold_seconds <= 0:
            raise ValueError(f"hold_seconds = {hold_seconds} must be > 0")
        if double_seconds < 0:
            raise ValueError(f"double_seconds = {double_seconds} must be >= 0")
        if bounce_seconds < 0:
            raise ValueError(f"bounce_seconds = {bounce_seconds} must be >= 0")
        self.hold_seconds = hold_seconds
        self.double_seconds = double_seconds
        self.bounce_seconds = bounce_seconds
        self._latest = float("-inf")  # latest timestamp seen (edges and polls)
        self._pressed = False
        self._down_at = 0.0  # when the current press began
        self._held = False  # "hold" already emitted for the current press
        self._up_at: float | None = None  # last accepted release
        self._double_from: float | None = None  # down of a press that may become double

    @property
    def pressed(self) -> bool:
        """Whether the decoder believes the button is down now."""
        return self._pressed

    def _stamp(self, mono: float) -> float:
        self._latest = max(self._latest, mono)
        return self._latest

    def feed(self, event: ButtonEvent) -> list[str]:
        """Take one edge; return the gestures it completes (often none)."""
        t = self._stamp(event.mono)
        if event.kind == DOWN:
            return self._down(t)
        return self._up(t)

    def _down(self, t: float) -> list[str]:
        if self._pressed:
            return []
        if self._up_at is not None and t - self._up_at < self.bounce_seconds:
            # Chatter: the release just before was not real; the press goes on.
            self._pressed = True
            self._up_at = None
            return []
        self._pressed = True
        self._down_at = t
        self._held = False
        self._up_at = None
        if self._double_from is not None and t - self._double_from <= self.double_seconds:
            self._double_from = None
            return [DOUBLE]
        self._double_from = t
        return [PRESS]

    def _up(self, t: float) -> list[str]:
        if not self._pressed:
            return []
        out = self._hold_due(t)
        self._pressed = False
        self._up_at = t
        return out

    def _hold_due(self, t: float) -> list[str]:
        # Same sum as next_deadline(), so poll(next_deadline()) always reports the hold.
        if self._pressed and not self._held and t >= self._down_at + self.hold_seconds:
            self._held = True
            self._double_from = None
            return [HOLD]
        return []

    def poll(self, mono: float) -> list[str]:
        """Report gestures due by `mono` without an edge (a hold whose time came)."""
        return self._hold_due(self._stamp(mono))

    def next_deadline(self) -> float | None:
        """The monotonic time at which `poll` will next have something, or None."""
        if self._pressed and not self._held:
            return self._down_at + self.hold_seconds
        return None
