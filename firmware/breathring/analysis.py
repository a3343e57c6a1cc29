"""Measures of what the ring shows, from wire frames. Pure.

Used by the tests and the benchmarks alike, so both judge smoothness the
same way:

- roughness: the total light (sum of all wire values) averaged over a short
  window (50 ms) against a local quadratic trend fitted over 250 ms
  (Savitzky-Golay), as a percentage of the peak. The fit keeps any parabola
  exactly, so an eased curve's own slope and bend count for nothing; what
  remains is the stair-steps and flicker the eye sees.
- flat roughness: the older measure, the 50-ms mean against a flat 250-ms
  mean. It also counts the curve's bend (a straight ramp scores lower than a
  smooth ease), so it is kept only to compare with earlier reports.
- hue error: the red/green ratio of the light summed over 0.25-s windows
  against the configured colour's, ignoring windows too dim to judge.
"""

from __future__ import annotations

from collections.abc import Sequence

SHORT_WINDOW_S = 0.05
TREND_WINDOW_S = 0.25
HUE_WINDOW_S = 0.25
#: A hue window needs at least this much green light per frame to be judged.
HUE_MIN_GREEN_PER_FRAME = 1.0


def _centred_mean(values: Sequence[float], width: int) -> list[float | None]:
    """Centred moving average over `width` samples; None where it does not fit."""
    n = len(values)
    prefix = [0.0]
    for v in values:
        prefix.append(prefix[-1] + v)
    half = width // 2
    out: list[float | None] = []
    for i in range(n):
        lo, hi = i - half, i - half + width
        out.append(None if lo < 0 or hi > n else (prefix[hi] - prefix[lo]) / width)
    return out


def _quadratic_trend(values: Sequence[float | None], width: int) -> list[float | None]:
    """Centred least-squares quadratic fit over `width` samples (Savitzky-Golay, order 2).

    The fit reproduces any parabola exactly. None where the window does not fit
    or holds a None. `width` is made odd so the window has a centre.
    """
    half = max(1, width // 2)
    n_points = 2 * half + 1
    # Savitzky-Golay smoothing weights for a quadratic, evaluated at the centre.
    norm = (4 * half * half - 1) * (2 * half + 3) / 3.0
    base = 3.0 * half * half + 3.0 * half - 1.0
    weights = [(base - 5.0 * j * j) / norm for j in range(-half, half + 1)]
    out: list[float | None] = []
    for i in range(len(values)):
        window = values[i - half : i + half + 1] if i >= half else []
        if len(window) != n_points or any(v is None for v in window):
            out.append(None)
            continue
        out.append(sum(w * v for w, v in zip(weights, window, strict=True)))  # type: ignore[operator]
    return out


def _largest_stray(
    short: Sequence[float | None], trend: Sequence[float | None], peak: float
) -> float:
    worst = 0.0
    for s, t in zip(short, trend, strict=True):
        if s is not None and t is not None:
            worst = max(worst, abs(s - t))
    return 100.0 * worst / peak


def _roughness(
    totals: Sequence[float], fps: float, short_s: float, trend_s: float, quadratic: bool
) -> float:
    peak = max(totals, default=0)
    if peak <= 0:
        return 0.0
    short = _centred_mean(totals, max(1, round(short_s * fps)))
    if quadratic:
        trend = _quadratic_trend(short, max(3, round(trend_s * fps)))
    else:
        trend = _centred_mean(totals, max(1, round(trend_s * fps)))
    return _largest_stray(short, trend, peak)


def roughness_pct(
    totals: Sequence[float],
    fps: float,
    short_s: float = SHORT_WINDOW_S,
    trend_s: float = TREND_WINDOW_S,
) -> float:
    """Largest stray of the 50-ms light from its local quadratic trend, in % of the peak."""
    return _roughness(totals, fps, short_s, trend_s, quadratic=True)


def roughness_flat_pct(
    totals: Sequence[float],
    fps: float,
    short_s: float = SHORT_WINDOW_S,
    trend_s: float = TREND_WINDOW_S,
) -> float:
    """The older measure: the 50-ms mean against a flat 250-ms mean, in % of the peak."""
    return _roughness(totals, fps, short_s, trend_s, quadratic=False)


def hue_error_pct(
    frames: Sequence[bytes | Sequence[int]],
    color: tuple[int, int, int],
    fps: float,
    window_s: float = HUE_WINDOW_S,
) -> float:
    """Largest error of the time-averaged red/green ratio, in % of the colour's."""
    if color[1] == 0:
        raise ValueError("the red/green ratio needs a colour with some green")
    expected = color[0] / color[1]
    width = max(1, round(window_s * fps))
    worst = 0.0
    for start in range(0, len(frames) - width + 1, width):
        red = green = 0
        for frame in frames[start : start + width]:
            red += sum(frame[0::3])
            green += sum(frame[1::3])
        if green < HUE_MIN_GREEN_PER_FRAME * width:
            if red >= HUE_MIN_GREEN_PER_FRAME * width * expected:
                worst = 100.0  # bright enough to judge, but green rounded away
            continue
        worst = max(worst, 100.0 * abs(red / green / expected - 1.0))
    return worst
