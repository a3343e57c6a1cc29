"""The service loop: wait for input or the next deadline, step the engine, show, notify.

One thread owns all state. It blocks on one queue (button edges from gpiozero's
thread, requests from the control socket, signals) with a timeout equal to the next
deadline: the next frame while the light changes, else the next hold check, schedule
check or watchdog ping. Idle and dark, it sleeps. The jobs around it live beside it:
frames.py (ring and sound), requests.py (control requests), reconfig.py (reload,
set/unset), status.py (status, watchers, systemd).
"""

from __future__ import annotations

import logging
import queue
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ..breath_rate import BreathReading
from ..clock import Clock, Now, read
from ..config import Config
from ..control.feed import StatusFeed
from ..control.server import ControlRequest, ControlServer
from ..controller import PULSE as PULSE_STATE
from ..engine import Engine
from ..exitcodes import EXIT_OK
from ..gestures import DOWN, UP, ButtonEvent
from ..history_recorder import HistoryRecorder, HistoryWorker
from ..hw import Audio
from ..hw.selection import Hardware, open_audio_for
from ..rate_limited_log import RateLimitedLog
from ..settings import Settings
from ..state import DeviceState, StateStore
from ..systemd import Notifier
from .frames import ERROR_LOG_INTERVAL_S, RING_RETRY_S, FrameWriter
from .reconfig import Reconfigurer, decoder_for
from .records import Records, trigger_for
from .reminders import check_reminder
from .requests import RequestHandlers
from .signals import Stop, Wake, loop_signals_blocked
from .status import ClockTrustLog, StatusReporter

log = logging.getLogger("breathring.service")


class Closeable(Protocol):
    def close(self) -> None: ...


#: ([breath_sensor] section, deliver) -> the running reader, or None (no serial sensor).
SensorOpener = Callable[[Any, Callable[[BreathReading], object]], "Closeable | None"]

#: On SIGTERM/SIGINT the ring fades out this fast, so the process exits within 1 s.
SHUTDOWN_FADE_S = 0.35
SHUTDOWN_LIMIT_S = 0.6
#: Where a gesture came from, as watchers see it.
SOURCE_BUTTON = "button"


