"""Float frame -> the exact 8-bit values sent on the wire. Pure, stateful per pixel.

Steps, in order:

1. perceptual intensity -> linear light with the CIE 1976 lightness curve,
   which has a linear toe near black (no infinite slope, no crushed darks);
2. times each pixel's coverage and the colour multipliers (brightness cap
   folded in, linear like Adafruit's brightness), in 0..255 floats;
3. power limiter: the estimated current, *including* the worst case the
   dithering can add, is kept under `max_milliamps`; the whole frame is scaled
   evenly, with a soft knee instead of a hard clip. The scale is set by what
   the *full* ring would draw in the frame's colour, not by this frame alone:
   a frame is never more than the full ring, so it always fits, and since the
   scale stays the same while the arc grows and shrinks, the breath keeps its
   shape (no plateau with a corner where a per-frame limiter would cut in);
4. temporal dithering: each channel of each pixel carries its rounding
   residual to the next frame and only ever shows one of the two 8-bit values
   next to its target. The residuals start spread out (a golden-ratio
   sequence) so pixels and channels round up at different frames and the
   ring's total light stays steady; over time every channel averages its exact
   target, so the hue stays the configured colour even at 2 % brightness.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from itertools import compress
from math import floor

from .scene import Frame

WIRE_MAX = 255
#: CIE 1976 L*: below this lightness (out of 100) the curve is linear.
CIE_TOE_LIGHTNESS = 8.0
CIE_KAPPA = 903.3
#: The ring's current budget, the current of one channel at full (255), and
#: the idle draw per pixel, in mA (the defaults of ring.max_milliamps,
#: ring.milliamps_per_channel and ring.idle_milliamps).
DEFAULT_MAX_MA = 400.0
DEFAULT_MA_PER_CHANNEL = 20.0
DEFAULT_IDLE_MA = 1.0
#: Colour channels of one pixel.
RGB_CHANNELS = 3
#: The limiter starts to compress at this share of the budget.
POWER_KNEE = 0.8
#: The ring-wide residual of a channel is kept within this many steps.
MAX_CARRY = 1.0
#: Golden-ratio conjugate: spreads the initial dithering residuals evenly.
_GOLDEN = 0.6180339887498949


def lightness_to_linear(intensity: float) -> float:
    """Perceptual intensity 0..1 (CIE L*/100) -> linear light 0..1."""
    intensity = 0.0 if intensity < 0.0 else intensity  # min(max(x, 0.0), 1.0), written out
    lightness = (1.0 if intensity > 1.0 else intensity) * 100.0
    if lightness <= CIE_TOE_LIGHTNESS:
        return lightness / CIE_KAPPA
    return ((lightness + 16.0) / 116.0) ** 3


@dataclass(frozen=True)
class PowerBudget:
    """How the ring's current is estimated and how much it may draw."""

    max_milliamps: float = DEFAULT_MAX_MA
    ma_per_channel: float = DEFAULT_MA_PER_CHANNEL
    idle_ma: float = DEFAULT_IDLE_MA

    def estimate(self, wire: bytes | bytearray, pixels: int) -> float:
        """Estimated current (mA) of a wire frame of `pixels` RGB pixels."""
        return sum(wire) * self.ma_per_channel / WIRE_MAX + pixels * self.idle_ma

    def dither_allowance(self, pixels: int, lit_channels: int = RGB_CHANNELS) -> float:
        """The most the dithering can add (mA): under one step on each lit channel of each pixel."""
        return pixels * lit_channels * (self.ma_per_channel / WIRE_MAX)

    def usable_milliamps(self, pixels: int, lit_channels: int = RGB_CHANNELS) -> float:
        """What the light itself may draw: the budget less the idle draw and the dithering.

        The one rule for both the output stage and the config check: at or below
        zero the ring can never light (`lit_channels`: colour channels in use per pixel).
        """
        idle = pixels * self.idle_ma
        return self.max_milliamps - idle - self.dither_allowance(pixels, lit_channels)


def soft_knee(demand: float, budget: float, knee: float = POWER_KNEE) -> float:
    """Compress `demand` so it never reaches `budget`, smoothly (C1) past the knee."""
    if budget <= 0.0:
        return 0.0
    start = knee * budget
    if demand <= start:
        return demand
    room = budget - start
    return start + room * (1.0 - math.exp(-(demand - start) / room))


