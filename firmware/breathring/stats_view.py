"""The history for people: a text summary with a bar chart, and the same chart as a PNG.

Both take the object `History.stats()` returns (the `stats --json` shape in
DESIGN.md). The text fits in 80 columns, one row per day, with Unicode block
bars in eighths, or `#` bars when the terminal's encoding cannot show blocks.
The picture is drawn with pygame on a surface (no display needed).
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from .palette import AXIS, DIM_TEXT, TEXT

#: Unicode eighths of a block, from one eighth to a full block.
EIGHTHS = "▏▎▍▌▋▊▉█"
ASCII_FULL = "#"
ASCII_HALF = "+"
BAR_WIDTH = 40
WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")

# -- the picture --------------------------------------------------------------------------
WIDTH, HEIGHT = 960, 540
BACKGROUND = (16, 18, 24)
GRID = (44, 48, 60)
MINUTES_COLOUR = (255, 140, 50)
SESSIONS_COLOUR = (90, 150, 220)
PLOT_LEFT, PLOT_RIGHT = 80, 880
PLOT_TOP, PLOT_BOTTOM = 100, 460
TITLE_Y, SUBTITLE_Y = 18, 56
X_LABEL_Y = PLOT_BOTTOM + 10
LEGEND_Y = 505
TITLE_SIZE, FONT_SIZE = 34, 22
GRID_LINES = 4
MAX_X_LABELS = 14
#: Share of a day's slot each of its two bars takes.
BAR_SHARE = 0.36
TICK_GAP = 8
SWATCH = 14


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def can_draw_blocks(encoding: str | None) -> bool:
    """True if text in `encoding` can carry the Unicode block bars (None: assume UTF-8)."""
    if encoding is None:
        return True
    try:
        EIGHTHS.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        return False
    return True


def text_bar(value: float, largest: float, width: int = BAR_WIDTH, blocks: bool = True) -> str:
    """`value` as a bar of at most `width` characters; any value above 0 shows something."""
    if value <= 0 or largest <= 0:
        return ""
    if blocks:
        eighths = max(1, round(value / largest * width * len(EIGHTHS)))
        full, part = divmod(eighths, len(EIGHTHS))
        return EIGHTHS[-1] * full + (EIGHTHS[part - 1] if part else "")
    halves = max(1, round(value / largest * width * 2))
    full, half = divmod(halves, 2)
    return ASCII_FULL * full + (ASCII_HALF if half else "")


def _day_label(iso: str) -> str:
    day = date.fromisoformat(iso)
    return f"{WEEKDAYS[day.weekday()]} {day:%m-%d}"


def _rate_text(per_min: float | None) -> str:
    return "-" if per_min is None else f"{per_min:.1f}"


def summary_lines(stats: dict[str, Any]) -> list[str]:
    """Today, the streak and the pulses, one line each; the last measured breathing rates."""
    today = stats["today"]
    days = len(stats["days"])
    pulses = stats["pulses"]
    rated = stats.get("breath_rates") or []
    rates = []
    if rated:
        last = rated[-1]
        rates.append(
            f"Breathing, last measured session ({last['started'][:16].replace('T', ' ')},"
            f" {last['pattern']}): {_rate_text(last['rate_start'])} ->"
            f" {_rate_text(last['rate_end'])} breaths/min"
        )
    return [
        f"Today {today['date']}: {_plural(today['sessions'], 'session')}"
        f" ({today['completed']} completed), {_plural(today['breaths'], 'breath')},"
        f" {today['minutes']:.1f} min",
        f"Streak: {_plural(stats['streak_days'], 'day')}",
        f"Pulses in the last {_plural(days, 'day')}: {pulses['shown']} shown,"
        f" {pulses['answered']} answered",
        *rates,
    ]


def format_stats(stats: dict[str, Any], encoding: str | None = None) -> str:
    """The summary and a bar chart of minutes per day, oldest first (fits 80 columns).

    `encoding` is the output's (e.g. `sys.stdout.encoding`); blocks fall back to
    ASCII when it cannot encode them.
    """
    blocks = can_draw_blocks(encoding)
    days: Sequence[dict[str, Any]] = stats["days"]
    largest = max((d["minutes"] for d in days), default=0.0)
    lines = [*summary_lines(stats), ""]
    lines.append(f"{'day':<9}  {'minutes':<{BAR_WIDTH}}  {'min':>5}  {'sessions':>8}")
    for d in days:
        bar = text_bar(d["minutes"], largest, BAR_WIDTH, blocks)
        lines.append(
            f"{_day_label(d['date'])}  {bar:<{BAR_WIDTH}}  {d['minutes']:5.1f}  {d['sessions']:>8}"
        )
    return "\n".join(lines) + "\n"


def _bar_height(value: float, largest: float) -> int:
    if value <= 0 or largest <= 0:
        return 0
    return max(1, round(value / largest * (PLOT_BOTTOM - PLOT_TOP)))


def _minutes_top(days: Sequence[dict[str, Any]]) -> float:
    """The minutes axis ends at the largest day, so that day's bar fills the plot."""
    return max((d["minutes"] for d in days), default=0.0) or 1.0


