"""The bridge: the service's watch stream -> MQTT state; MQTT commands -> socket requests.

Threads:
- the caller's thread runs `Bridge.run()`: it holds the watch connection to the
  service (service_side.py; reconnecting with backoff while the service is away) and
  publishes what changes;
- paho's network thread (broker_side.py) connects to the broker (reconnecting with backoff) and
  receives commands, which it only queues;
- one worker thread sends the queued commands to the service.

Nothing polls: the watch read blocks until the service speaks, the worker
blocks on its queue, backoffs wait on an Event.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import socket
import threading
from pathlib import Path

from ..clock import Clock, SystemClock
from ..control.client import send_request
from ..patterns import CUSTOM
from ..rate_limited_log import RateLimitedLog
from . import discovery as d
from .broker_side import QOS
from .commands import BadPayload, Command, command_request, show_payload
from .service_side import Request, ServiceSide
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


class Bridge(ServiceSide):
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
        self._breath_topic = settings.breath_topic
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

    # -- commands ----------------------------------------------------------

    def _work(self) -> None:
        while (command := self._commands.get()) is not None:
            try:
                self._execute(command)
            except Exception:  # one bad command must not end the worker
                log.exception("command %r failed", command)

    def _execute(self, command: Command) -> None:
        reading = command.object_id == d.BREATH_RATE  # from the breath sensor, not from HA
        with self._lock:
            breath_topic = self._breath_topic
        topic = breath_topic if reading else self.topics.command(command.object_id)
        try:
            with self._lock:
                options = self._pattern_options
            # "custom" is offered while the service's pattern is custom with its breaths.
            message = command_request(command, options, CUSTOM in options)
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
