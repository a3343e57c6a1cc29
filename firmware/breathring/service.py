"""`breathring run`: the headless service loop.

One thread owns all state. It blocks on one queue (button edges from
gpiozero's thread, requests from the control socket, signals) with a timeout
equal to the next deadline: the next frame while the light changes, else the
next hold check, schedule check or watchdog ping. Idle and dark, it sleeps.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from .clock import Clock, ClockTrust, Now, SystemClock, clock_trust, read
from .config import Config, ConfigError, config_path_from, load_config, session_pattern
from .control_socket import (
    ControlError,
    ControlRequest,
    ControlServer,
    check_not_running,
    error_reply,
    ok_reply,
    socket_path_from,
)
from .controller import PULSE, Controller, Tick
from .engine import WALL_RECHECK_S, Engine
from .exitcodes import EXIT_OK
from .gestures import DOUBLE, DOWN, HOLD, PRESS, UP, ButtonEvent, GestureDecoder
from .history_recorder import (
    BUTTON,
    HISTORY_FILE,
    REMOTE,
    HistoryRecorder,
    HistoryWorker,
    open_history,
)
from .hw import Audio, HardwareUnavailable
from .hw.selection import Hardware, open_audio_for, open_hardware
from .patterns import CUSTOM, PRESETS
from .session import GUIDE_FOR_PHASE
from .settings import (
    CODE_INVALID,
    CODE_RESTART,
    RESTART_KEYS,
    SettingError,
    Settings,
    SettingsFile,
    config_file_keys,
    wire_value,
)
from .state import DeviceState, StateStore, state_dir_from
from .status_feed import StatusFeed
from .systemd import Notifier

log = logging.getLogger("breathring.service")

#: On SIGTERM/SIGINT the ring fades out this fast, so the process exits within 1 s.
SHUTDOWN_FADE_S = 0.35
SHUTDOWN_LIMIT_S = 0.6
#: Frame errors are logged at most once per this many seconds (the rest counted).
ERROR_LOG_INTERVAL_S = 30.0
#: After a failed ring write while idle, retry the last frame this often.
RING_RETRY_S = 1.0
#: [audio] keys applied by closing and reopening the audio (the mixer); the others
#: (volume, guide_tone) are read at every cue and apply at once. Of these, only
#: audio.enabled changes while running: the rest are restart keys (settings.RESTART_KEYS).
AUDIO_REOPEN_KEYS = ("enabled", "driver", "device", "cues_dir", "buffer_samples")
#: [button] keys of the gesture decoder: a reload or set keeps the decoder (and a
#: press or hold in progress) unless one of these changes.
DECODER_KEYS = ("hold_seconds", "double_seconds", "bounce_seconds")
#: Stray signals whose default action would end the process without turning the LEDs off.
IGNORED_SIGNALS = (signal.SIGUSR1, signal.SIGUSR2)
#: Guide tones of this many phases ahead are rendered in the background.
GUIDE_LOOKAHEAD = 2
#: Keys that need the hardware re-opened (settings.RESTART_KEYS), by section: a reload
#: keeps their old values and `set` refuses them.
RESTART_KEYS_BY_SECTION = tuple(
    (section, tuple(k.partition(".")[2] for k in RESTART_KEYS if k.startswith(section + ".")))
    for section in dict.fromkeys(k.partition(".")[0] for k in RESTART_KEYS)
)
#: Status fields whose change is sent to watchers (not elapsed/remaining ticking).
WATCHED_FIELDS = (
    "state",
    "phase",
    "breath",
    "pattern",
    "next_pattern",
    "reminders",
    "night",
    "clock_synchronized",
)
#: A frame sent more than this many frame intervals after its deadline counts as late.
LATE_FRAME_INTERVALS = 1.0
#: Where a gesture came from, as watchers see it.
SOURCE_BUTTON = "button"
SOURCE_SOCKET = "socket"


#: Signals the loop handles. Threads are started with them blocked: a signal taken by another
#: thread would only be noticed at the loop's next wake-up (up to a minute when idle).
LOOP_SIGNALS = frozenset({signal.SIGTERM, signal.SIGINT, signal.SIGHUP})


@contextlib.contextmanager
def loop_signals_blocked() -> Iterator[None]:
    """Threads started inside inherit a mask without LOOP_SIGNALS; the caller's mask is restored."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, LOOP_SIGNALS)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


