"""`breathring run`: the headless service loop.

One thread owns all state. It blocks on one queue (button edges from
gpiozero's thread, requests from the control socket, signals) with a timeout
equal to the next deadline: the next frame while the light changes, else the
next hold check, schedule check or watchdog ping. Idle and dark, it sleeps.
"""

from __future__ import annotations

import logging
import os
import queue
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .clock import Clock, Now, SystemClock, read
from .config import Config, ConfigError, config_path_from, load_config, session_pattern
from .control import (
    ControlError,
    ControlRequest,
    ControlServer,
    check_not_running,
    error_reply,
    ok_reply,
    socket_path_from,
)
from .controller import HOLD, PRESS, Controller, Tick
from .engine import WALL_RECHECK_S, Engine
from .gestures import DOWN, UP, ButtonEvent, GestureDecoder
from .hw import Audio, HardwareUnavailable
from .hw.select import Hardware, open_hardware
from .patterns import CUSTOM, PRESETS
from .session import CUE_FOR_PHASE
from .state import DeviceState, StateStore, state_dir_from
from .systemd import Notifier

log = logging.getLogger("breathring.service")

#: On SIGTERM/SIGINT the ring fades out this fast, so the process exits within 1 s.
SHUTDOWN_FADE_S = 0.35
SHUTDOWN_LIMIT_S = 0.6
#: Frame errors are logged at most once per this many seconds (the rest counted).
ERROR_LOG_INTERVAL_S = 30.0
#: After a failed ring write while idle, retry the last frame this often.
RING_RETRY_S = 1.0
#: Keys that need the hardware re-opened: a reload keeps their old values.
RESTART_KEYS = (("ring", ("pixels", "order", "pin", "driver")), ("button", ("pin",)))
#: [audio] keys a reload applies by closing and reopening the audio (the mixer);
#: the others (volume, guide_tone) are read at every cue and apply at once.
AUDIO_REOPEN_KEYS = ("enabled", "driver", "device", "cues_dir", "buffer_samples")
#: [button] keys of the gesture decoder: a reload keeps the decoder (and a press
#: or hold in progress) unless one of these changes.
DECODER_KEYS = ("hold_seconds", "double_seconds", "bounce_seconds")
#: Stray signals whose default action would end the process without turning the LEDs off.
IGNORED_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)
#: Guide tones of this many phases ahead are rendered in the background.
GUIDE_LOOKAHEAD = 2
GUIDED_PHASES = {"inhale": "inhale", "exhale": "exhale", "hold-in": "hold", "hold-out": "hold"}


@dataclass(frozen=True)
class _Signal:
    signum: int


class RateLimitedLog:
    """Logs one message per interval per key; counts what it held back."""

    def __init__(self, interval: float = ERROR_LOG_INTERVAL_S) -> None:
        self.interval = interval
        self._last: dict[str, float] = {}
        self._held: dict[str, int] = {}

    def __call__(
        self, key: str, mono: float, message: str, *args: object, expected: bool = False
    ) -> None:
        """Log the exception being handled; `expected` faults (a ring write) without a traceback."""
        last = self._last.get(key)
        if last is not None and mono - last < self.interval:
            self._held[key] = self._held.get(key, 0) + 1
            return
        held = self._held.pop(key, 0)
        suffix = f" ({held} more since the last report)" if held else ""
        if expected:
            error = sys.exc_info()[1]
            log.error(message + suffix + ": %s", *args, error)
        else:
            log.error(message + suffix, *args, exc_info=True)
        self._last[key] = mono


