"""Stateful fuzzing of the controller and of the service loop (hypothesis state machines).

Random gestures, control requests, wall-clock jumps, clock sync changes, config
reloads (good and bad) and time passing. After every loop step:

- no exception escapes and nothing is logged at ERROR (the loop catches and logs
  frame errors, so a logged error is how a crash inside it would show);
- at most one session at a time: a frame that starts a session shows its lead-in;
- when the device has been idle for two seconds the ring is dark and the loop is quiet;
- every cue that starts a phase comes with that phase on the same frame;
- the estimated current never exceeds ring.max_milliamps;
- reminders are what the last toggle said, in memory and in the saved state.
"""

from __future__ import annotations

import json
import logging
import os
import signal
from dataclasses import replace
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

from hypothesis import assume, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)
from testkit.rig import UTC, make_rig

from breathring.clock import FakeClock, Now
from breathring.config import Config, parse_config, to_toml
from breathring.controller import Controller
from breathring.engine import Engine
from breathring.gestures import DOUBLE, HOLD, PRESS
from breathring.patterns import PRESETS

#: A device idle this long must be dark (the brief: "dark within two seconds").
DARK_WITHIN_S = 2.0
#: Phase cues and the phases they announce.
CUE_PHASES = {
    "start": {"lead-in"},
    "inhale": {"inhale"},
    "hold": {"hold-in", "hold-out"},
    "exhale": {"exhale"},
    "end": {"closing"},
}
SESSION_PHASES = {"lead-in", "inhale", "hold-in", "exhale", "hold-out", "closing"}
#: Rounding slack on the current estimate (mA).
MA_SLACK = 1e-6
#: The longest frame interval of the configs below (fps 10).
SLOWEST_FRAME_S = 0.1
#: Examples per run: quick in the normal suite; BREATHRING_FUZZ_EXAMPLES=1000 digs deeper.
SERVICE_EXAMPLES = int(os.environ.get("BREATHRING_FUZZ_EXAMPLES", "60"))
PERIODS = (1, 5, 10, 15, 30, 60, 120)


