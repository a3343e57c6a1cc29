"""Stopping: close blanks a lit ring, SIGTERM fades a lit session over several frames."""

from __future__ import annotations

import signal

from testkit.service_loop import (
    make_service,
    run_for,
)

from breathring.config import Config


def test_close_blanks_a_lit_ring():
    service, clock, hw = make_service(Config())
    hw.button.press()
    run_for(service, clock, 5)
    assert hw.ring.lit > 0
    writes = hw.ring.writes
    service.close()
    assert hw.ring.lit == 0 and hw.ring.closed
    # The first frame after the lit ones is the blank (the neopixel library's own
    # deinit may send one more, also dark).
    after = hw.ring.frames[writes - hw.ring.writes :]
    assert 1 <= len(after) <= 2 and all(sum(frame) == 0 for frame in after)


def test_sigterm_fades_a_lit_session_over_several_frames():
    service, clock, hw = make_service(Config())
    hw.button.press()
    run_for(service, clock, 5)
    before = hw.ring.writes
    lit = sum(hw.ring.frames[-1])
    service.request_stop(signal.SIGTERM)
    while not service.step():
        pass
    fade = [sum(f) for f in hw.ring.frames[before - hw.ring.writes :]]
    assert fade[-1] == 0
    # A fade, not a cut: several frames step down from the lit level to dark.
    assert len(fade) >= 0.3 * Config().ring.fps
    assert sum(1 for v in fade if 0.1 * lit < v < 0.9 * lit) >= 5
    assert max(a - b for a, b in zip([lit, *fade], fade, strict=False)) < 0.3 * lit