class Service:
    """The device: engine + hardware + control socket + systemd, on one loop."""

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
        audio_opener: Callable[[Any], Audio] | None = None,
    ) -> None:
        self.cfg = cfg
        self.hw = hardware
        self.clock = clock
        self.config_path = config_path
        self.store = state
        saved = state.load() if state is not None else DeviceState()
        self.engine = Engine(cfg, saved.reminders_enabled, saved.last_pulse)
        self.decoder = _decoder(cfg)
        self.notifier = notifier or Notifier()
        self.inbox: queue.SimpleQueue[Any] = hardware.button.events
        #: Blocks until an item arrives or `timeout` seconds pass (tests inject virtual time).
        self.wait = wait or self._wait_on_queue
        #: Opens the audio for an [audio] section (a reload that changes it).
        self.open_audio = audio_opener or _audio_opener(hardware.kind, clock)
        self.server = ControlServer(socket_path, self.inbox) if socket_path else None
        self.report = RateLimitedLog()
        self._stopping_at: float | None = None
        self._next_frame = 0.0
        self._next_check = 0.0
        self._ring_failed = False
        self._last_wire: bytes | None = None
        self._status = ""
        self.frames = 0

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Clear the ring, open the control socket, tell systemd we are ready."""
        self._show(bytes(3 * self.cfg.ring.pixels), self.clock.monotonic())
        if self.server is not None:
            self.server.start()
        self.notifier.ready()
        log.info(
            "ready: %d pixels, %s hardware, reminders %s",
            self.cfg.ring.pixels,
            self.hw.kind,
            "on" if self.engine.controller.reminders_enabled else "off",
        )
        self._update_status(read(self.clock))

    def request_stop(self, signum: int = signal.SIGTERM) -> None:
        """Safe from a signal handler: the loop picks it up at once."""
        self.inbox.put(_Signal(signum))

    def close(self) -> None:
        """LEDs off, audio and socket closed; never raises."""
        self.notifier.stopping()
        if self.server is not None:
            try:
                self.server.close()
            except Exception:
                log.exception("closing the control socket failed")
        self.hw.close()
        self.notifier.close()

    def run(self) -> int:
        """Loop until SIGTERM/SIGINT; returns the exit code."""
        try:
            self.start()
            while not self.step():
                pass
            return 0
        finally:
            self.close()
            log.info("stopped; the ring is dark")

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
            restart |= self._gesture(gesture, now)
        if now.mono >= self._next_check:
            restart |= self._check_reminder(now)
        # The same sum as the deadline in _next_deadline, so reaching it always stops.
        if self._stopping_at is not None and (
            not self.engine.active or now.mono >= self._stopping_at + SHUTDOWN_LIMIT_S
        ):
            return True
        if self.engine.active and (restart or now.mono >= self._next_frame):
            self._frame(now, restart)
        elif self._ring_failed and self._last_wire is not None and now.mono >= self._next_frame:
            self._show(self._last_wire, now.mono)
            self._next_frame = now.mono + RING_RETRY_S
        self.notifier.watchdog(now.mono)
        return False

    def _wait_on_queue(self, timeout: float) -> object | None:
        try:
            return self.inbox.get(timeout=timeout)
        except queue.Empty:
            return None

    def _next_deadline(self, now_mono: float) -> float:
        deadlines = [self._next_check]
        if self.engine.active or self._ring_failed:
            deadlines.append(self._next_frame)
        hold = self.decoder.next_deadline()
        if hold is not None:
            deadlines.append(hold)
        ping = self.notifier.next_watchdog_deadline()
        if ping is not None:
            deadlines.append(ping)
        if self._stopping_at is not None:
            deadlines.append(self._stopping_at + SHUTDOWN_LIMIT_S)
        return min(deadlines)

    def _frame(self, now: Now, restart: bool) -> None:
        interval = self.engine.frame_interval
        try:
            rendered = self.engine.render(now)
        except Exception:
            self.report("frame", now.mono, "a frame failed; going on")
            self._next_frame = now.mono + interval
            return
        self._show(rendered.wire, now.mono)
        self.frames += 1
        tick = rendered.tick
        self._play(tick, now)
        for event in tick.events:
            self._event(event)
        if tick.events or tick.cues:
            self._update_status(now)
        # Keep to the frame grid (no drift); after a stall, skip ahead rather than rush.
        self._next_frame = (now.mono if restart else self._next_frame) + interval
        if self._next_frame < now.mono:
            self._next_frame = now.mono + interval
        if not self.engine.active:
            self._update_status(now)

    def _show(self, wire: bytes, mono: float) -> None:
        self._last_wire = wire
        try:
            self.hw.ring.show(wire)
        except OSError:
            self.report("ring", mono, "writing to the ring failed; will retry", expected=True)
            if not self._ring_failed:
                self._ring_failed = True
            return
        if self._ring_failed:
            log.info("the ring works again")
            self._ring_failed = False

    def _play(self, tick: Tick, now: Now) -> None:
        play_tick(self.hw.audio, self.engine.controller, tick, now, self.cfg.audio.guide_tone)

    # ---------------------------------------------------------------- input

    def _handle(self, item: object, now: Now) -> bool:
        if isinstance(item, ButtonEvent):
            restart = False
            # A press from the button is "held" until its release: if it becomes a
            # hold, its session never plays `start`.
            for gesture in self.decoder.feed(item):
                restart |= self._gesture(gesture, now, held=item.kind == DOWN)
            if item.kind == UP and self._stopping_at is None:
                self.engine.release(now)
            return restart
        if isinstance(item, ControlRequest):
            return self._control(item, now)
        if isinstance(item, _Signal):
            return self._signal(item.signum, now)
        log.warning("ignored an unknown item in the queue: %r", item)
        return False

    def _gesture(self, gesture: str, now: Now, held: bool = False) -> bool:
        if self._stopping_at is not None:
            return False
        log.debug("gesture: %s", gesture)
        self.engine.gesture(gesture, now, held)
        return True

    def _signal(self, signum: int, now: Now) -> bool:
        if signum == signal.SIGHUP:
            self.reload()
            return False
        if self._stopping_at is None:
            log.info("%s: fading out and stopping", signal.Signals(signum).name)
            self._stopping_at = now.mono
            self.notifier.stopping()
            # A session fades out quickly; a pulse or blink simply ends (next frame dark).
            self.engine.controller.stop(now, fade_s=SHUTDOWN_FADE_S)
            self.hw.audio.stop()
        return True

    def _control(self, request: ControlRequest, now: Now) -> bool:
        cmd = request.request.cmd
        controller = self.engine.controller
        restart = False
        try:
            if self._stopping_at is not None:
                request.reply(error_reply("the service is stopping"))
                return False
            if cmd in ("press", "hold"):
                restart = self._gesture(PRESS if cmd == "press" else HOLD, now)
            elif cmd == "start":
                name = request.request.pattern
                if name == CUSTOM and self.cfg.session.pattern != CUSTOM:
                    request.reply(
                        error_reply(
                            'pattern "custom" needs session.pattern = "custom" with '
                            "session.inhale and session.exhale in the configuration; "
                            f"allowed here: {', '.join(PRESETS)}"
                        )
                    )
                    return False
                pattern = PRESETS.get(name) if name and name != CUSTOM else None
                if name == CUSTOM:
                    pattern = session_pattern(self.cfg)
                controller.start_session(now, pattern=pattern)
                restart = True
            elif cmd == "stop":
                restart = controller.stop(now)
            elif cmd == "reminders":
                controller.set_reminders(request.request.value == "on", now)
                restart = True
            request.reply(ok_reply(**self.status(now)))
        except Exception as exc:  # a bad request must never stop the device
            log.exception("control request %s failed", cmd)
            request.reply(error_reply(f"{cmd} failed: {exc}"))
        return restart

    def _check_reminder(self, now: Now) -> bool:
        was_active = self.engine.active
        try:
            changed = self.engine.check_reminder(now, self.clock.synchronized())
        except Exception:
            self.report("reminder", now.mono, "checking the reminder schedule failed")
            changed = False
        if changed:
            self._save()
        try:
            wait = self.engine.seconds_to_next_check(now)
        except Exception:  # e.g. a wall clock near year 9999: look again later, never crash
            self.report("reminder", now.mono, "checking the reminder schedule failed")
            wait = WALL_RECHECK_S
        self._next_check = now.mono + max(wait, self.engine.frame_interval)
        return self.engine.active and not was_active

    # --------------------------------------------------------------- output

    def _event(self, event: str) -> None:
        name, _, detail = event.partition(":")
        messages = {
            "session-started": f"session started ({detail})",
            "session-long": "double press: the long session",
            "session-finished": "session finished",
            "session-cancelled": "session cancelled",
            "pulse-shown": "hourly pulse shown",
            "reminders-on": "reminders turned on",
            "reminders-off": "reminders turned off",
        }
        log.info(messages.get(name, event))
        if name in ("reminders-on", "reminders-off"):
            self._save()

    def _save(self) -> None:
        if self.store is None:
            return
        state = DeviceState(self.engine.controller.reminders_enabled, self.engine.last_pulse)
        self.store.save(state)

    def status(self, now: Now) -> dict[str, object]:
        out = self.engine.controller.status(now)
        if self.engine.controller.reminders_enabled:
            out["next_pulse"] = self.engine.schedule.next_deadline(
                now.wall, self.engine.last_pulse
            ).isoformat(timespec="minutes")
        out["clock_synchronized"] = self.clock.synchronized()
        out["hardware"] = self.hw.kind
        return out

    def _update_status(self, now: Now) -> None:
        info = self.engine.controller.status(now)
        state = info["state"]
        if state == "session":
            text = f"session {info['pattern']}: breath {info['breath']}/{info['breaths']}"
        else:
            text = f"{state}; reminders {'on' if info['reminders'] else 'off'}"
        if text != self._status:
            self._status = text
            self.notifier.status(text)

    # --------------------------------------------------------------- config

    def reload(self) -> bool:
        """SIGHUP: re-read the config; a bad file leaves the old one in force."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            return False
        kept = []
        for section, names in RESTART_KEYS:
            old_part, new_part = getattr(self.cfg, section), getattr(new, section)
            changes = {
                n: getattr(old_part, n)
                for n in names
                if getattr(old_part, n) != getattr(new_part, n)
            }
            if changes:
                kept += [f"{section}.{n}" for n in changes]
                new = replace(new, **{section: replace(new_part, **changes)})
        if kept:
            log.warning("%s take effect after a restart", ", ".join(kept))
        try:
            self.engine.reconfigure(new)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            return False
        old = self.cfg
        self.cfg = new
        if any(getattr(old.button, k) != getattr(new.button, k) for k in DECODER_KEYS):
            self.decoder = _decoder(new)  # else: keep a press or hold in progress
        self._apply_audio(old, new)
        log.info("configuration reloaded from %s", self.config_path or "defaults")
        return True

    def _apply_audio(self, old: Config, new: Config) -> None:
        """Log what changed in [audio]; reopen the audio when the device settings changed."""
        changed = [
            f.name
            for f in fields(new.audio)
            if getattr(old.audio, f.name) != getattr(new.audio, f.name)
        ]
        if not changed:
            return
        log.info(
            "audio: %s",
            ", ".join(
                f"audio.{k} {getattr(old.audio, k)!r} -> {getattr(new.audio, k)!r}" for k in changed
            ),
        )
        if not any(k in AUDIO_REOPEN_KEYS for k in changed):
            return
        try:
            self.hw.audio.stop()
            self.hw.audio.close()
        except Exception:  # the old device may be gone already
            log.exception("closing the audio failed")
        self.hw.audio = self.open_audio(new.audio)
        log.info("audio reopened: %s", "on" if self.hw.audio.available else "off (silent)")


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
        kind = GUIDED_PHASES.get(segment.phase)
        if kind is not None:
            audio.play_guide(kind, segment.seconds, volume)
    prepare = getattr(audio, "prepare_guide", None)
    if prepare is not None:
        for segment in controller.upcoming(now, GUIDE_LOOKAHEAD):
            kind = GUIDED_PHASES.get(segment.phase)
            if kind is not None:
                prepare(kind, segment.seconds)


