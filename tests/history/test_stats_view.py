"""The stats for people: the text summary and chart, and what the PNG shows."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pygame
import pytest

from breathring.stats_view import format_stats, render_stats_png

FULL = "█"
MINUTES_RGB = (255, 140, 50)
SESSIONS_RGB = (90, 150, 220)
# The picture's plot area as drawn: x 80..880, bars standing on y = 460, 360 px tall.
PLOT_X0, PLOT_X1 = 80, 880
PLOT_BOTTOM_ROW = 459
PLOT_HEIGHT = 360
SCAN_Y0, SCAN_Y1 = 90, 466


def make_stats(rows: list[tuple[float, int]], end: date = date(2026, 6, 15), **extra) -> dict:
    """Stats whose days are (minutes, sessions), oldest first, ending `end`."""
    first = end - timedelta(days=len(rows) - 1)
    days = [
        {
            "date": (first + timedelta(days=i)).isoformat(),
            "sessions": sessions,
            "completed": sessions,
            "breaths": 3 * sessions,
            "minutes": minutes,
        }
        for i, (minutes, sessions) in enumerate(rows)
    ]
    return {
        "today": dict(days[-1]),
        "streak_days": extra.get("streak", 0),
        "days": days,
        "pulses": extra.get("pulses", {"shown": 0, "answered": 0}),
    }


# -- text ----------------------------------------------------------------------------------


def test_text_is_written_out_exactly() -> None:
    stats = make_stats([(2.0, 1), (0.0, 0), (4.0, 2)], streak=1, pulses={"shown": 5, "answered": 2})
    stats["today"]["completed"] = 1
    expected = (
        "Today 2026-06-15: 2 sessions (1 completed), 6 breaths, 4.0 min\n"
        "Streak: 1 day\n"
        "Pulses in the last 3 days: 5 shown, 2 answered\n"
        "\n"
        "day        minutes" + " " * 33 + "    min  sessions\n"
        "Sat 06-13  " + FULL * 20 + " " * 20 + "    2.0         1\n"
        "Sun 06-14  " + " " * 40 + "    0.0         0\n"
        "Mon 06-15  " + FULL * 40 + "    4.0         2\n"
    )
    assert format_stats(stats, "utf-8") == expected


def test_the_last_measured_breathing_rates_have_a_line() -> None:
    stats = make_stats([(5.0, 1)])
    stats["breath_rates"] = [
        {
            "started": "2026-06-15T08:00:00+02:00",
            "pattern": "coherent",
            "outcome": "completed",
            "rate_start": 12.0,
            "rate_end": None,
        },
        {
            "started": "2026-06-15T21:30:00+02:00",
            "pattern": "follow",
            "outcome": "stopped",
            "rate_start": 14.0,
            "rate_end": 6.5,
        },
    ]
    lines = format_stats(stats, "utf-8").splitlines()
    assert lines[3] == (
        "Breathing, last measured session (2026-06-15 21:30, follow): 14.0 -> 6.5 breaths/min"
    )
    stats["breath_rates"] = stats["breath_rates"][:1]
    assert format_stats(stats, "utf-8").splitlines()[3] == (
        "Breathing, last measured session (2026-06-15 08:00, coherent): 12.0 -> - breaths/min"
    )
    stats["breath_rates"] = []
    assert format_stats(stats, "utf-8").splitlines()[3] == ""


def test_fourteen_days_fit_in_80_columns() -> None:
    rows = [(float(i % 5), i % 3) for i in range(14)]
    text = format_stats(make_stats(rows, streak=12), "utf-8")
    lines = text.splitlines()
    assert len(lines) == 3 + 1 + 1 + 14
    assert max(len(line) for line in lines) <= 80
    chart = lines[5:]
    assert [line[:9] for line in chart[:3]] == ["Tue 06-02", "Wed 06-03", "Thu 06-04"]
    assert chart[-1].startswith("Mon 06-15")
    # the largest day (4 minutes) fills 40 blocks; the empty days have no bar at all
    assert [line[11:51].count(FULL) for line in chart[:5]] == [0, 10, 20, 30, 40]
    assert "Streak: 12 days" in lines[1]


def test_eighths_show_small_values() -> None:
    text = format_stats(make_stats([(80.0, 1), (1.0, 1), (0.1, 1)]), "utf-8")
    chart = text.splitlines()[5:]
    assert chart[1][11:51].rstrip() == "▌"  # 1/80 of 40 columns is half a block
    assert chart[2][11:51].rstrip() == "▏"  # anything above zero shows an eighth


@pytest.mark.parametrize("encoding", ["ascii", "latin-1", "cp437", "no-such-codec"])
def test_ascii_fallback(encoding: str) -> None:
    text = format_stats(make_stats([(4.0, 2), (2.0, 1), (0.05, 1)]), encoding)
    text.encode("ascii")
    chart = text.splitlines()[5:]
    assert chart[0][11:51] == "#" * 40
    assert chart[1][11:51].rstrip() == "#" * 20
    assert chart[2][11:51].rstrip() == "+"


def test_utf8_keeps_blocks() -> None:
    assert FULL in format_stats(make_stats([(1.0, 1)]), "UTF-8")


def test_no_activity_at_all() -> None:
    text = format_stats(make_stats([(0.0, 0)] * 14), "utf-8")
    assert "Today 2026-06-15: 0 sessions (0 completed), 0 breaths, 0.0 min" in text
    assert "Streak: 0 days" in text
    assert FULL not in text


# -- the picture ---------------------------------------------------------------------------


def _bars(path: Path, rgb: tuple[int, int, int]) -> list[tuple[int, int, int, int]]:
    """Bars of colour `rgb` in the plot: (first column, last column, top row, bottom row)."""
    image = pygame.image.load(str(path))
    width = image.get_width()
    raw = pygame.image.tobytes(image, "RGB")
    target = bytes(rgb)

    def hit(x: int, y: int) -> bool:
        at = (y * width + x) * 3
        return raw[at : at + 3] == target

    columns = {}
    for x in range(PLOT_X0, PLOT_X1):
        ys = [y for y in range(SCAN_Y0, SCAN_Y1) if hit(x, y)]
        if ys:
            columns[x] = (min(ys), max(ys))
    bars, run = [], []
    for x in sorted(columns):
        if run and x != run[-1] + 1:
            bars.append(run)
            run = []
        run.append(x)
    if run:
        bars.append(run)
    return [
        (r[0], r[-1], min(columns[x][0] for x in r), max(columns[x][1] for x in r)) for r in bars
    ]


@pytest.fixture(scope="module")
def picture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rows = [(0.0, 0)] * 14
    rows[0], rows[5], rows[9], rows[13] = (10.0, 1), (5.0, 4), (0.0, 2), (2.5, 0)
    path = tmp_path_factory.mktemp("png") / "stats.png"
    render_stats_png(make_stats(rows, streak=3), path)
    return path


def test_png_is_a_dark_picture(picture: Path) -> None:
    image = pygame.image.load(str(picture))
    assert image.get_size() == (960, 540)
    assert sum(image.get_at((5, 5))[:3]) < 100
    assert sum(image.get_at((950, 530))[:3]) < 100


def test_png_minutes_bars(picture: Path) -> None:
    bars = _bars(picture, MINUTES_RGB)
    assert len(bars) == 3  # days 0, 5 and 13; nothing on the empty days
    heights = [bottom - top + 1 for _, _, top, bottom in bars]
    assert heights == [PLOT_HEIGHT, PLOT_HEIGHT // 2, PLOT_HEIGHT // 4]
    assert all(bottom == PLOT_BOTTOM_ROW for *_, bottom in bars)
    centres = [(left + right) / 2 for left, right, _, _ in bars]
    slot = (PLOT_X1 - PLOT_X0) / 14
    assert [int((c - PLOT_X0) // slot) for c in centres] == [0, 5, 13]


def test_png_sessions_bars(picture: Path) -> None:
    bars = _bars(picture, SESSIONS_RGB)
    heights = [bottom - top + 1 for _, _, top, bottom in bars]
    # sessions 1, 4 and 2 on a 0..4 axis
    assert heights == [PLOT_HEIGHT // 4, PLOT_HEIGHT, PLOT_HEIGHT // 2]
    slot = (PLOT_X1 - PLOT_X0) / 14
    assert [int(((left + right) / 2 - PLOT_X0) // slot) for left, right, _, _ in bars] == [0, 5, 9]


def test_png_empty_days_have_no_bars(picture: Path) -> None:
    slot = (PLOT_X1 - PLOT_X0) / 14
    for rgb in (MINUTES_RGB, SESSIONS_RGB):
        for left, right, _, _ in _bars(picture, rgb):
            for empty_day in (1, 2, 3, 4, 6, 7, 8, 10, 11, 12):
                assert not (PLOT_X0 + empty_day * slot <= left < PLOT_X0 + (empty_day + 1) * slot)
                assert not (PLOT_X0 + empty_day * slot <= right < PLOT_X0 + (empty_day + 1) * slot)


def test_png_of_a_year_and_of_nothing(tmp_path: Path) -> None:
    render_stats_png(make_stats([(1.0, 1)] * 366), tmp_path / "year.png")
    render_stats_png(make_stats([(0.0, 0)] * 14), tmp_path / "none.png")
    assert _bars(tmp_path / "none.png", MINUTES_RGB) == []
    assert len(_bars(tmp_path / "year.png", MINUTES_RGB)) >= 1


def test_png_impossible_path_raises_oserror_naming_it(tmp_path: Path) -> None:
    target = tmp_path / "no-such-dir" / "stats.png"
    with pytest.raises(OSError) as caught:
        render_stats_png(make_stats([(1.0, 1)]), target)
    assert str(target) in str(caught.value)
    with pytest.raises(OSError) as caught:
        render_stats_png(make_stats([(1.0, 1)]), tmp_path)
    assert str(tmp_path) in str(caught.value)
