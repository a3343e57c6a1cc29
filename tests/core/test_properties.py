"""Properties of the whole pipeline (controller, scene, output) over random settings."""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from breathring.config import format_color, parse_config
from breathring.patterns import PRESETS
from breathring.simulate import SimOptions, parse_at, simulate

#: wind-down lasts 8 minutes and follow 5; the others are checked with one or two breaths.
SHORT_PATTERNS = sorted(p for p in PRESETS if p not in ("wind-down", "follow"))
#: Symmetry is checked on every n-th frame (the check costs more than the frame).
SYMMETRY_EVERY = 5
#: The current model, written down: each pixel idles at 1 mA, each channel draws
#: 20 mA at 255, and dithering may round each lit channel up by one step.
IDLE_MA = 1.0
MA_PER_STEP = 20.0 / 255
#: Budgets and colours are chosen so the brightest frame can show at least this many
#: wire steps on its strongest channel: a ring that is always dark proves nothing.
MIN_STEPS = 2


@settings(max_examples=15)
@given(
    pattern=st.sampled_from(SHORT_PATTERNS),
    breaths=st.integers(1, 2),
    fps=st.integers(1, 240),
    brightness=st.floats(0.01, 1.0),
    pixels=st.integers(1, 300),
    start=st.integers(0, 299),
    limit=st.integers(50, 5000),
    rgb=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)),
)
def test_any_session_is_safe_symmetric_and_cued_once(
    pattern, breaths, fps, brightness, pixels, start, limit, rgb
):
    lit_channels = sum(1 for c in rgb if c)
    assume(lit_channels > 0 and brightness * max(rgb) >= MIN_STEPS)
    # Refuse budgets where the ring is always dark: idle draw, the dithering allowance
    # and at least MIN_STEPS steps on every lit channel of every pixel must fit.
    limit = max(limit, int(pixels * (IDLE_MA + lit_channels * MA_PER_STEP * (1 + MIN_STEPS))) + 1)
    start %= pixels
    cfg = parse_config(
        f"[ring]\npixels = {pixels}\nbrightness = {brightness!r}\n"
        f'color = "{format_color(rgb)}"\nmax_milliamps = {limit}\nstart_pixel = {start}\n'
        f"fps = {fps}\n"
        f'[session]\npattern = "{pattern}"\nbreaths = {breaths}\n'
        "[reminder]\nenabled = false\n"
    )
    cues: Counter[str] = Counter()
    last = None
    most_lit = 0
    frames = simulate(cfg, SimOptions(seconds=120, at=parse_at("12:10")))
    for n, (_, rendered) in enumerate(frames):
        wire = rendered.wire
        most_lit = max(most_lit, sum(1 for k in range(pixels) if any(wire[3 * k : 3 * k + 3])))
        assert len(wire) == 3 * pixels
        assert rendered.milliamps <= limit + 1e-9
        cues.update(rendered.tick.cues)
        last = rendered
        if n % SYMMETRY_EVERY:
            continue
        for k in range(pixels):
            a, b = (start + k) % pixels, (start - k) % pixels
            assert all(abs(wire[3 * a + c] - wire[3 * b + c]) <= 1 for c in range(3))
    assert last is not None and sum(last.wire) == 0  # ends dark
    # Light appears: at the top of a breath at least half the ring is lit.
    assert most_lit >= pixels / 2
    phases = PRESETS[pattern].phases(0)
    assert cues["start"] == 1 and cues["end"] == 1
    assert cues["inhale"] == breaths * sum(p.kind == "inhale" for p in phases)
    assert cues["exhale"] == breaths


def test_a_virtual_week_shows_every_pulse_where_it_belongs_and_none_elsewhere():
    cfg = parse_config("[ring]\nfps = 10\n[reminder]\nseconds = 10\n")
    starts = []
    previous = None
    opts = SimOptions(seconds=7 * 86400, at=parse_at("00:00"), presses=[])
    start_wall = datetime.combine(opts.day, opts.at, ZoneInfo(opts.tz))
    for t, rendered in simulate(cfg, opts):
        phase = rendered.tick.phase
        if phase == "pulse" and previous != "pulse":
            starts.append(start_wall + timedelta(seconds=t))
        previous = phase
    assert len(starts) == 7 * 14
    for moment in starts:
        assert 8 <= moment.hour <= 21 and moment.minute == 0 and moment.second == 0
    assert len({(m.date(), m.hour) for m in starts}) == 98
