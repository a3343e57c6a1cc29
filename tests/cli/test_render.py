"""`breathring render`: the picture shows one session, across the whole plot."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pygame  # a hard dependency: a broken install must fail here, not skip
import pytest

from breathring.cli import main
from breathring.config import Config, parse_config
from breathring.render import plot_ticks, render_surface

#: The picture's plot area (the layout the README's picture is drawn in).
PLOT_LEFT, PLOT_RIGHT, PLOT_TOP, PLOT_BOTTOM = 80, 1160, 300, 580
#: One default session: lead-in 2 s, three breaths of 4 + 6 s, closing 2.5 s.
DEFAULT_SESSION_S = 34.5
#: The curve is white (anti-aliased): every channel above this; nothing else drawn is.
CURVE_MIN = 200


def curve_columns(surface) -> list[int]:
    """x of every column of the plot in which the white curve is drawn."""
    columns = []
    for x in range(PLOT_LEFT, PLOT_RIGHT + 1):
        for y in range(PLOT_TOP, PLOT_BOTTOM):
            if min(tuple(surface.get_at((x, y)))[:3]) > CURVE_MIN:
                columns.append(x)
                break
    return columns


def test_the_picture_draws_one_session_across_the_whole_plot(tmp_path):
    png = tmp_path / "session.png"
    assert main(["render", "--out", str(png)]) == 0
    surface = pygame.image.load(str(png))
    assert surface.get_size() == (1200, 640)
    columns = curve_columns(surface)
    # The lit curve spans the plot: from its left edge to (nearly) its right edge...
    assert columns[0] < PLOT_LEFT + 20 and columns[-1] > PLOT_RIGHT - 60
    # ...with no long dark stretch (a session a sliver at the left would leave one).
    gaps = [b - a for a, b in pairwise(columns)]
    assert max(gaps) < 40


def test_the_axis_ends_at_the_sessions_end_with_few_ticks():
    picture = render_surface(Config())
    assert picture.end == pytest.approx(DEFAULT_SESSION_S, abs=0.05)
    assert picture.tick_labels == ["0", "5", "10", "15", "20", "25", "30", "34.5"]


def test_a_long_session_gets_a_readable_axis():
    cfg = parse_config('[session]\npattern = "wind-down"\n')
    picture = render_surface(cfg)
    # wind-down breathes 8 minutes (plus lead-in and closing), up to one slow breath more.
    assert 8 * 60 + 4.5 <= picture.end <= 8 * 60 + 4.5 + 10.5
    assert 4 <= len(picture.tick_labels) <= 12
    assert picture.tick_labels[-1] == f"{picture.end:.1f}".removesuffix(".0")


@pytest.mark.parametrize(
    ("end", "ticks"),
    [
        (34.5, [0, 5, 10, 15, 20, 25, 30, 34.5]),
        (12.0, [0, 2, 4, 6, 8, 10, 12]),
        (600.0, [0, 60, 120, 180, 240, 300, 360, 420, 480, 540, 600]),
    ],
)
def test_plot_ticks(end, ticks):
    assert plot_ticks(end) == ticks


def test_the_docs_picture_is_what_the_command_makes(tmp_path):
    docs = Path(__file__).resolve().parents[2] / "docs" / "session.png"
    png = tmp_path / "session.png"
    assert main(["render", "--out", str(png)]) == 0
    made, shipped = pygame.image.load(str(png)), pygame.image.load(str(docs))
    assert made.get_size() == shipped.get_size()
    assert pygame.image.tobytes(made, "RGB") == pygame.image.tobytes(shipped, "RGB")