class Service:
    """The running device: the engine on one loop, with its hardware, socket and history."""

    def __init__(
        self,
        cfg: Config,
        hardware: Hardware,
        clock: Clock,
        *,
        config_path: Path | None = None,
        state: StateStore | None = None,
        notifier: Notifier | None = None,
        socket_path: Path | None = None,
        wait: Callable[[float], object | None] | None = None,
        settings: Settings | None = None,
        history: HistoryWorker | None = None,
        audio_opener: Callable[[Any], Audio] | None = None,
        sensor_opener: SensorOpener | None = None,
    ) -> None:
        self.cfg = cfg
        #: The config file, settings.toml over it, and where each value comes from.
        self.settings = settings or Settings(cfg, effective=cfg)
        self.hw = hardware
        self.clock = clock
        self.config_path = config_path
        self.store = state
        saved = state.load() if state is not None else DeviceState()
        self.engine = Engine(cfg, saved.reminders_enabled, saved.last_pulse)
        self.decoder = decoder_for(cfg)
        self.notifier = notifier or Notifier()
        self.inbox: queue.SimpleQueue[Any] = hardware.button.events
        #: Blocks until an item arrives or `timeout` seconds pass (tests inject virtual time).
        self.wait = wait or _waiter(self.inbox)
        #: Opens the audio for an [audio] section (a reload that changes it).
        self.open_audio = audio_opener or _audio_opener(hardware.kind, clock)
        #: Starts the breath sensor's reader for a [breath_sensor] section (None: no serial one).
        self.open_sensor = sensor_opener or _sensor_opener(clock)
        self.sensor: Closeable | None = None
        self.server = ControlServer(socket_path, self.inbox) if socket_path else None
        self.frames = FrameWriter(hardware, clock, RateLimitedLog(log, ERROR_LOG_INTERVAL_S))
        #: Watchers of the `watch` stream; history rows written off the loop.
        self.feed = StatusFeed()
        self.clock_trust = ClockTrustLog(clock, lambda: self.cfg.reminder.trust_clock)
        self.reporter = StatusReporter(
            self.engine, self.frames, self.clock_trust, self.feed, self.notifier, hardware.kind
        )
        self.reconfig = Reconfigurer(self)
        self.requests = RequestHandlers(self)
        self.history = history
        trusted = self.clock_trust.trusted
        recorder = HistoryRecorder(history.submit, trusted) if history is not None else None
        self.records = Records(self.engine, state, recorder, self.frames.report)
        if history is not None:
            history.on_change = lambda: self.feed.publish({"kind": "history"})
        #: Whether the wall clock was synchronised at the last schedule check.
        self.synced = clock.synchronized()
        self._stopping_at: float | None = None
        self._next_frame = 0.0
        self._next_check = 0.0

    @property
    def stopping(self) -> bool:
        return self._stopping_at is not None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Clear the ring, open the control socket, tell systemd we are ready."""
        self.frames.show(bytes(3 * self.cfg.ring.pixels), self.clock.monotonic())
        with loop_signals_blocked():
            if self.history is not None:
                self.history.start()
            if self.server is not None:
                self.server.start()
            # Its thread hands readings to the loop's queue; a missing device never stops us.
            self.sensor = self.open_sensor(self.cfg.breath_sensor, self.inbox.put)
        self.notifier.ready()
        self.frames.audio_idle(self.clock.monotonic(), self.cfg.audio.idle_close_seconds)
        on = "on" if self.engine.controller.reminders_enabled else "off"
        log.info(
            "ready: %d pixels, %s hardware, reminders %s", self.cfg.ring.pixels, self.hw.kind, on
        )
        self.reporter.update_systemd(read(self.clock))
        self.clock_trust()

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Safe from a signal handler: the loop picks it up at once."""
        self.inbox.put(Stop(signum))

    def close(self) -> None:
        """LEDs off, audio and socket closed; never raises."""
        self.notifier.stopping()
        if self.server is not None:
            try:
                self.server.close()
            except Exception:
                log.exception("closing the control socket failed")
        self.feed.close()
        if self.sensor is not None:
            try:
                self.sensor.close()
            except Exception:
                log.exception("closing the breath sensor failed")
        self.hw.close()
        self.records.close(self.history, self.clock.wall())
        self.notifier.close()

    def run(self) -> int:
        """Loop until SIGTERM/SIGINT; returns the exit code."""
        try:
            self.start()
            while not self.step():
                pass
            return EXIT_OK
        finally:
            self.close()
            log.info("stopped; the ring is dark")

    def reload(self) -> bool:
        """SIGHUP: re-read the config and settings.toml (reconfig.py)."""
        return self.reconfig.reload()

    def status(self, now: Now, synced: bool | None = None) -> dict[str, object]:
        """Every status field; `synced` saves asking the clock again."""
        return self.reporter.status(now, synced)

    # ----------------------------------------------------------------- loop

    def step(self) -> bool:
        """One pass: wait for input or the next deadline, then act. True: stop."""
        now_mono = self.clock.monotonic()
        item = self.wait(max(self._next_deadline(now_mono) - now_mono, 0.0))
        now = read(self.clock)
        restart = False
        while item is not None:
            restart |= self._handle(item, now)
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                item = None
        for gesture in self.decoder.poll(now.mono):
            restart |= self.gesture(gesture, now)
        if now.mono >= self._next_check:
            restart |= self._check_reminder(now)
        # The same sum as the deadline in _next_deadline, so reaching it always stops.
        if self._stopping_at is not None and (
            not self.engine.active or now.mono >= self._stopping_at + SHUTDOWN_LIMIT_S
        ):
            return True
        if self.engine.active and (restart or now.mono >= self._next_frame):
            self._frame(now, restart)
        elif now.mono >= self._next_frame and self.frames.retry(now.mono):
            self._next_frame = now.mono + RING_RETRY_S
        self.frames.audio_nap(now.mono, self.engine.active)
        self.observe(now)
        self.notifier.watchdog(now.mono)
        return False

    def _next_deadline(self, now_mono: float) -> float:
        deadlines = [self._next_check]
        if self.engine.active or self.frames.ring_failed:
            deadlines.append(self._next_frame)
        hold = self.decoder.next_deadline()
        if hold is not None:
            deadlines.append(hold)
        ping = self.notifier.next_watchdog_deadline()
        if ping is not None:
            deadlines.append(ping)
        if self._stopping_at is not None:
            deadlines.append(self._stopping_at + SHUTDOWN_LIMIT_S)
        if self.frames.audio_sleep_at is not None:
            deadlines.append(self.frames.audio_sleep_at)
        rate = self.reporter.rate_deadline()
        if rate is not None:
            deadlines.append(rate)
        return min(deadlines)

    def _frame(self, now: Now, restart: bool) -> None:
        interval = self.engine.frame_interval
        due = now.mono if restart else self._next_frame
        rendered = self.frames.render(self.engine, now)
        if rendered is None:
            self._next_frame = now.mono + interval
            return
        self.frames.send(rendered, now, due, interval)
        tick = rendered.tick
        self.frames.play(self.cfg, self.engine.controller, tick, now)
        for event in tick.events:
            self.records.event(event)
        if tick.events or tick.cues or not self.engine.active:
            self.reporter.update_systemd(now)
        # Keep to the frame grid (no drift); after a stall, skip ahead rather than rush.
        self._next_frame = due + interval
        if self._next_frame < now.mono:
            self._next_frame = now.mono + interval
        if not self.engine.active:
            self.frames.log_timing(self.cfg.ring.fps)
            self.frames.audio_idle(now.mono, self.cfg.audio.idle_close_seconds)

    # ---------------------------------------------------------------- input

    def _handle(self, item: object, now: Now) -> bool:
        if isinstance(item, ButtonEvent):
            if item.kind == DOWN and self._stopping_at is None:
                self.frames.audio_wake(
                    now.mono, self.cfg.audio.idle_close_seconds
                )  # cue at release
            restart = False
            # A press from the button is "held" until its release: if it becomes a
            # hold, its session never plays `start`.
            for gesture in self.decoder.feed(item):
                restart |= self.gesture(gesture, now, held=item.kind == DOWN)
            if item.kind == UP and self._stopping_at is None:
                self.engine.release(now)
            return restart
        if isinstance(item, ControlRequest):
            return self.requests.handle(item, now)
        if isinstance(item, BreathReading):  # from a breath sensor's reader thread
            self.breath_reading(item)
            return False
        if isinstance(item, Stop):
            return self._signal(item.signum, now)
        if isinstance(item, Wake):  # the signal's handler runs (or has run) in this thread
            return False
        log.warning("ignored an unknown item in the queue: %r", item)
        return False

    def gesture(
        self, gesture: str, now: Now, source: str = SOURCE_BUTTON, held: bool = False
    ) -> bool:
        """`held`: a press from a button still down (its `start` waits for the release)."""
        if self._stopping_at is not None:
            return False
        log.debug("gesture: %s (%s)", gesture, source)
        self.frames.audio_wake(
            now.mono, self.cfg.audio.idle_close_seconds, at_once=source != SOURCE_BUTTON
        )
        self.feed.publish({"kind": "gesture", "gesture": gesture, "source": source})
        during_pulse = self.engine.controller.state == PULSE_STATE
        self.engine.gesture(gesture, now, held)
        self.observe(now, trigger_for(gesture, source == SOURCE_BUTTON, during_pulse), during_pulse)
        return True

    def breath_reading(self, reading: BreathReading) -> None:
        """A measured breathing rate: kept for the next session's start and for status.

        No frame and no sound: the light and a running session do not change; watchers
        hear of it after this step, rounded and throttled (status.py).
        """
        if not self.engine.controller.breath_reading(reading):
            log.debug("breath rate %r not kept (implausible or older)", reading)

    def _signal(self, signum: int, now: Now) -> bool:
        if signum == signal.SIGHUP:
            self.reload()
            return False
        if self._stopping_at is None:
            log.info("%s: fading out and stopping", signal.Signals(signum).name)
            self._stopping_at = now.mono
            self.notifier.stopping()
            self.records.stopping()
            # A session fades out quickly; a pulse or blink simply ends (next frame dark).
            self.engine.controller.stop(now, fade_s=SHUTDOWN_FADE_S)
            self.hw.audio.stop()
        return True

    def _check_reminder(self, now: Now) -> bool:
        check = check_reminder(self.engine, self.clock_trust, self.records, self.frames.report, now)
        if check.synced is not None:
            self.synced = check.synced
        self._next_check = check.next_check
        if check.started:
            self.frames.audio_wake(now.mono, self.cfg.audio.idle_close_seconds, at_once=True)
        return check.started

    def observe(self, now: Now, trigger: str | None = None, during_pulse: bool = False) -> None:
        """After every step: history rows for what happened, status lines for watchers."""
        self.records.observe(now, trigger, during_pulse)
        self.reporter.publish(now, self.synced)


def _waiter(inbox: queue.SimpleQueue[Any]) -> Callable[[float], object | None]:
    """Blocks on the loop's queue until an item arrives or `timeout` seconds pass."""

    def wait(timeout: float) -> object | None:
        try:
            return inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    return wait


def _sensor_opener(clock: Clock) -> SensorOpener:
    """Opens a serial breath sensor's reader (hw/breath_sensor); None for other kinds."""

    def open_sensor(settings: Any, deliver: Callable[[BreathReading], object]) -> Closeable | None:
        from ..hw.breath_sensor import open_sensor as open_serial_sensor

        return open_serial_sensor(settings, deliver, clock)

    return open_sensor


def _audio_opener(kind: str, clock: Clock) -> Callable[[Any], Audio]:
    """How this kind of hardware opens its audio for an [audio] section."""

    def open_audio(settings: Any) -> Audio:
        return open_audio_for(kind, settings, clock, log)

    return open_audio
