"""`breathring render`: one session as a picture, drawn with pygame (no display).

Top: the ring at key moments of the first breath. Bottom: the total light
sent to the ring over the whole session, with the phases shaded and the cues
marked. The frames are exactly those `simulate` produces.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any, BinaryIO

from .config import Config
from .hw.terminal import linear_to_srgb8
from .palette import AXIS, DIM_TEXT, TEXT
from .simulate import SimOptions, simulate

WIDTH, HEIGHT = 1200, 640
BACKGROUND = (18, 20, 26)
CURVE = (255, 255, 255)
PHASE_SHADES = {
    "lead-in": (40, 44, 60),
    "inhale": (34, 70, 90),
    "hold-in": (60, 60, 90),
    "exhale": (70, 50, 80),
    "hold-out": (50, 50, 70),
    "closing": (40, 44, 60),
}
RING_ROW_TOP = 70
RING_RADIUS = 62
LED_RADIUS = 7
PLOT_TOP, PLOT_BOTTOM = 300, 580
PLOT_LEFT, PLOT_RIGHT = 80, 1160
FONT_SIZE = 22
TITLE_SIZE = 30
#: Moments of the first breath shown as rings, as (label, phase, share of that phase).
MOMENTS = (
    ("lead-in", "lead-in", 0.6),
    ("breathe in", "inhale", 0.35),
    ("breathe in", "inhale", 0.7),
    ("full", "inhale", 0.999),
    ("breathe out", "exhale", 0.4),
    ("breathe out", "exhale", 0.8),
    ("closing", "closing", 0.5),
)


#: Tick spacings the time axis may use, in seconds; the smallest that gives at
#: most MAX_TICKS ticks is chosen.
TICK_STEPS_S = (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600)
MAX_TICKS = 12
#: A round tick closer than this share of a step to the end label is left out.
TICK_END_GAP = 0.4
#: Simulate at most this long while waiting for the session to end (a session
#: of 100 breaths of the longest custom pattern fits easily).
SESSION_LIMIT_S = 24 * 3600.0


@dataclass
class Picture:
    """The drawn picture, with what its time axis shows."""

    surface: Any  # pygame.Surface
    end: float  # seconds at the right end of the time axis: the session's end
    tick_labels: list[str]


def session_frames(cfg: Config) -> list:
    """The frames of one session from a press at t = 0 until the ring is dark again.

    Only the session: the hourly pulses that follow it are not part of it.
    """
    frames = []
    for t, rendered in simulate(cfg, SimOptions(seconds=SESSION_LIMIT_S, presses=[0.0])):
        frames.append((t, rendered))
        if rendered.tick.phase == "idle":
            break
    return frames


def plot_ticks(end: float) -> list[float]:
    """Round tick times from 0 to `end` (few enough to read), with `end` itself last."""
    step = next((s for s in TICK_STEPS_S if end / s <= MAX_TICKS - 1), TICK_STEPS_S[-1])
    ticks: list[float] = []
    k = 0
    while k * step <= end - TICK_END_GAP * step:
        ticks.append(k * step)
        k += 1
    return [*ticks, end]


def _label(seconds: float) -> str:
    return f"{seconds:.1f}".removesuffix(".0")


def render_surface(cfg: Config) -> Picture:
    """Draw the default session of `cfg`."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.font.init()
    frames = session_frames(cfg)
    surface = pygame.Surface((WIDTH, HEIGHT))
    surface.fill(BACKGROUND)
    font = pygame.font.Font(None, FONT_SIZE)
    title_font = pygame.font.Font(None, TITLE_SIZE)
    pattern = cfg.session.pattern
    title = f"breathring: one session, pattern {pattern}, {cfg.ring.pixels} pixels"
    surface.blit(title_font.render(title, True, TEXT), (PLOT_LEFT, 20))

    _draw_rings(surface, font, frames, cfg.ring.pixels, cfg.ring.start_pixel)
    end, labels = _draw_plot(surface, font, frames)
    return Picture(surface, end, labels)


def render_png(cfg: Config, out: str | os.PathLike[str] | BinaryIO) -> None:
    """Draw the default session of `cfg` into a PNG file (a path or a binary file)."""
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    surface = render_surface(cfg).surface
    if isinstance(out, str | os.PathLike):
        with open(out, "wb") as file:
            pygame.image.save(surface, file, "session.png")
    else:
        pygame.image.save(surface, out, "session.png")


