"""A stand-in for the service's control socket that speaks /work/notes/PROTOCOL.md.

One JSON line in, one JSON line out, then close; except `watch`, which keeps the
connection and receives event lines. It validates like the real socket does
(unknown pattern, brightness out of range, unknown key), records every request,
and lets a test drive the device: change the status, press the button, record
a session, go away and come back on the same path.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
from pathlib import Path
from typing import Any

PRESETS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down")
BRIGHTNESS_RANGE = (0.01, 1.0)
#: As the real service's settings.RESTART_KEYS (its `settings` reply).
RESTART_KEYS = (
    "ring.pixels",
    "ring.order",
    "ring.pin",
    "ring.driver",
    "button.pin",
    "audio.driver",
    "audio.device",
    "audio.cues_dir",
    "audio.buffer_samples",
)
IO_TIMEOUT_S = 2.0


class FakeService:
    """A control socket server on `path`, in its own threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.requests: list[dict[str, Any]] = []
        self.status: dict[str, Any] = {
            "state": "idle",
            "phase": "idle",
            "breath": 0,
            "breaths": 0,
            "pattern": None,
            "next_pattern": "three-breath",
            "reminders": True,
            "clock_synchronized": True,
            "clock_trusted": True,
            "clock_reason": None,
            "next_pulse": None,
            "elapsed": None,
            "remaining": None,
            "night": False,
            "hardware": "mock",
        }
        self.settings: dict[str, Any] = {
            "ring.brightness": {"value": 0.3, "source": "default"},
            "session.pattern": {"value": "three-breath", "source": "default"},
        }
        self.sessions_today = 2
        self.streak_days = 5
        self.last_session: str | None = None  # an extra field; PROTOCOL.md's stats lack it
        self._lock = threading.Lock()
        self._watchers: list[socket.socket] = []
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> FakeService:
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener.bind(str(self.path))
        listener.listen(16)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The service goes away: the socket file, the listener and every watcher."""
        listener, self._listener = self._listener, None
        if listener is not None:
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            listener.close()
        if self._thread is not None:
            self._thread.join(IO_TIMEOUT_S)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        with self._lock:
            watchers, self._watchers = self._watchers, []
        for conn in watchers:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
            conn.close()

    @property
    def watcher_count(self) -> int:
        with self._lock:
            return len(self._watchers)

    # -- what a test does to the device -------------------------------------

    def set_status(self, **changes: Any) -> None:
        with self._lock:
            self.status.update(changes)
        self.push({"kind": "status", "status": dict(self.status)})

    def gesture(self, gesture: str, source: str = "button") -> None:
        self.push({"kind": "gesture", "gesture": gesture, "source": source})

    def record_session(self, when: str | None = None) -> None:
        with self._lock:
            self.sessions_today += 1
            self.last_session = when
        self.push({"kind": "history"})

    def push(self, event: dict[str, Any]) -> None:
        line = (json.dumps(event) + "\n").encode()
        with self._lock:
            watchers = list(self._watchers)
        for conn in watchers:
            try:
                conn.sendall(line)
            except OSError:
                with self._lock:
                    if conn in self._watchers:
                        self._watchers.remove(conn)

    def requests_of(self, cmd: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r.get("cmd") == cmd]

    # -- the socket ----------------------------------------------------------

    def _accept(self) -> None:
        listener = self._listener
        assert listener is not None
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn: socket.socket) -> None:
        conn.settimeout(IO_TIMEOUT_S)
        try:
            buf = b""
            while b"\n" not in buf:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                buf += chunk
            request = json.loads(buf.split(b"\n", 1)[0])
        except (OSError, ValueError):
            conn.close()
            return
        with self._lock:
            self.requests.append(request)
        if request.get("cmd") == "watch":
            with self._lock:
                first = {"kind": "status", "status": dict(self.status)}
                conn.sendall((json.dumps(first) + "\n").encode())
                self._watchers.append(conn)
            return
        reply = self._answer(request)
        with contextlib.suppress(OSError):
            conn.sendall((json.dumps(reply) + "\n").encode())
        conn.close()

    def _answer(self, r: dict[str, Any]) -> dict[str, Any]:
        cmd = r.get("cmd")
        if cmd == "status":
            with self._lock:
                return {"ok": True, **self.status}
        if cmd == "start":
            pattern = r.get("pattern")
            if pattern is not None and pattern not in PRESETS:
                return {
                    "ok": False,
                    "code": "bad-request",
                    "error": f"unknown pattern {json.dumps(pattern)}",
                }
            self.set_status(
                state="session", phase="lead-in", pattern=pattern or self.status["next_pattern"]
            )
            return self._ok_status()
        if cmd == "stop":
            self.set_status(state="idle", phase="idle", pattern=None)
            return self._ok_status()
        if cmd == "reminders":
            if r.get("value") not in ("on", "off"):
                return {
                    "ok": False,
                    "code": "bad-request",
                    "error": 'bad "value"; allowed: "on", "off"',
                }
            self.set_status(reminders=r["value"] == "on")
            return self._ok_status()
        if cmd == "set":
            return self._set(r.get("key"), r.get("value"))
        if cmd == "settings":
            with self._lock:
                return {
                    "ok": True,
                    "settings": json.loads(json.dumps(self.settings)),
                    "restart_keys": list(RESTART_KEYS),
                }
        if cmd == "stats":
            with self._lock:
                stats: dict[str, Any] = {
                    "today": {
                        "date": "2026-01-15",
                        "sessions": self.sessions_today,
                        "completed": self.sessions_today,
                        "breaths": 3,
                        "minutes": 0.5,
                    },
                    "streak_days": self.streak_days,
                    "days": [],
                    "pulses": {"shown": 0, "answered": 0},
                }
                if self.last_session is not None:
                    stats["last_session"] = self.last_session
            return {"ok": True, "stats": stats}
        return {"ok": False, "code": "bad-request", "error": f"unknown cmd {json.dumps(cmd)}"}

    def _ok_status(self) -> dict[str, Any]:
        """start, stop and reminders answer with the status, as the real service does."""
        with self._lock:
            return {"ok": True, **self.status}

    def _set(self, key: object, value: object) -> dict[str, Any]:
        if key == "ring.brightness":
            low, high = BRIGHTNESS_RANGE
            if (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not (low <= value <= high)
            ):
                return {
                    "ok": False,
                    "key": key,
                    "code": "invalid",
                    "error": f"ring.brightness = {json.dumps(value)} is out of range; "
                    "allowed 0.01-1",
                }
        elif key == "session.pattern":
            if value not in PRESETS:
                return {
                    "ok": False,
                    "key": key,
                    "code": "invalid",
                    "error": f"session.pattern = {json.dumps(value)} is not a pattern",
                }
        elif key in RESTART_KEYS:
            return {"ok": False, "key": key, "code": "restart", "error": f"{key} needs a restart"}
        else:
            return {"ok": False, "key": key, "code": "unknown", "error": f"{key} is not a key"}
        with self._lock:
            self.settings[str(key)] = {"value": value, "source": "settings"}
        self.push({"kind": "settings"})
        if key == "session.pattern":
            self.set_status(next_pattern=value)
        return {"ok": True, "key": key, "value": value}
