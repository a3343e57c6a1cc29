"""The bridge: the service's watch stream -> MQTT state; MQTT commands -> socket requests.

Threads:
- the caller's thread runs `Bridge.run()`: it holds the watch connection to the
  service (reconnecting with backoff while the service is away) and publishes
  what changes;
- paho's network thread (broker_side.py) connects to the broker (reconnecting with backoff) and
  receives commands, which it only queues;
- one worker thread sends the queued commands to the service.

Nothing polls: the watch read blocks until the service speaks, the worker
blocks on its queue, backoffs wait on an Event.
"""

from __future__ import annotations

import contextlib
import json
import logging
import queue
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..clock import Clock, SystemClock
from ..control.client import WatchStream, send_request
from ..control.protocol import ControlError, error_code, is_retryable
from ..patterns import CUSTOM
from ..rate_limited_log import RateLimitedLog
from . import discovery as d
from .broker_side import QOS, BrokerSide
from .commands import (
    CUSTOM_BREATH_KEYS,
    PATTERN_SETTING,
    BadPayload,
    Command,
    command_request,
    show_payload,
)
from .settings import MqttSettings

log = logging.getLogger("breathring.mqtt")

#: Waits between attempts to reach the service, and the broker (paho doubles up to the max).
SERVICE_BACKOFF_MIN_S = 0.5
SERVICE_BACKOFF_MAX_S = 30.0
BROKER_BACKOFF_MIN_S = 1
BROKER_BACKOFF_MAX_S = 60
#: One log line per kind of trouble per this many seconds (bad payloads, a broker refusing us).
LOG_INTERVAL_S = 60.0
#: Commands waiting for the service; more than this and new ones are dropped (logged).
COMMAND_QUEUE_SIZE = 32
#: On a clean stop, how long to wait for "offline" to reach the broker.
OFFLINE_PUBLISH_TIMEOUT_S = 2.0
#: Days of history asked for: today and the streak are all we publish.
STATS_DAYS = 1
#: The stats field with the newest session's end (else start), ISO 8601; null: none yet.
STATS_LAST_SESSION = "last_session"
GESTURE_SOURCE_BUTTON = "button"

Request = Callable[[Path, Mapping[str, Any]], dict[str, Any]]