def _hhmm(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


@st.composite
def hour_ranges(draw) -> str:
    start = draw(st.integers(0, 23 * 60 + 45))
    length = draw(st.integers(15, 24 * 60 - 15))
    end = (start + length) % (24 * 60)
    return f"{_hhmm(start)}-{_hhmm(end)}"


@st.composite
def configs(draw) -> Config:
    """Valid configurations that differ in everything the loop depends on."""
    every = draw(st.sampled_from(PERIODS))
    toml = f"""
[ring]
pixels = {draw(st.sampled_from((8, 12, 24)))}
brightness = {draw(st.floats(0.01, 1.0)):.3f}
max_milliamps = {draw(st.floats(50.0, 1500.0)):.1f}
fps = {draw(st.sampled_from((10, 25, 50)))}
color = "#{draw(st.integers(0, 0xFFFFFF)):06X}"
[session]
pattern = "{draw(st.sampled_from(sorted(p for p in PRESETS if p != "wind-down")))}"
breaths = {draw(st.integers(1, 4))}
long_breaths = {draw(st.integers(1, 4))}
[reminder]
every_minutes = {every}
seconds = {draw(st.floats(5.0, min(every * 60 - 1, 60.0))):.1f}
active_hours = "{draw(hour_ranges())}"
sound = {str(draw(st.booleans())).lower()}
[night]
hours = "{draw(hour_ranges())}"
brightness = {draw(st.floats(0.01, 1.0)):.3f}
[audio]
guide_tone = {str(draw(st.booleans())).lower()}
"""
    cfg = parse_config(toml)
    every, hours = cfg.reminder.every_minutes, cfg.reminder.active_hours
    assume(any(hours.contains(m) for m in range(0, 24 * 60, every)))  # else refused at load
    return cfg


BAD_CONFIGS = (
    "[ring]\nbrightness = 3\n",
    "[ring\n",
    "[reminder]\nevery_minutes = 7\n",
    "[night]\nhours = '25:00-07:00'\n",
    "[sesion]\npattern = 'box'\n",
)


class ErrorLog(logging.Handler):
    """Collects every ERROR (and worse) record of the service's loggers."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class ServiceMachine(RuleBasedStateMachine):
    """The whole loop: Service + Engine + mock hardware on a FakeClock."""

    def __init__(self) -> None:
        super().__init__()
        self._tmp = TemporaryDirectory()
        self.dir = Path(self._tmp.name)
        self.config_path = self.dir / "config.toml"
        self.errors = ErrorLog()
        logger = logging.getLogger("breathring")
        logger.addHandler(self.errors)
        # Only errors matter here; skipping the rest keeps pytest's log capture cheap.
        self._level = logger.level
        logger.setLevel(logging.ERROR)
        self.expected_reminders: bool | None = None
        self.idle_since: float | None = None
        self.checked = 0
        self.steps = 0

    def teardown(self) -> None:
        logger = logging.getLogger("breathring")
        logger.removeHandler(self.errors)
        logger.setLevel(self._level)
        self._tmp.cleanup()

    @initialize(cfg=configs(), hour=st.integers(0, 23), minute=st.integers(0, 59))
    def start(self, cfg: Config, hour: int, minute: int) -> None:
        self.config_path.write_text(to_toml(cfg))
        from datetime import datetime

        self.rig = make_rig(
            cfg,
            wall=datetime(2026, 3, 28, hour, minute, tzinfo=UTC),
            state_dir=self.dir / "state",
            config_path=self.config_path,
        )
        self.expected_reminders = cfg.reminder.enabled
        self._check_frames()

    # ------------------------------------------------------------------ rules

    def _advance(self, seconds: float) -> None:
        rig = self.rig
        end = rig.clock.monotonic() + seconds
        while rig.clock.monotonic() < end:
            rig.service.step()
            self.steps += 1
            assert self.steps < 2_000_000, "the loop is spinning"
            self._check_step()

    def _step_now(self) -> None:
        self.rig.service.step()
        self._check_step()

    def _gap(self, seconds: float = 0.0) -> None:
        """A hand cannot press again within the bounce filter of its last release."""
        self._advance(max(seconds, 2 * self.rig.service.cfg.button.bounce_seconds + 0.01))

    @rule()
    def press(self) -> None:
        self._gap()
        self.rig.button.press()
        self._step_now()

    @rule()
    def double(self) -> None:
        self._gap()
        self.rig.button.advance = self._advance  # the pin is driven in time, invariants checked
        self.rig.button.double()
        self._step_now()

    @rule()
    def hold(self) -> None:
        rig = self.rig
        self._gap()
        rig.button.down()
        self._advance(rig.service.cfg.button.hold_seconds + 0.1)
        rig.button.up()
        self._step_now()
        self.expected_reminders = not self.expected_reminders

    @rule(cmd=st.sampled_from(("press", "stop", "status", "hold")))
    def control(self, cmd: str) -> None:
        reply = self.rig.control(cmd)
        assert reply["ok"], reply
        if cmd == "hold":
            self.expected_reminders = not self.expected_reminders
        self._check_step()

    @rule(pattern=st.sampled_from((None, "custom", *sorted(PRESETS))))
    def control_start(self, pattern: str | None) -> None:
        reply = self.rig.control("start", pattern=pattern)
        if pattern == "custom" and self.rig.service.cfg.session.pattern != "custom":
            # Refused: the config has no custom durations; nothing else changes.
            assert not reply["ok"] and 'session.pattern = "custom"' in reply["error"], reply
        else:
            assert reply["ok"] and reply["state"] == "session", reply
        self._check_step()

    @rule(value=st.sampled_from(("on", "off")))
    def control_reminders(self, value: str) -> None:
        reply = self.rig.control("reminders", value=value)
        assert reply["ok"] and reply["reminders"] is (value == "on"), reply
        self.expected_reminders = value == "on"
        self._check_step()

    @rule(seconds=st.one_of(st.floats(0.001, 3.0), st.floats(3.0, 45.0), st.floats(45.0, 4000.0)))
    def time_passes(self, seconds: float) -> None:
        self._advance(seconds)

    @rule(hours=st.integers(-30, 30), minutes=st.integers(-59, 59))
    def wall_clock_jumps(self, hours: int, minutes: int) -> None:
        self.rig.clock.jump_wall(timedelta(hours=hours, minutes=minutes))
        self._advance(0.5)

    @rule(synced=st.booleans())
    def clock_sync(self, synced: bool) -> None:
        self.rig.clock.set_synced(synced)
        self._advance(0.1)

    @rule(cfg=configs())
    def reload(self, cfg: Config) -> None:
        self.config_path.write_text(to_toml(cfg))
        self.rig.service.request_stop(signal.SIGHUP)
        self._step_now()
        got = self.rig.service.cfg
        assert got.ring.brightness == cfg.ring.brightness
        assert got.ring.max_milliamps == cfg.ring.max_milliamps
        assert got.ring.pixels == self.rig.ring.pixels  # needs a restart: kept

    @rule(text=st.sampled_from(BAD_CONFIGS))
    def reload_bad(self, text: str) -> None:
        before = self.rig.service.cfg
        self.config_path.write_text(text)
        self.rig.service.request_stop(signal.SIGHUP)
        self.errors.setLevel(logging.CRITICAL)  # "reload failed" is an expected error here
        try:
            self._step_now()
        finally:
            self.errors.setLevel(logging.ERROR)
        assert self.rig.service.cfg is before

    @precondition(lambda self: self.rig.service.engine.controller.state == "session")
    @rule()
    def press_during_session_cancels(self) -> None:
        self._gap(self.rig.service.cfg.button.double_seconds + 0.01)
        status = self.rig.service.engine.controller.status(self.rig.now())
        if status["state"] != "session" or status["phase"] == "closing":
            return  # it ended or is fading out: a press would start a new one
        self.rig.button.press()
        self._step_now()
        assert self.rig.service.engine.controller.status(self.rig.now())["phase"] == "closing"

    # ------------------------------------------------------------- invariants

    def _check_step(self) -> None:
        rig = self.rig
        controller = rig.service.engine.controller
        mono = rig.clock.monotonic()
        if controller.state == "idle":
            if self.idle_since is None:
                self.idle_since = mono
            if mono - self.idle_since >= DARK_WITHIN_S:
                assert rig.ring.lit == 0, f"idle for {mono - self.idle_since:.2f} s but lit"
                assert not rig.service.engine.active
        else:
            self.idle_since = None
        self._check_frames()
        assert not self.errors.records, [r.getMessage() for r in self.errors.records]

    def _check_frames(self) -> None:
        for frame in self.rig.frames[self.checked :]:
            assert frame.milliamps <= frame.budget + MA_SLACK, frame
            if frame.cues and frame.cues[-1] in CUE_PHASES:  # the latest announcement
                assert frame.phase in CUE_PHASES[frame.cues[-1]], frame
            started = [e for e in frame.events if e.startswith("session-started")]
            if started:
                # A new session replaces any other: its first frame is its lead-in
                # (or its fade, if it was cancelled in the same step).
                assert frame.phase in ("lead-in", "closing"), frame
        self.checked = len(self.rig.frames)
        if len(self.rig.frames) > 1000:  # keep memory flat over long runs
            del self.rig.frames[:]
            self.checked = 0

    @invariant()
    def reminders_follow_the_last_toggle(self) -> None:
        if not hasattr(self, "rig"):
            return
        controller = self.rig.service.engine.controller
        assert controller.reminders_enabled is self.expected_reminders
        saved = self.dir / "state" / "state.json"
        if saved.exists():
            data = json.loads(saved.read_text())
            assert data["reminders_enabled"] is self.expected_reminders
        status = controller.status(self.rig.now())
        assert status["state"] in ("idle", "session", "pulse", "confirm")
        if status["state"] == "session":
            assert status["phase"] in SESSION_PHASES


ServiceMachine.TestCase.settings = settings(
    max_examples=SERVICE_EXAMPLES, stateful_step_count=40, deadline=None, derandomize=True
)
TestServiceMachine = ServiceMachine.TestCase


# ------------------------------------------------------------------ the controller alone


class ControllerMachine(RuleBasedStateMachine):
    """The pure controller + output stage, ticked at irregular times (frame stalls)."""

    @initialize(cfg=configs())
    def start(self, cfg: Config) -> None:
        from datetime import datetime

        self.clock = FakeClock(datetime(2026, 6, 20, 21, 30, tzinfo=UTC))
        self.engine = Engine(cfg)
        self.controller: Controller = self.engine.controller
        self.reminders = self.controller.reminders_enabled
        self.idle_since: float | None = 0.0
        #: Inputs since the last tick: with several, a later one may cut what a cue announced.
        self.inputs = 0

    def _now(self) -> Now:
        return Now(self.clock.monotonic(), self.clock.wall())

    @rule(gesture=st.sampled_from((PRESS, DOUBLE, HOLD)))
    def gesture(self, gesture: str) -> None:
        self.engine.gesture(gesture, self._now())
        self.inputs += 1
        if gesture == HOLD:
            self.reminders = not self.reminders

    @rule()
    def pulse(self) -> None:
        busy = self.controller.state != "idle"
        self.inputs += 1
        assert self.controller.start_pulse(self._now()) is not busy

    @rule(fade=st.floats(0.05, 2.0))
    def stop(self, fade: float) -> None:
        self.controller.stop(self._now(), fade_s=fade)
        self.inputs += 1

    @rule(cfg=configs())
    def reconfigure(self, cfg: Config) -> None:
        cfg = replace(cfg, ring=replace(cfg.ring, pixels=self.engine.cfg.ring.pixels))
        self.engine.reconfigure(cfg)

    @rule(dt=st.floats(0.0, 5.0), frames=st.integers(1, 60))
    def ticks(self, dt: float, frames: int) -> None:
        for _ in range(frames):
            self.clock.advance(dt / frames)
            rendered = self.engine.render(self._now())
            tick = rendered.tick
            assert rendered.milliamps <= self.engine.cfg.ring.max_milliamps + MA_SLACK
            # After a stall longer than a frame (slowest: 10 fps) a short phase may be over.
            single = self.inputs <= 1 and dt / frames <= SLOWEST_FRAME_S
            if single and tick.cues and tick.cues[-1] in CUE_PHASES:
                assert tick.phase in CUE_PHASES[tick.cues[-1]], (tick.phase, tick.cues)
            self.inputs = 0
            mono = self.clock.monotonic()
            if self.controller.state == "idle":
                if self.idle_since is None:
                    self.idle_since = mono
                if mono - self.idle_since >= DARK_WITHIN_S:
                    assert not any(rendered.wire)
            else:
                self.idle_since = None

    @rule(hours=st.integers(-48, 48))
    def jump(self, hours: int) -> None:
        self.clock.jump_wall(timedelta(hours=hours))

    @invariant()
    def reminders_follow_the_last_toggle(self) -> None:
        if hasattr(self, "controller"):
            assert self.controller.reminders_enabled is self.reminders


ControllerMachine.TestCase.settings = settings(
    max_examples=2 * SERVICE_EXAMPLES, stateful_step_count=40, deadline=None, derandomize=True
)
TestControllerMachine = ControllerMachine.TestCase