@dataclass(frozen=True)
class _Signal:
    signum: int


@dataclass(frozen=True)
class _Wake:
    """A signal arrived: wakes the loop so that Python runs the signal's handler at once."""


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
        settings: Settings | None = None,
        history: HistoryWorker | None = None,
        audio_opener: Callable[[Any], Audio] | None = None,
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
        self._clock_trust: ClockTrust | None = None
        self.frames = 0
        #: Frames sent while the light changed, and those sent late (status, once per session).
        self.timing = FrameTiming()
        #: The total light of the last frame sent (the sum of its wire bytes; 0 = dark).
        self.light = 0
        #: Watchers of the `watch` stream; history rows written off the loop.
        self.feed = StatusFeed()
        self.history = history
        self.recorder = HistoryRecorder(history.submit) if history is not None else None
        if history is not None:
            history.on_change = lambda: self.feed.publish({"kind": "history"})
        self._synced = clock.synchronized()
        self._watched: tuple[object, ...] | None = None

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Clear the ring, open the control socket, tell systemd we are ready."""
        self._show(bytes(3 * self.cfg.ring.pixels), self.clock.monotonic())
        with loop_signals_blocked():
            if self.history is not None:
                self.history.start()
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
        self.clock_trust()

    def clock_trust(self, synced: bool | None = None) -> ClockTrust:
        """Whether the wall clock may pace the pulses; one log line at start and on each change.

        `synced` saves asking the clock again.
        """
        if synced is None:
            synced = self.clock.synchronized()
        trust = clock_trust(synced, self.cfg.reminder.trust_clock, self.clock.has_rtc())
        previous = self._clock_trust
        if previous is None or (previous.synchronized, previous.trusted) != (
            trust.synchronized,
            trust.trusted,
        ):
            level = logging.INFO if trust.trusted else logging.WARNING
            log.log(level, trust.log_line())
        self._clock_trust = trust
        return trust

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
        self.feed.close()
        self.hw.close()
        if self.history is not None:
            try:
                if self.recorder is not None:
                    self.recorder.close(self.clock.wall())
                self.history.close()
            except Exception:
                log.exception("closing the history failed")
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
        self._observe(now)
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
        due = now.mono if restart else self._next_frame
        try:
            rendered = self.engine.render(now)
        except Exception:
            self.report("frame", now.mono, "a frame failed; going on")
            self._next_frame = now.mono + interval
            return
        self._show(rendered.wire, now.mono)
        self.frames += 1
        self.timing.sent(self.clock.monotonic() - due > LATE_FRAME_INTERVALS * interval)
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
            self._log_timing()

    def _log_timing(self) -> None:
        """One line when the light stops changing: how many of its frames were late."""
        sent, late = self.timing.since_mark()
        if sent:
            log.info(
                "frames: %d sent, %d late (%.1f %%) at %g fps",
                sent,
                late,
                100.0 * late / sent,
                self.cfg.ring.fps,
            )

    def _show(self, wire: bytes, mono: float) -> None:
        self._last_wire = wire
        self.light = sum(wire)
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
        if not self.cfg.audio.enabled:  # `set audio.enabled false` mutes at once
            return
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
        if isinstance(item, _Wake):  # the signal's handler runs (or has run) in this thread
            return False
        log.warning("ignored an unknown item in the queue: %r", item)
        return False

    def _gesture(
        self, gesture: str, now: Now, source: str = SOURCE_BUTTON, held: bool = False
    ) -> bool:
        """`held`: a press from a button still down (its `start` waits for the release)."""
        if self._stopping_at is not None:
            return False
        log.debug("gesture: %s (%s)", gesture, source)
        self.feed.publish({"kind": "gesture", "gesture": gesture, "source": source})
        during_pulse = self.engine.controller.state == PULSE
        trigger = BUTTON if source == SOURCE_BUTTON else REMOTE
        if gesture == DOUBLE:
            trigger = "double"
        elif during_pulse and gesture == PRESS:
            trigger = "pulse"
        self.engine.gesture(gesture, now, held)
        self._observe(now, trigger, during_pulse)
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
            if cmd in ("set", "unset", "settings", "stats", "history-clear", "watch"):
                return self._control_more(request, now)
            if cmd in ("press", "hold"):
                restart = self._gesture(PRESS if cmd == "press" else HOLD, now, SOURCE_SOCKET)
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
                during_pulse = controller.state == PULSE
                controller.start_session(now, pattern=pattern)
                self._observe(now, request.request.trigger, during_pulse)
                restart = True
            elif cmd == "stop":
                restart = controller.stop(now)
            elif cmd == "reminders":
                controller.set_reminders(request.request.value == "on", now, keep_session=True)
                restart = True
            request.reply(ok_reply(**self.status(now)))
        except Exception as exc:  # a bad request must never stop the device
            log.exception("control request %s failed", cmd)
            request.reply(error_reply(f"{cmd} failed: {exc}"))
        return restart

    def _check_reminder(self, now: Now) -> bool:
        was_active = self.engine.active
        try:
            trust = self.clock_trust()
            self._synced = trust.synchronized
            changed = self.engine.check_reminder(now, trust.trusted)
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

    def status(self, now: Now, synced: bool | None = None) -> dict[str, object]:
        """Every status field (PROTOCOL.md); `synced` saves asking the clock again."""
        out = self.engine.controller.status(now)
        out["next_pulse"] = None
        if self.engine.controller.reminders_enabled:
            try:
                out["next_pulse"] = self.engine.schedule.next_deadline(
                    now.wall, self.engine.last_pulse
                ).isoformat(timespec="minutes")
            except Exception:  # e.g. a wall clock near year 9999: no next pulse to tell
                out["next_pulse"] = None
        trust = self.clock_trust(synced)
        out["clock_synchronized"] = trust.synchronized
        out["clock_trusted"] = trust.trusted
        out["clock_reason"] = trust.reason or None
        out["hardware"] = self.hw.kind
        out["frames_sent"] = self.timing.frames_sent
        out["frames_late"] = self.timing.frames_late
        out["late_frames_pct"] = self.timing.late_pct()
        out["light"] = self.light
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
        """SIGHUP: re-read the config and settings.toml; a bad file leaves the old one in force."""
        try:
            new = load_config(self.config_path)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            return False
        base = new
        kept = []
        for section, names in RESTART_KEYS_BY_SECTION:
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
        old_settings = (self.settings.base, self.settings.config_keys)
        new = self.settings.rebase(new, config_file_keys(self.config_path))
        del base
        try:
            self.engine.reconfigure(new)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            self.settings.rebase(*old_settings)
            return False
        self._apply(new)
        log.info("configuration reloaded from %s", self.config_path or "defaults")
        self.feed.publish({"kind": "settings"})
        return True

    def _apply(self, new: Config) -> None:
        """Make `new` the running config (the engine has taken it already)."""
        old = self.cfg
        self.cfg = new
        if any(getattr(old.button, k) != getattr(new.button, k) for k in DECODER_KEYS):
            self.decoder = _decoder(new)  # else: keep a press or hold in progress
        self._apply_audio(old, new)

    # ------------------------------------------------- settings, history, watch

    def _control_more(self, request: ControlRequest, now: Now) -> bool:
        """The requests of the settings, history and watch additions (PROTOCOL.md)."""
        req = request.request
        cmd = req.cmd
        if cmd == "settings":
            request.reply(
                ok_reply(settings=self.settings.listing(), restart_keys=list(RESTART_KEYS))
            )
        elif cmd in ("set", "unset"):
            try:
                reply = self._set(req.key, req.value, now) if cmd == "set" else self._unset(req.key)
            except SettingError as exc:
                reply = {**error_reply(exc.message), "key": exc.key, "code": exc.code}
            request.reply(reply)
            return cmd == "set" or reply.get("ok", False)
        elif cmd == "stats":
            self._stats(request, req.days, now)
        elif cmd == "history-clear":
            self._history_clear(request)
        elif cmd == "watch":
            self._observe(now)  # watchers already there hear of changes first
            status = self.status(now, self._synced)
            if request.watcher is not None and self.feed.add(
                request.watcher, {"kind": "status", "status": status}
            ):
                self._watched = tuple(status[k] for k in WATCHED_FIELDS)
                request.reply(ok_reply())
            else:
                request.reply(error_reply("too many watchers; close one and try again"))
        return False

    def _set(self, key: str | None, value: object, now: Now) -> dict[str, object]:
        key, new = self.settings.proposed_set(key, value)
        self._reconfigure_checked(key, new, f"{key} = {value!r}")
        try:
            self.settings.commit_set(key, new)
        except OSError as exc:
            self.engine.reconfigure(self.cfg)  # back to what is saved
            raise SettingError(
                f"cannot save {key} to {self._settings_path()}: {exc.strerror or exc}; "
                "nothing changed",
                key,
                "storage",
            ) from None
        controller = self.engine.controller
        enabled = new.reminder.enabled
        if key == "reminder.enabled" and isinstance(enabled, bool):
            if enabled != controller.reminders_enabled:  # a remote switch: a session runs on
                controller.set_reminders(enabled, now, keep_session=True)
            self._save()
        self._apply(new)
        log.info("setting %s = %r", key, wire_value(new, key))
        self.feed.publish({"kind": "settings"})
        return ok_reply(key=key, value=wire_value(new, key))

    def _unset(self, key: str | None) -> dict[str, object]:
        key, new, overrides = self.settings.proposed_unset(key)
        if key in RESTART_KEYS:
            return ok_reply(key=key, value=wire_value(self.cfg, key))
        self._reconfigure_checked(key, new, f"unset {key}")
        try:
            self.settings.commit_unset(new, overrides)
        except OSError as exc:
            self.engine.reconfigure(self.cfg)
            raise SettingError(
                f"cannot save settings to {self._settings_path()}: {exc.strerror or exc}; "
                "nothing changed",
                key,
                "storage",
            ) from None
        self._apply(new)
        log.info("setting %s unset (now %r)", key, wire_value(new, key))
        self.feed.publish({"kind": "settings"})
        return ok_reply(key=key, value=wire_value(new, key))

    def _reconfigure_checked(self, key: str, new: Config, what: str) -> None:
        """Hand `new` to the engine; a config it refuses (e.g. no pulse slot) is invalid."""
        for section, names in RESTART_KEYS_BY_SECTION:
            for name in names:
                old_part, new_part = getattr(self.cfg, section), getattr(new, section)
                if getattr(new_part, name) != getattr(old_part, name):
                    raise SettingError(
                        f"{what} would change {section}.{name}, which needs a restart",
                        key,
                        CODE_RESTART,
                    )
        try:
            self.engine.reconfigure(new)
        except ConfigError as exc:
            self.engine.reconfigure(self.cfg)
            raise SettingError(f"{key}: {exc}", key, CODE_INVALID) from None

    def _settings_path(self) -> str:
        store = self.settings.store
        return str(store.path) if store is not None else "settings.toml"

    def _stats(self, request: ControlRequest, days: int, now: Now) -> None:
        if self.history is None:
            request.reply(error_reply("the history is not kept by this service"))
            return
        today, tz = now.wall.date(), now.wall.tzinfo
        assert tz is not None

        def answer(result: object, error: str | None) -> None:
            if error is not None:
                request.reply(error_reply(error))
            else:
                request.reply(ok_reply(stats=result))

        self.history.query(lambda h: h.stats(today, days, tz), answer)

    def _history_clear(self, request: ControlRequest) -> None:
        if self.history is None:
            request.reply(error_reply("the history is not kept by this service"))
            return
        feed = self.feed

        def answer(_result: object, error: str | None) -> None:
            if error is not None:
                request.reply(error_reply(f"the history was not cleared: {error}"))
                return
            request.reply(ok_reply())
            feed.publish({"kind": "history"})

        self.history.query(lambda h: h.clear(), answer)

    def _observe(self, now: Now, trigger: str | None = None, during_pulse: bool = False) -> None:
        """After every step: history rows for what happened, status lines for watchers."""
        controller = self.engine.controller
        if self.recorder is not None:
            try:
                self.recorder.observe(
                    controller.session_view(now),
                    controller.pulses_shown,
                    now.wall,
                    trigger,
                    during_pulse,
                )
            except Exception:
                self.report("history", now.mono, "recording the history failed")
        if not len(self.feed):
            self._watched = None
            return
        self._publish_status(now)

    def _publish_status(self, now: Now) -> None:
        status = self.status(now, self._synced)
        watched = tuple(status[k] for k in WATCHED_FIELDS)
        if watched != self._watched:
            self._watched = watched
            self.feed.publish({"kind": "status", "status": status})

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
        kind = GUIDE_FOR_PHASE.get(segment.phase)
        if kind is not None:
            audio.play_guide(kind, segment.seconds, volume)
    prepare = getattr(audio, "prepare_guide", None)
    if prepare is not None:
        for segment in controller.upcoming(now, GUIDE_LOOKAHEAD):
            kind = GUIDE_FOR_PHASE.get(segment.phase)
            if kind is not None:
                prepare(kind, segment.seconds)


def _audio_opener(kind: str, clock: Clock) -> Callable[[Any], Audio]:
    """How this kind of hardware opens its audio for an [audio] section."""

    def open_audio(settings: Any) -> Audio:
        return open_audio_for(kind, settings, clock, log)

    return open_audio


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
    _wake_on_signals(service)


def _wake_on_signals(service: Service) -> None:
    """Wake the loop when a signal arrives, whichever thread takes it and whenever.

    Python runs a handler only in the main thread, between bytecodes: a signal that
    lands just before the loop goes to sleep on its queue would wait for the next
    deadline (up to a minute). The C-level handler writes a byte to the wake-up
    pipe; a small thread turns it into a queue item.
    """
    read_fd, write_fd = os.pipe2(os.O_CLOEXEC)
    os.set_blocking(write_fd, False)
    signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)

    def relay() -> None:
        while True:
            try:
                if not os.read(read_fd, 64):
                    return
            except OSError:
                return
            service.inbox.put(_Wake())

    with loop_signals_blocked():
        threading.Thread(target=relay, name="breathring-signals", daemon=True).start()


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
    file_cfg = load_config(config_path)
    Engine(file_cfg)  # validate everything the engine derives (e.g. the schedule) before hardware
    state_dir = state_dir_from(env)
    settings = Settings(file_cfg, SettingsFile(state_dir), config_file_keys(config_path))
    cfg = settings.load()
    try:
        Engine(cfg)
    except ConfigError as exc:  # settings.toml and the config file do not fit together
        log.warning("ignoring the saved settings: %s; using the config file", exc)
        settings.overrides, settings.effective = {}, file_cfg
        cfg = file_cfg
    socket_path = socket_path_from(socket_arg, env)
    try:
        # Before the hardware: a second service must not blank the running one's ring.
        check_not_running(socket_path)
    except ControlError as exc:
        raise HardwareUnavailable(str(exc)) from None
    with loop_signals_blocked():  # the button's callback threads, too
        hardware = open_hardware(cfg, hardware_mode, clock, log)
    service = Service(
        cfg,
        hardware,
        clock,
        config_path=config_path,
        state=StateStore(state_dir),
        notifier=Notifier.from_env(env),
        socket_path=socket_path,
        settings=settings,
        history=HistoryWorker(open_history(state_dir / HISTORY_FILE)),
    )
    install_signal_handlers(service)
    try:
        return service.run()
    except ControlError as exc:  # e.g. another breathring answers on the socket: 69, one line
        raise HardwareUnavailable(str(exc)) from None


__all__ = ["Service", "run"]