def _audio_opener(kind: str, clock: Clock) -> Callable[[Any], Audio]:
    """How this kind of hardware opens its audio for an [audio] section."""

    def open_pi_audio(settings: Any) -> Audio:
        from .hw.audio import open_audio

        return open_audio(settings, clock, log)

    def open_mock_audio(settings: Any) -> Audio:
        from .hw.mock import MockAudio

        return MockAudio(clock, available=settings.enabled)

    return open_pi_audio if kind == "pi" else open_mock_audio


def _decoder(cfg: Config) -> GestureDecoder:
    b = cfg.button
    return GestureDecoder(b.hold_seconds, b.double_seconds, b.bounce_seconds)


def install_signal_handlers(service: Service) -> None:
    """SIGTERM/SIGINT stop (with a quick fade), SIGHUP reloads, SIGUSR1/2 are ignored."""

    def handler(signum: int, _frame: object) -> None:
        service.request_stop(signum)

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, handler)
    # Their default action kills the process at once, leaving the ring lit: ignore them.
    for signum in IGNORED_SIGNALS:
        signal.signal(signum, signal.SIG_IGN)


def run(
    config_arg: str | None,
    hardware_mode: str,
    socket_arg: str | None = None,
    env: Mapping[str, str] = os.environ,
    clock: Clock | None = None,
) -> int:
    """Start the service; raises ConfigError (78) or HardwareUnavailable (69)."""
    clock = clock or SystemClock()
    config_path = config_path_from(config_arg, env)
    cfg = load_config(config_path)
    Engine(cfg)  # validate everything the engine derives (e.g. the schedule) before hardware
    socket_path = socket_path_from(socket_arg, env)
    try:
        # Before the hardware: a second service must not blank the running one's ring.
        check_not_running(socket_path)
    except ControlError as exc:
        raise HardwareUnavailable(str(exc)) from None
    hardware = open_hardware(cfg, hardware_mode, clock, log)
    service = Service(
        cfg,
        hardware,
        clock,
        config_path=config_path,
        state=StateStore(state_dir_from(env)),
        notifier=Notifier.from_env(env),
        socket_path=socket_path,
    )
    install_signal_handlers(service)
    try:
        return service.run()
    except ControlError as exc:  # e.g. another breathring answers on the socket: 69, one line
        raise HardwareUnavailable(str(exc)) from None


__all__ = ["CUE_FOR_PHASE", "Service", "run"]