def _sessions_top(days: Sequence[dict[str, Any]]) -> int:
    """The sessions axis ends at a multiple of the grid lines, so every tick is whole."""
    largest = max((d["sessions"] for d in days), default=0)
    return max(1, math.ceil(largest / GRID_LINES)) * GRID_LINES


def render_stats_png(stats: dict[str, Any], path: str | os.PathLike[str]) -> None:
    """Draw minutes and sessions per day as a PNG at `path` (OSError naming it if it fails)."""
    os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
    os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")
    import pygame

    pygame.font.init()
    surface = pygame.Surface((WIDTH, HEIGHT))
    surface.fill(BACKGROUND)
    title_font = pygame.font.Font(None, TITLE_SIZE)
    font = pygame.font.Font(None, FONT_SIZE)
    days: Sequence[dict[str, Any]] = stats["days"]
    streak = stats["streak_days"]
    title = f"breathring: the last {_plural(len(days), 'day')}, streak {_plural(streak, 'day')}"
    surface.blit(title_font.render(title, True, TEXT), (PLOT_LEFT, TITLE_Y))
    surface.blit(font.render(summary_lines(stats)[0], True, DIM_TEXT), (PLOT_LEFT, SUBTITLE_Y))

    top_minutes, top_sessions = _minutes_top(days), _sessions_top(days)
    _draw_grid(pygame, surface, font, top_minutes, top_sessions)
    _draw_bars(pygame, surface, font, days, top_minutes, top_sessions)
    _draw_legend(pygame, surface, font)

    buffer = io.BytesIO()
    pygame.image.save(surface, buffer, "stats.png")
    Path(path).write_bytes(buffer.getvalue())


def _draw_grid(pygame: Any, surface: Any, font: Any, top_minutes: float, top_sessions: int) -> None:
    height = PLOT_BOTTOM - PLOT_TOP
    for k in range(GRID_LINES + 1):
        y = PLOT_BOTTOM - round(k / GRID_LINES * height)
        if k:
            pygame.draw.line(surface, GRID, (PLOT_LEFT, y), (PLOT_RIGHT, y))
        minutes = font.render(f"{top_minutes * k / GRID_LINES:.1f}", True, MINUTES_COLOUR)
        surface.blit(minutes, (PLOT_LEFT - TICK_GAP - minutes.get_width(), y - 8))
        sessions = font.render(f"{top_sessions * k // GRID_LINES}", True, SESSIONS_COLOUR)
        surface.blit(sessions, (PLOT_RIGHT + TICK_GAP, y - 8))
    pygame.draw.line(surface, AXIS, (PLOT_LEFT, PLOT_BOTTOM), (PLOT_RIGHT, PLOT_BOTTOM))


def _draw_bars(
    pygame: Any,
    surface: Any,
    font: Any,
    days: Sequence[dict[str, Any]],
    top_minutes: float,
    top_sessions: float,
) -> None:
    if not days:
        return
    slot = (PLOT_RIGHT - PLOT_LEFT) / len(days)
    bar = max(1, int(slot * BAR_SHARE))
    label_every = math.ceil(len(days) / MAX_X_LABELS)
    for i, d in enumerate(days):
        centre = PLOT_LEFT + (i + 0.5) * slot
        for value, top, colour, left in (
            (d["minutes"], top_minutes, MINUTES_COLOUR, round(centre) - bar),
            (d["sessions"], top_sessions, SESSIONS_COLOUR, round(centre)),
        ):
            height = _bar_height(value, top)
            if height:
                rect = pygame.Rect(left, PLOT_BOTTOM - height, bar, height)
                pygame.draw.rect(surface, colour, rect)
        last = i == len(days) - 1
        if (len(days) - 1 - i) % label_every == 0 or last:
            text = "today" if last else d["date"][5:]
            label = font.render(text, True, DIM_TEXT)
            surface.blit(label, (round(centre - label.get_width() / 2), X_LABEL_Y))


def _draw_legend(pygame: Any, surface: Any, font: Any) -> None:
    x = PLOT_LEFT
    for name, colour in (
        ("minutes (left axis)", MINUTES_COLOUR),
        ("sessions (right axis)", SESSIONS_COLOUR),
    ):
        pygame.draw.rect(surface, colour, pygame.Rect(x, LEGEND_Y, SWATCH, SWATCH))
        label = font.render(name, True, DIM_TEXT)
        surface.blit(label, (x + SWATCH + TICK_GAP, LEGEND_Y))
        x += SWATCH + TICK_GAP + label.get_width() + 3 * TICK_GAP