def _moment_frame(frames, phase: str, share: float):
    matching = [
        (t, r)
        for t, r in frames
        if r.tick.phase == phase and (r.tick.breath <= 1 or phase == "closing")
    ]
    if not matching:
        return None
    return matching[min(len(matching) - 1, int(share * len(matching)))]


def _draw_rings(surface, font, frames, pixels: int, start_pixel: int) -> None:
    import math

    import pygame

    slots = len(MOMENTS)
    step = (PLOT_RIGHT - PLOT_LEFT) / slots
    for k, (label, phase, share) in enumerate(MOMENTS):
        found = _moment_frame(frames, phase, share)
        if found is None:
            continue
        t, rendered = found
        cx = int(PLOT_LEFT + step * (k + 0.5))
        cy = RING_ROW_TOP + RING_RADIUS + 20
        radius = min(RING_RADIUS, int(step / 2) - LED_RADIUS - 4)
        for i in range(pixels):
            angle = 2 * math.pi * ((i - start_pixel) % pixels) / pixels
            x = cx - radius * math.sin(angle)
            y = cy + radius * math.cos(angle)
            rgb = tuple(linear_to_srgb8(v) for v in rendered.wire[3 * i : 3 * i + 3])
            pygame.draw.circle(surface, (40, 42, 50), (int(x), int(y)), LED_RADIUS)
            if any(rgb):
                pygame.draw.circle(surface, rgb, (int(x), int(y)), LED_RADIUS - 1)
        text = font.render(f"{label}  {t:.1f} s", True, DIM_TEXT)
        surface.blit(text, (cx - text.get_width() // 2, cy + radius + 16))


def _draw_plot(surface, font, frames) -> tuple[float, list[str]]:
    """Draw the light over time; returns the axis end and the tick labels drawn."""
    import pygame

    if not frames:
        return 0.0, []
    end = frames[-1][0] or 1.0
    totals = [sum(r.wire) for _, r in frames]
    peak = max(totals) or 1

    def x_of(t: float) -> float:
        return PLOT_LEFT + (PLOT_RIGHT - PLOT_LEFT) * t / end

    def y_of(v: float) -> float:
        return PLOT_BOTTOM - (PLOT_BOTTOM - PLOT_TOP) * v / peak

    # Shade each phase and name it.
    start_t, phase = frames[0][0], frames[0][1].tick.phase
    spans = []
    for t, r in frames[1:]:
        if r.tick.phase != phase:
            spans.append((start_t, t, phase))
            start_t, phase = t, r.tick.phase
    spans.append((start_t, end, phase))
    for t0, t1, name in spans:
        shade = PHASE_SHADES.get(name)
        if shade is None:
            continue
        rect = pygame.Rect(
            int(x_of(t0)), PLOT_TOP, max(1, int(x_of(t1) - x_of(t0))), PLOT_BOTTOM - PLOT_TOP
        )
        pygame.draw.rect(surface, shade, rect)
        label = font.render(name, True, DIM_TEXT)
        if label.get_width() < rect.width - 4:
            surface.blit(label, (rect.x + 3, PLOT_TOP + 4))
    # Cues as ticks along the top.
    for t, r in frames:
        for cue in r.tick.cues:
            x = int(x_of(t))
            pygame.draw.line(surface, AXIS, (x, PLOT_TOP - 10), (x, PLOT_TOP), 2)
            _ = cue
    points = [(x_of(t), y_of(v)) for (t, _), v in zip(frames, totals, strict=True)]
    if len(points) > 1:
        pygame.draw.aalines(surface, CURVE, False, points)
    pygame.draw.line(surface, AXIS, (PLOT_LEFT, PLOT_BOTTOM), (PLOT_RIGHT, PLOT_BOTTOM))
    pygame.draw.line(surface, AXIS, (PLOT_LEFT, PLOT_TOP), (PLOT_LEFT, PLOT_BOTTOM))
    labels = []
    for second in plot_ticks(end):
        x = round(x_of(second))
        pygame.draw.line(surface, AXIS, (x, PLOT_BOTTOM), (x, PLOT_BOTTOM + 5))
        labels.append(_label(second))
        label = font.render(labels[-1], True, DIM_TEXT)
        surface.blit(label, (x - label.get_width() // 2, PLOT_BOTTOM + 8))
    caption = font.render(
        "total light on the wire (sum of all values) over time, s", True, DIM_TEXT
    )
    surface.blit(caption, (PLOT_LEFT, PLOT_BOTTOM + 32))
    return end, labels
