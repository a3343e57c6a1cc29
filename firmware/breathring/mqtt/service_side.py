"""The bridge's service side: the watch connection to the LED service, and what it publishes.

`Bridge.run()` (bridge.py) holds the watch connection here, reconnecting with backoff while
the service is away: availability follows the service, and each status, gesture, history and
settings event becomes MQTT state through the broker side (broker_side.py). `_ask` sends
one request to the service; the command worker uses it too.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from ..breath_rate import MQTT as SENSOR_MQTT
from ..config.validation import is_number
from ..control.client import WatchStream
from ..control.protocol import ControlError, error_code, is_retryable
from ..patterns import CUSTOM
from . import discovery as d
from .broker_side import BrokerSide
from .commands import CUSTOM_BREATH_KEYS, PATTERN_SETTING

log = logging.getLogger("breathring.mqtt")

#: Days of history asked for: today and the streak are all we publish.
STATS_DAYS = 1
#: The stats field with the newest session's end (else start), ISO 8601; null: none yet.
STATS_LAST_SESSION = "last_session"
GESTURE_SOURCE_BUTTON = "button"
#: The breath sensor's topic (kind "mqtt"): `breathring set` changes it while we run.
BREATH_TOPIC_SETTING = "breath_sensor.topic"

Request = Callable[[Path, Mapping[str, Any]], dict[str, Any]]


class ServiceSide(BrokerSide):
    """The LED service's half of `Bridge`: what it holds is set up by Bridge.__init__."""

    socket_path: Path
    _request: Request
    _service_backoff: tuple[float, float]
    _wake_r: socket.socket
    _presets: tuple[str, ...]
    _lock: threading.Lock

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
        # The settings first: a command taken once the service is up must find them known (a
        # custom number under a pattern not yet known to be custom would start one afresh).
        self._refresh_settings()
        with self._publish_lock:  # not in the middle of an announcement, which publishes it too
            with self._lock:
                self._service_up = True
            self._publish_availability()
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
        if is_number(value):
            self._set_state(d.BRIGHTNESS, json.dumps(float(value)))
        topic = _setting(listing, BREATH_TOPIC_SETTING)
        if self.settings.breath_sensor == SENSOR_MQTT and isinstance(topic, str) and topic:
            self._follow_breath_topic(topic)
        custom = _setting(listing, PATTERN_SETTING) == CUSTOM and all(
            _setting(listing, key) is not None for key in CUSTOM_BREATH_KEYS
        )
        # The select offers "custom" exactly when the custom numbers change one key (bridge.py).
        self._set_pattern_options(self._presets + ((CUSTOM,) if custom else ()))
        for seconds in d.CUSTOM_SECONDS:
            self._set_state(seconds.object_id, _custom_state(listing, seconds.key, custom))

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
    return json.dumps(float(value) if is_number(value) else 0.0)


def _rate_state(rate: object) -> str:
    """The Breathing rate sensor's state for a status' `breath_rate` ("None": unknown)."""
    per_min = rate.get("per_min") if isinstance(rate, dict) else None
    if is_number(per_min):
        return f"{per_min:.1f}"
    return d.PAYLOAD_NONE


def _is_count(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0