class OutputStage:
    """Turns frames into wire bytes for one ring; keeps the dithering residuals."""

    def __init__(self, pixels: int, budget: PowerBudget | None = None) -> None:
        self.pixels = pixels
        self.budget = budget or PowerBudget()
        self._channels = pixels * 3
        # Each channel of each pixel: the light it still owes (residual), spread
        # at the start by the golden ratio so that pixels do not round in step.
        self._residual = [
            [((3 * i + c) * _GOLDEN) % 1.0 - 0.5 for i in range(pixels)] for c in range(3)
        ]
        # Each channel of the whole ring: the light the frame totals still owe.
        self._carry = [0.0, 0.0, 0.0]
        self._wire = bytearray(self._channels)
        self._dark = bytes(self._channels)
        self._indices = range(pixels)
        self._scale_for: tuple[tuple[float, float, float], PowerBudget, float] | None = None

    def render(self, frame: Frame) -> bytes:
        """The exact RGB wire values for `frame` (pixel 0 first)."""
        coverage = frame.coverage
        if len(coverage) != self.pixels:
            raise ValueError(f"frame has {len(coverage)} pixels, ring has {self.pixels}")
        scale = self.power_scale(frame.color)
        light = lightness_to_linear(frame.intensity) * WIRE_MAX
        r, g, b = frame.color
        r, g, b = r * light, g * light, b * light
        r, g, b = r * scale, g * scale, b * scale
        # min(x, WIRE_MAX), written out (a builtin call costs more than the whole test)
        r = WIRE_MAX if r > WIRE_MAX else r
        g = WIRE_MAX if g > WIRE_MAX else g
        b = WIRE_MAX if b > WIRE_MAX else b
        # A dark pixel (coverage 0) sends 0 and owes nothing: only the lit ones are worked on.
        wire = self._wire
        wire[:] = self._dark
        lit = list(compress(self._indices, coverage))
        if lit:
            shares = list(compress(coverage, coverage))
            self._dither_channel(0, r, lit, shares)
            self._dither_channel(1, g, lit, shares)
            self._dither_channel(2, b, lit, shares)
        return bytes(wire)

    def _dither_channel(
        self, channel: int, level: float, lit: list[int], shares: list[float]
    ) -> None:
        """Quantise one channel of the lit pixels (`level` x their share) to floor or ceil.

        The number of pixels that round up is chosen so the channel's total
        over the ring tracks its exact target from frame to frame (its own
        residual carried); which pixels round up goes by the light each pixel
        still owes, so each pixel also averages its own target over time.
        """
        if not level:
            return  # every target is 0: nothing owed, the carry stays as it is
        residual = self._residual[channel]
        wire = self._wire
        # Only pixels with a fraction take part (most are dark or full); one pass writes
        # the whole steps and collects them and the light they owe, in pixel order (the
        # sum's order is part of the result).
        owed_total = self._carry[channel]
        where: list[int] = []
        owed: list[float] = []
        for i, share in zip(lit, shares, strict=True):
            target = share * level
            base = floor(target)
            wire[3 * i + channel] = base
            frac = target - base
            if frac > 0.0:
                where.append(i)
                owed.append(frac)
                owed_total += frac
        count = len(where)
        ups = floor(owed_total + 0.5)
        ups = 0 if ups < 0 else count if ups > count else ups
        carry = owed_total - ups
        self._carry[channel] = -MAX_CARRY if carry < -MAX_CARRY else min(carry, MAX_CARRY)
        if ups == 0:
            for i, frac in zip(where, owed, strict=True):
                residual[i] += frac
            return
        if ups == count:
            ranked: list[int] | range = range(count)
        else:
            # Most owed first; a stable sort keeps pixel order among equals.
            keys = [residual[i] + frac for i, frac in zip(where, owed, strict=True)]
            ranked = sorted(range(count), key=keys.__getitem__, reverse=True)
        for k in ranked[:ups]:
            i = where[k]
            wire[3 * i + channel] += 1
            residual[i] += owed[k] - 1.0
        for k in ranked[ups:]:
            residual[where[k]] += owed[k]

    def power_scale(self, color: tuple[float, float, float]) -> float:
        """The even scale that keeps any frame of `color` under budget, dithered.

        Worked out for the full ring at full intensity, the most a frame of this
        colour can ask for; cached, since the colour changes only between
        activities.
        """
        cached = self._scale_for
        if cached is not None and cached[0] == color and cached[1] is self.budget:
            return cached[2]
        per_unit = self.budget.ma_per_channel / WIRE_MAX
        demand = self.pixels * sum(color) * WIRE_MAX * per_unit
        lit_channels = sum(1 for c in color if c > 0.0)
        budget = self.budget.usable_milliamps(self.pixels, lit_channels)
        if budget <= 0.0:
            scale = 0.0
        elif demand <= 0.0:
            scale = 1.0
        else:
            allowed = soft_knee(demand, budget)
            scale = allowed / demand if demand > allowed else 1.0
        self._scale_for = (color, self.budget, scale)
        return scale
