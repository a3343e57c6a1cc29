"""The service's output: rendered frames to the ring, their cues and guide tones to the audio.

A failed ring write is logged (rate-limited) and the last frame is retried until the
ring works again; a frame sent more than one frame interval after its deadline counts
as late (`status` and one log line per session).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..activities import Tick
from ..clock import Clock, Now
from ..config import Config
from ..controller import Controller
from ..engine import Engine, Rendered
from ..hw import Audio
from ..hw.selection import Hardware
from ..rate_limited_log import RateLimitedLog
from ..session import GUIDE_FOR_PHASE

log = logging.getLogger("breathring.service")

#: Frame errors are logged at most once per this many seconds (the rest counted).
ERROR_LOG_INTERVAL_S = 30.0
#: After a failed ring write while idle, retry the last frame this often.
RING_RETRY_S = 1.0
#: A frame sent more than this many frame intervals after its deadline counts as late.
LATE_FRAME_INTERVALS = 1.0
#: Guide tones of this many phases ahead are rendered in the background.
GUIDE_LOOKAHEAD = 2
#: A sound still playing when the device is due to close: look again this much later.
AUDIO_SLEEP_RETRY_S = 1.0


@dataclass
class FrameTiming:
    """Frames sent since start and how many went out late (later than one frame interval)."""

    frames_sent: int = 0
    frames_late: int = 0
    _mark: tuple[int, int] = (0, 0)

    def sent(self, late: bool) -> None:
        self.frames_sent += 1
        if late:
            self.frames_late += 1

    def late_pct(self) -> float | None:
        """The share of late frames in percent (2 decimals); None before the first frame."""
        if not self.frames_sent:
            return None
        return round(100.0 * self.frames_late / self.frames_sent, 2)

    def since_mark(self) -> tuple[int, int]:
        """(sent, late) since the last call, for one line per session."""
        sent = self.frames_sent - self._mark[0]
        late = self.frames_late - self._mark[1]
        self._mark = (self.frames_sent, self.frames_late)
        return sent, late


class FrameWriter:
    """Sends frames to the ring and plays their sounds; keeps the ring's health and timing."""

    def __init__(self, hw: Hardware, clock: Clock, report: RateLimitedLog) -> None:
        self.hw = hw
        self.clock = clock
        self.report = report
        #: Frames sent while the light changed, and those sent late (status, once per session).
        self.timing = FrameTiming()
        #: The total light of the last frame sent (the sum of its wire bytes; 0 = dark).
        self.light = 0
        self.ring_failed = False
        self._last_wire: bytes | None = None
        #: When to close the idle audio device (None: not planned).
        self.audio_sleep_at: float | None = None
        #: A wake asked for in this step, carried out once its frame is shown.
        self._wake_pending = False

    def render(self, engine: Engine, now: Now) -> Rendered | None:
        """The engine's frame for `now`; None (logged, rate-limited) if rendering failed."""
        try:
            return engine.render(now)
        except Exception:
            self.report("frame", now.mono, "a frame failed; going on")
            return None

    def send(self, rendered: Rendered, now: Now, due: float, interval: float) -> None:
        """Show a rendered frame due at monotonic `due`, and count it (late or not)."""
        self.show(rendered.wire, now.mono)
        self.timing.sent(self.clock.monotonic() - due > LATE_FRAME_INTERVALS * interval)

    def show(self, wire: bytes, mono: float) -> None:
        """Write `wire` to the ring; a failure is logged and the frame retried later."""
        self._last_wire = wire
        self.light = sum(wire)
        try:
            self.hw.ring.show(wire)
        except OSError:
            self.report("ring", mono, "writing to the ring failed; will retry", expected=True)
            self.ring_failed = True
            return
        if self.ring_failed:
            log.info("the ring works again")
            self.ring_failed = False

    def retry(self, mono: float) -> bool:
        """After a failed write, send the last frame again; False if there is nothing to retry."""
        if not self.ring_failed or self._last_wire is None:
            return False
        self.show(self._last_wire, mono)
        return True

    def play(self, cfg: Config, controller: Controller, tick: Tick, now: Now) -> None:
        """The frame's cues and guide tones, unless the sound is off."""
        if not cfg.audio.enabled:  # `set audio.enabled false` mutes at once
            return
        play_tick(self.hw.audio, controller, tick, now, cfg.audio.guide_tone)

    def audio_idle(self, mono: float, after_s: float) -> None:
        """The light stopped changing: close the audio device `after_s` later (0: never)."""
        self.audio_sleep_at = mono + after_s if after_s > 0 else None

    def audio_wake(self, mono: float, after_s: float, at_once: bool = False) -> None:
        """Something may want a cue soon: open a sleeping audio device in the background.

        The opening holds Python's lock for moments (a slow Pi: tens of ms), so a button
        going down (its cue comes at the release) wakes it once the step's frame is on the
        ring; `at_once` for a cue in this very frame (a request, a pulse).
        """
        self.audio_idle(mono, after_s)
        if at_once:
            self._wake()
        else:
            self._wake_pending = True

    def _wake(self) -> None:
        self._wake_pending = False
        wake = getattr(self.hw.audio, "wake", None)
        if wake is not None:
            wake()

    def audio_nap(self, mono: float, active: bool) -> None:
        """After each step: start a wake asked for; close the device once due and idle."""
        if self._wake_pending:
            self._wake()
        if self.audio_sleep_at is None or mono < self.audio_sleep_at:
            return
        if active:  # planned again when the light stops changing
            self.audio_sleep_at = None
            return
        sleep = getattr(self.hw.audio, "sleep", None)
        if sleep is None or sleep():
            self.audio_sleep_at = None
        else:  # a sound still plays
            self.audio_sleep_at = mono + AUDIO_SLEEP_RETRY_S

    def log_timing(self, fps: float) -> None:
        """One line when the light stops changing: how many of its frames were late."""
        sent, late = self.timing.since_mark()
        if sent:
            log.info(
                "frames: %d sent, %d late (%.1f %%) at %g fps", sent, late, 100.0 * late / sent, fps
            )


def play_tick(audio: Audio, controller: Controller, tick: Tick, now: Now, guide: bool) -> None:
    """Play a frame's cues, and (with `guide`) the guide tones of the phases it starts.

    The tones of the phases ahead are rendered in the background, not in the frame loop.
    """
    volume = controller.volume
    for cue in tick.cues:
        audio.play(cue, volume)
    if not guide or not tick.phase_starts:
        return
    for segment in tick.phase_starts:
        kind = GUIDE_FOR_PHASE.get(segment.phase)
        if kind is not None:
            audio.play_guide(kind, segment.seconds, volume)
    prepare = getattr(audio, "prepare_guide", None)
    if prepare is not None:
        for segment in controller.upcoming(now, GUIDE_LOOKAHEAD):
            kind = GUIDE_FOR_PHASE.get(segment.phase)
            if kind is not None:
                prepare(kind, segment.seconds)
