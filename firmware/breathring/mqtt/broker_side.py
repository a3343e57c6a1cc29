"""The bridge's broker side: the paho client, its callbacks, and what it publishes.

paho's network thread runs the callbacks: it connects to the broker (with
backoff), announces the device (discovery configs, availability, every known
state, all retained) and only queues the commands it receives; `Bridge`
(bridge.py) runs them and holds the service side. A retained command is never
run: it would run again on every reconnect; it is deleted at the broker.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..breath_rate import NO_SENSOR
from ..rate_limited_log import RateLimitedLog
from . import discovery as d
from .commands import Command, show_payload
from .settings import MqttSettings

log = logging.getLogger("breathring.mqtt")

#: Subscriptions, discovery configs, button events, the last will: at least once.
QOS = 1
#: CONNACK reason codes (MQTT 5 numbering; paho maps 3.1.1's 4 and 5 onto them) that
#: mean the login was refused: "Bad user name or password", "Not authorized".
LOGIN_REFUSED_CODES = frozenset({0x86, 0x87})
#: Retained states and availability: at most once. Each (re)connect publishes them all
#: again, and with QoS 1 paho would also resend the ones a dropped connection left
#: unacknowledged, after the fresh ones: an old phase would stay retained.
STATE_QOS = 0


class BrokerSide:
    """The MQTT half of `Bridge`: what it holds is set up by Bridge.__init__."""

    settings: MqttSettings
    topics: d.Topics
    client: mqtt.Client
    _sw_version: str
    _pattern_options: tuple[str, ...]
    _warn: RateLimitedLog
    _lock: threading.Lock
    #: Held from reading a state to publishing it: the broker gets them in the order set.
    _publish_lock: threading.RLock
    _states: dict[str, str]
    #: True from the announcement of a connection to its loss. paho counts itself connected
    #: a moment before on_connect runs; publishing in that moment as well as in the
    #: announcement would send a state twice.
    _announced: bool
    _service_up: bool
    _stopping: threading.Event
    _commands: queue.Queue[Command | None]
    _command_topics: dict[str, str]
    #: Where breathing rates come from: `[breath_sensor] topic` of kind "mqtt" (None: no such
    #: sensor), followed when the service's setting changes (service_side.py).
    _breath_topic: str | None
    #: Command topics whose retained message we deleted; the broker echoes the empty payload.
    _clearing: set[str]

    def _make_client(self, backoff: tuple[int, int]) -> mqtt.Client:
        s = self.settings
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"breathring-{s.device_id}",
            protocol=mqtt.MQTTv311,
        )
        client.suppress_exceptions = True  # a bug in a callback must not end the network thread
        client.will_set(self.topics.availability, d.PAYLOAD_OFFLINE, qos=QOS, retain=True)
        if s.username is not None:
            client.username_pw_set(s.username, s.password)
        if s.tls:
            client.tls_set(ca_certs=str(s.ca_file) if s.ca_file is not None else None)
        client.reconnect_delay_set(*backoff)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _publish(self, topic: str, payload: str, retain: bool, qos: int = QOS) -> None:
        """Publish on a connection that was announced; before that, the announcement will."""
        if self._announced and self.client.is_connected():
            self.client.publish(topic, payload, qos=qos, retain=retain)

    def _set_state(self, object_id: str, payload: str, force: bool = False) -> None:
        """Remember an entity's state and publish it (retained) if it changed, or if forced."""
        with self._publish_lock:
            with self._lock:
                if not force and self._states.get(object_id) == payload:
                    return
                self._states[object_id] = payload
            self._publish(self.topics.state(object_id), payload, retain=True, qos=STATE_QOS)

    def _publish_availability(self) -> None:
        with self._publish_lock:
            with self._lock:
                up = self._service_up
            payload = d.PAYLOAD_ONLINE if up else d.PAYLOAD_OFFLINE
            self._publish(self.topics.availability, payload, retain=True, qos=STATE_QOS)

    def _discovery(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            options = self._pattern_options
        return d.discovery_messages(
            self.topics, self._sw_version, options, self._breath_sensor_known
        )

    def _follow_breath_topic(self, topic: str) -> None:
        """Take breathing rates from `topic` from now on, no longer from the one before."""
        with self._lock:
            old, self._breath_topic = self._breath_topic, topic
        if old == topic:
            return
        log.info("passing breathing rates on %s to the service (was %s)", topic, old)
        # Not connected: nothing to change at the broker; on_connect subscribes the new topic.
        if old is not None:
            self.client.unsubscribe(old)
        self.client.subscribe(topic, QOS)

    @property
    def _breath_sensor_known(self) -> bool:
        return self.settings.breath_sensor != NO_SENSOR

    def _set_pattern_options(self, options: tuple[str, ...]) -> None:
        """What the Pattern select offers; a change announces its config again."""
        with self._publish_lock:
            with self._lock:
                if options == self._pattern_options:
                    return
                self._pattern_options = options
            log.info("the pattern select offers: %s", ", ".join(options))
            select = self.topics.config(d.SELECT, d.PATTERN)
            for topic, payload in self._discovery():
                if topic == select:
                    self._publish(topic, json.dumps(payload, sort_keys=True), retain=True)

    def _announce(self) -> None:
        """Discovery configs, availability and every known state (retained)."""
        with self._publish_lock:
            self._announced = True
            for topic, payload in self._discovery():
                self._publish(topic, json.dumps(payload, sort_keys=True), retain=True)
            for topic in d.retired_configs(self.topics, self._breath_sensor_known):
                self._publish(topic, "", retain=True)
            self._publish_availability()
            with self._lock:
                states = dict(self._states)
            for object_id, payload in states.items():
                self._publish(self.topics.state(object_id), payload, retain=True, qos=STATE_QOS)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: Any,
        _properties: object,
    ) -> None:
        s = self.settings
        if reason.is_failure:
            hint = (
                "; check mqtt.username and mqtt.password_file"
                if getattr(reason, "value", None) in LOGIN_REFUSED_CODES
                else ""
            )
            self._warn.warning(
                "broker",
                "the broker at %s:%d refused the connection: %s%s; retrying",
                s.host,
                s.port,
                reason,
                hint,
            )
            return
        log.info("connected to the broker at %s:%d", s.host, s.port)
        self._warn.reset("broker")
        topics = [(t, QOS) for t in self._command_topics]
        topics.append((self.topics.ha_status, QOS))
        with self._lock:
            breath_topic = self._breath_topic
        if breath_topic is not None:
            topics.append((breath_topic, QOS))
        client.subscribe(topics)
        self._announce()

    def _on_connect_fail(self, _client: mqtt.Client, _userdata: object) -> None:
        s = self.settings
        hint = (
            " (TLS: does the broker's certificate name this host, signed by "
            + ("mqtt.ca_file" if s.ca_file is not None else "a system CA; else set mqtt.ca_file")
            + "?)"
            if s.tls
            else ""
        )
        self._warn.warning(
            "broker", "cannot reach the broker at %s:%d%s; retrying", s.host, s.port, hint
        )

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: object,
        _flags: object,
        reason: Any,
        _properties: object,
    ) -> None:
        self._announced = False
        if self._stopping.is_set():
            return
        s = self.settings
        self._warn.warning(
            "broker", "lost the broker at %s:%d (%s); reconnecting", s.host, s.port, reason
        )

    def _on_message(
        self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage
    ) -> None:
        try:
            payload = message.payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            self._warn.warning(
                f"payload-{message.topic}",
                "ignored a payload on %s that is not UTF-8",
                message.topic,
            )
            return
        if message.topic == self.topics.ha_status:
            if payload == d.PAYLOAD_ONLINE:
                log.info("Home Assistant came online; announcing the device again")
                self._announce()
            return
        with self._lock:
            breath_topic = self._breath_topic
        if message.topic == breath_topic:
            self._breath_reading(message.topic, payload, message.retain)
            return
        object_id = self._command_topics.get(message.topic)
        if object_id is None:
            return
        if message.retain:
            self._clear_retained(message.topic, payload)
            return
        if not payload and message.topic in self._clearing:
            self._clearing.discard(message.topic)  # our own clearing message, coming back
            return
        try:
            self._commands.put_nowait(Command(object_id, payload))
        except queue.Full:
            self._warn.warning(
                "queue",
                "too many commands waiting for the service; ignored %s on %s",
                show_payload(payload),
                message.topic,
            )

    def _breath_reading(self, topic: str, payload: str, retained: bool) -> None:
        """A reading on the breath sensor's topic: queued for the service, unless retained.

        A retained message carries no time: it may be a sensor's last word from hours ago,
        so only live ones count (the service stamps each when it receives it).
        """
        if retained:
            log.info(
                "ignored the retained reading %s on %s: it carries no time; waiting for a live one",
                show_payload(payload),
                topic,
            )
            return
        try:
            self._commands.put_nowait(Command(d.BREATH_RATE, payload))
        except queue.Full:
            self._warn.warning(
                "queue", "too many readings waiting for the service; ignored one on %s", topic
            )

    def _clear_retained(self, topic: str, payload: str) -> None:
        """A retained command would replay on every reconnect: ignore it, delete it, say so."""
        self._warn.warning(
            f"retained-{topic}",
            "ignored the retained command %s on %s (a command must not be retained: it would "
            "run again on every reconnect); deleted it at the broker",
            show_payload(payload),
            topic,
        )
        self._clearing.add(topic)
        # An empty retained message deletes the retained message of a topic (MQTT 3.3.1.3).
        self.client.publish(topic, b"", qos=QOS, retain=True)