class Bridge(BrokerSide):
    """Home Assistant <-> breathring, over MQTT and the control socket.

    `pattern_names`: the presets the select offers; "custom" is offered (and taken) only
    while the service's settings have it with its breaths, and follows them.
    """

    def __init__(
        self,
        settings: MqttSettings,
        socket_path: Path,
        *,
        sw_version: str,
        pattern_names: tuple[str, ...],
        clock: Clock | None = None,
        request: Request = send_request,
        service_backoff: tuple[float, float] = (SERVICE_BACKOFF_MIN_S, SERVICE_BACKOFF_MAX_S),
        broker_backoff: tuple[int, int] = (BROKER_BACKOFF_MIN_S, BROKER_BACKOFF_MAX_S),
    ) -> None:
        self.settings = settings
        self.socket_path = socket_path
        self.topics = d.Topics.of(settings)
        self._sw_version = sw_version
        self._presets = tuple(p for p in pattern_names if p != CUSTOM)
        self._pattern_options = self._presets
        #: The service's pattern is custom with its breaths (what the custom numbers change).
        self._custom = False
        self._clock: Clock = clock if clock is not None else SystemClock()
        self._request = request
        self._service_backoff = service_backoff
        self._warn = RateLimitedLog(log, LOG_INTERVAL_S, clock=self._clock)
        self._lock = threading.Lock()
        self._publish_lock = threading.RLock()
        self._states: dict[str, str] = {}  # object id -> retained state payload
        self._announced = False
        self._service_up = False
        self._stopping = threading.Event()
        self._wake_r, self._wake_w = socket.socketpair()
        self._commands: queue.Queue[Command | None] = queue.Queue(COMMAND_QUEUE_SIZE)
        self._worker = threading.Thread(
            target=self._work, name="breathring-mqtt-commands", daemon=True
        )
        self._command_topics = {self.topics.command(o): o for o in d.COMMAND_OBJECTS}
        self._clearing = set()
        self.client = self._make_client(broker_backoff)

    # -- lifecycle ---------------------------------------------------------

    def run(self) -> int:
        """Bridge until `stop()`; returns the exit code (0)."""
        s = self.settings
        log.info(
            "bridging %s to mqtt%s://%s:%d as device %s (topics under %s/)",
            self.socket_path,
            "s" if s.tls else "",
            s.host,
            s.port,
            s.device_id,
            self.topics.base,
        )
        if s.breath_topic is not None:
            log.info("passing breathing rates on %s to the service", s.breath_topic)
        self._worker.start()
        self.client.connect_async(s.host, s.port, s.keepalive)
        self.client.loop_start()
        try:
            self._watch_forever()
        finally:
            self._shutdown()
        return 0

    def stop(self) -> None:
        """Ask `run()` to end (safe from a signal handler or another thread)."""
        self._stopping.set()
        with contextlib.suppress(OSError):
            self._wake_w.send(b"x")

    def _shutdown(self) -> None:
        with contextlib.suppress(queue.Full):
            self._commands.put_nowait(None)
        info = self.client.publish(
            self.topics.availability, d.PAYLOAD_OFFLINE, qos=QOS, retain=True
        )
        acknowledged = False
        if self.client.is_connected():
            try:
                info.wait_for_publish(OFFLINE_PUBLISH_TIMEOUT_S)
                acknowledged = info.is_published()
            except (RuntimeError, ValueError) as exc:  # lost the broker, or its queue full
                log.warning("could not send offline to the broker: %s", exc)
        self.client.disconnect()
        self.client.loop_stop()
        self._worker.join(OFFLINE_PUBLISH_TIMEOUT_S)
        self._wake_r.close()
        self._wake_w.close()
        if acknowledged:
            log.info("stopped; availability set to offline")
        else:
            log.info("stopped; the broker did not acknowledge offline")

    # -- the service side --------------------------------------------------

    def _watch_forever(self) -> None:
        low, high = self._service_backoff
        delay = low
        while not self._stopping.is_set():
            try:
                with WatchStream(self.socket_path, self._wake_r, client="mqtt") as stream:
                    for event in stream.events():
                        if event.get("ok") is False:
                            raise ControlError(
                                f"the service refused to be watched ({error_code(event)}): "
                                f"{event.get('error')}"
                            )
                        if not self._service_up:
                            self._service_connected()
                            delay = low
                        self._handle_event(event)
                if not self._stopping.is_set():
                    self._warn.warning("service", "the service closed the watch connection")
            except ControlError as exc:
                self._warn.warning("service", "cannot reach the service: %s; retrying", exc)
            self._service_lost()
            if self._stopping.wait(delay):
                break
            delay = min(delay * 2, high)

    def _service_connected(self) -> None:
        log.info("connected to the service at %s", self.socket_path)
        self._warn.reset("service")
        with self._publish_lock:  # not in the middle of an announcement, which publishes it too
            with self._lock:
                self._service_up = True
            self._publish_availability()
        self._refresh_settings()
        self._refresh_stats()

    def _service_lost(self) -> None:
        with self._publish_lock:
            with self._lock:
                was_up, self._service_up = self._service_up, False
            if was_up:
                log.warning(
                    "lost the service at %s; availability offline until it returns",
                    self.socket_path,
                )
                self._publish_availability()

    def _handle_event(self, event: dict[str, Any]) -> None:
        kind = event.get("kind")
        if kind == "status" and isinstance(event.get("status"), dict):
            self._on_status(event["status"])
        elif kind == "gesture":
            if event.get("source") == GESTURE_SOURCE_BUTTON and event.get("gesture") in d.GESTURES:
                self._publish(
                    self.topics.button_event,
                    json.dumps({"event_type": event["gesture"]}),
                    retain=False,
                )
        elif kind == "history":
            self._refresh_stats()
        elif kind == "settings":
            self._refresh_settings()
        else:
            log.debug("ignored watch event %r", event)

    def _on_status(self, status: Mapping[str, Any]) -> None:
        phase = status.get("phase")
        if isinstance(phase, str):
            self._set_state(d.PHASE, phase)
        pattern = status.get("next_pattern")
        if isinstance(pattern, str):
            self._set_state(d.PATTERN, pattern)
        reminders = status.get("reminders")
        if isinstance(reminders, bool):
            self._set_state(d.REMINDERS, d.PAYLOAD_ON if reminders else d.PAYLOAD_OFF)
        if self._breath_sensor_known and "breath_rate" in status:
            self._set_state(d.BREATH_RATE, _rate_state(status["breath_rate"]))

    def _ask(self, message: Mapping[str, Any]) -> dict[str, Any] | None:
        """A request to the service; None (logged, rate-limited) when it fails."""
        cmd = str(message.get("cmd"))
        try:
            reply = self._request(self.socket_path, message)
        except ControlError as exc:
            self._warn.warning(f"ask-{cmd}", "%s: %s", cmd, exc)
            return None
        if not reply.get("ok"):
            # Acted on by its code (control/protocol.py); the message is only shown.
            self._warn.warning(
                f"ask-{cmd}",
                "the service %s %s (%s): %s",
                "could not take" if is_retryable(reply) else "refused",
                cmd,
                error_code(reply) or "no known code",
                reply.get("error", "no reason given"),
            )
            return None
        return reply

    def _refresh_settings(self) -> None:
        reply = self._ask({"cmd": "settings"})
        if reply is None:
            return
        listing = reply.get("settings")
        if not isinstance(listing, dict):
            return
        value = _setting(listing, "ring.brightness")
        if isinstance(value, int | float) and not isinstance(value, bool):
            self._set_state(d.BRIGHTNESS, json.dumps(float(value)))
        custom = _setting(listing, PATTERN_SETTING) == CUSTOM and all(
            _setting(listing, key) is not None for key in CUSTOM_BREATH_KEYS
        )
        with self._lock:
            self._custom = custom
        for seconds in d.CUSTOM_SECONDS:
            self._set_state(seconds.object_id, _custom_state(listing, seconds.key, custom))
        self._set_pattern_options(self._presets + ((CUSTOM,) if custom else ()))

    def _refresh_stats(self) -> None:
        reply = self._ask({"cmd": "stats", "days": STATS_DAYS})
        if reply is None or not isinstance(reply.get("stats"), dict):
            return
        stats = reply["stats"]
        today = stats.get("today")
        if isinstance(today, dict) and _is_count(today.get("sessions")):
            self._set_state(d.SESSIONS_TODAY, str(today["sessions"]))
        if _is_count(stats.get("streak_days")):
            self._set_state(d.STREAK, str(stats["streak_days"]))
        last = stats.get(STATS_LAST_SESSION)
        if isinstance(last, str) and last:  # null: no session yet, nothing to show
            self._set_state(d.LAST_SESSION, last)

    # -- the broker side ---------------------------------------------------

    # -- commands ----------------------------------------------------------

    def _work(self) -> None:
        while (command := self._commands.get()) is not None:
            try:
                self._execute(command)
            except Exception:  # one bad command must not end the worker
                log.exception("command %r failed", command)

    def _execute(self, command: Command) -> None:
        reading = command.object_id == d.BREATH_RATE  # from the breath sensor, not from HA
        topic = self.settings.breath_topic if reading else self.topics.command(command.object_id)
        try:
            with self._lock:
                options, custom = self._pattern_options, self._custom
            message = command_request(command, options, custom)
        except BadPayload as exc:
            self._warn.warning(
                f"payload-{topic}",
                "ignored payload %s on %s: %s",
                show_payload(command.payload),
                topic,
                exc,
            )
            if not reading:
                self._restore(command.object_id)
            return
        with self._lock:
            up = self._service_up
        if not up:
            self._warn.warning(
                "command-offline",
                "the service is not reachable; ignored %s on %s",
                show_payload(command.payload),
                topic,
            )
            return
        if self._ask(message) is None and not reading:
            self._restore(command.object_id)

    def _restore(self, object_id: str) -> None:
        """A refused change: publish the real state again so Home Assistant shows it."""
        with self._lock:
            payload = self._states.get(object_id)
        if payload is not None:
            self._set_state(object_id, payload, force=True)


def _setting(listing: Mapping[str, Any], key: str) -> object:
    """A key's value in the service's `settings` reply (None when absent)."""
    entry = listing.get(key)
    return entry.get("value") if isinstance(entry, dict) else None


def _custom_state(listing: Mapping[str, Any], key: str, custom: bool) -> str:
    """A custom number's state: its seconds while the pattern is custom (a hold not set is 0),
    else "None" (unknown: a preset keeps no custom seconds)."""
    if not custom:
        return d.PAYLOAD_NONE
    value = _setting(listing, key)
    if not isinstance(value, int | float) or isinstance(value, bool):
        value = 0.0
    return json.dumps(float(value))


def _rate_state(rate: object) -> str:
    """The Breathing rate sensor's state for a status' `breath_rate` ("None": unknown)."""
    per_min = rate.get("per_min") if isinstance(rate, dict) else None
    if isinstance(per_min, int | float) and not isinstance(per_min, bool):
        return f"{per_min:.1f}"
    return d.PAYLOAD_NONE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
