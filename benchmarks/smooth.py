"""Smoothness through an inhale: us against the peer's Pulse fading the same colour.

Ours: the first inhale of a default session (simulate, virtual time) in
#FF8C32 at brightness b. The peer: adafruit_led_animation's Pulse in the same
colour at our frame rate, the library's own brightness = b, rising from dark
to full over the same time. Both judged by breathring.analysis: roughness of
the total light, and the error of the time-averaged red/green ratio.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from breathring.analysis import hue_error_pct, roughness_flat_pct, roughness_pct
from breathring.config import Config
from breathring.patterns import INHALE
from breathring.simulate import SimOptions, simulate

from .common import AMBER, VirtualMs, agnostic_strip, use_virtual_ms

BRIGHTNESSES = (1.0, 0.05, 0.02)
#: A budget so large that the power limiter never acts (to show its share of the roughness).
NO_LIMIT_MA = 100_000.0
#: Long enough for the lead-in and the first inhale of any preset.
INHALE_SIM_S = 12.0
MS_PER_S = 1000


def our_inhale(brightness: float, cfg: Config | None = None) -> tuple[list[bytes], int, float]:
    """Wire frames (RGB) of the first inhale, the frame rate, and the inhale's length."""
    cfg = cfg or Config()
    cfg = replace(cfg, ring=replace(cfg.ring, brightness=brightness, color=AMBER))
    frames = [
        (t, r.wire)
        for t, r in simulate(cfg, SimOptions(seconds=INHALE_SIM_S))
        if r.tick.phase == INHALE and r.tick.breath == 1
    ]
    seconds = frames[-1][0] - frames[0][0] + 1.0 / cfg.ring.fps
    return [wire for _, wire in frames], cfg.ring.fps, seconds


def peer_inhale(brightness: float, pixels: int, fps: int, seconds: float) -> list[bytes]:
    """The peer's Pulse rising from dark to full in `seconds`, at `fps`, as RGB frames."""
    from adafruit_led_animation.animation.pulse import Pulse

    clock = VirtualMs()
    use_virtual_ms(clock)
    strip = agnostic_strip(pixels, "RGB", brightness)
    sent: list[bytes] = []
    strip._transmit = lambda buffer: sent.append(bytes(buffer))
    step_ms = round(MS_PER_S / fps)
    pulse = Pulse(strip, speed=1.0 / fps, color=AMBER, period=2.0 * seconds)
    for _ in range(round(seconds * fps)):
        pulse.animate()
        clock.ms += step_ms
    return sent


def measure(brightness: float) -> dict[str, float]:
    frames, fps, seconds = our_inhale(brightness)
    theirs = peer_inhale(brightness, len(frames[0]) // 3, fps, seconds)
    return {
        "rough_pct": roughness_pct([sum(f) for f in frames], fps),
        "peer_rough_pct": roughness_pct([sum(f) for f in theirs], fps),
        "rough_flat_pct": roughness_flat_pct([sum(f) for f in frames], fps),
        "peer_rough_flat_pct": roughness_flat_pct([sum(f) for f in theirs], fps),
        "hue_err_pct": hue_error_pct(frames, AMBER, fps),
        "peer_hue_err_pct": hue_error_pct(theirs, AMBER, fps),
        "frames": len(frames),
        "peer_frames": len(theirs),
    }


def smoothness(brightnesses: Sequence[float] = BRIGHTNESSES) -> dict[str, dict[float, float]]:
    out: dict[str, dict[float, float]] = {
        k: {}
        for k in (
            "rough_pct",
            "peer_rough_pct",
            "rough_flat_pct",
            "peer_rough_flat_pct",
            "hue_err_pct",
            "peer_hue_err_pct",
        )
    }
    for b in brightnesses:
        m = measure(b)
        for key in out:
            out[key][b] = round(m[key], 3)
    free = Config()
    free = replace(free, ring=replace(free.ring, max_milliamps=NO_LIMIT_MA))
    out["rough_pct_no_limiter"] = {}
    for b in brightnesses:
        frames, fps, _ = our_inhale(b, free)
        out["rough_pct_no_limiter"][b] = round(roughness_pct([sum(f) for f in frames], fps), 3)
    return out


def inhale_curves(brightness: float) -> tuple[list[int], list[int], int]:
    """Total light per frame through the inhale: ours, the peer's, and the frame rate."""
    frames, fps, seconds = our_inhale(brightness)
    theirs = peer_inhale(brightness, len(frames[0]) // 3, fps, seconds)
    return [sum(f) for f in frames], [sum(f) for f in theirs], fps


if __name__ == "__main__":
    import json

    print(json.dumps(smoothness(), indent=2))
