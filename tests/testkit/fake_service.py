"""A fake LED service: a control-socket server that speaks notes/PROTOCOL.md exactly.

It runs its own asyncio loop in a thread, so the same fake serves aiohttp's test
client (in the test's loop), a `breathring web` subprocess and a real browser.
It records every request line it receives (parsed) in `requests`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

PATTERNS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "custom")
#: The fake's "today": history days end here.
TODAY = date(2025, 3, 14)
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
EVERY_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
HOURS_RE = re.compile(r"^\d{2}:\d{2}-\d{2}:\d{2}$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")

DEFAULT_SETTINGS: dict[str, Any] = {
    "ring.pixels": 24,
    "ring.driver": "spi",
    "ring.brightness": 0.6,
    "ring.color": "#4FA3FF",
    "session.pattern": "three-breath",
    "session.breaths": 3,
    # The real service lists every key, unset optional ones as null (the custom pattern's).
    "session.inhale": None,
    "session.hold_in": None,
    "session.exhale": None,
    "session.hold_out": None,
    "reminder.enabled": True,
    "reminder.every_minutes": 60,
    "reminder.active_hours": "08:00-22:00",
    "night.hours": "22:00-07:00",
    "night.brightness": 0.05,
    "audio.enabled": True,
    "audio.volume": 0.6,
    "button.pin": "GPIO17",
}

IDLE_STATUS: dict[str, Any] = {
    "state": "idle",
    "phase": "idle",
    "breath": 0,
    "breaths": 0,
    "pattern": None,
    "next_pattern": "three-breath",
    "reminders": True,
    "clock_synchronized": True,
    "clock_trusted": True,
    "clock_reason": None,  # the real service: null when synchronised, else why not
    "next_pulse": "2025-03-14T15:00:00+01:00",
    "elapsed": None,
    "remaining": None,
    "night": False,
    "hardware": "mock",
}

#: Breaths a session started by the fake has.
SESSION_BREATHS = 3


def _in_unit_range(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 1


#: key -> (check, what is allowed)
VALIDATORS: dict[str, tuple[Any, str]] = {
    "ring.brightness": (lambda v: _in_unit_range(v) and v > 0, "a number > 0 and <= 1"),
    "night.brightness": (lambda v: _in_unit_range(v) and v > 0, "a number > 0 and <= 1"),
    "audio.volume": (_in_unit_range, "a number 0-1"),
    "ring.color": (lambda v: isinstance(v, str) and bool(COLOR_RE.match(v)), '"#RRGGBB"'),
    "session.pattern": (lambda v: v in PATTERNS[:-1], "a preset pattern"),
    "session.breaths": (lambda v: isinstance(v, int) and 1 <= v <= 20, "1-20"),
    "reminder.enabled": (lambda v: isinstance(v, bool), "true or false"),
    "audio.enabled": (lambda v: isinstance(v, bool), "true or false"),
    "reminder.every_minutes": (
        lambda v: v in EVERY_MINUTES and not isinstance(v, bool),
        "a divisor of an hour or whole hours dividing a day",
    ),
    "reminder.active_hours": (
        lambda v: isinstance(v, str) and bool(HOURS_RE.match(v)),
        '"HH:MM-HH:MM"',
    ),
    "night.hours": (lambda v: isinstance(v, str) and bool(HOURS_RE.match(v)), '"HH:MM-HH:MM"'),
}


class FakeService:
    """The service's side of the control socket, with a little state of its own."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.requests: list[dict[str, Any]] = []
        self.status: dict[str, Any] = dict(IDLE_STATUS)
        self.settings: dict[str, dict[str, Any]] = {
            k: {"value": v, "source": "default"} for k, v in DEFAULT_SETTINGS.items()
        }
        #: cmd -> a reply to give instead of the fake's own (e.g. {"ok": false, ...}).
        self.forced: dict[str, dict[str, Any]] = {}
        self.watchers: set[asyncio.StreamWriter] = set()
        self.watch_ended = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._server: asyncio.AbstractServer | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._lock = threading.Lock()

    # -- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeService:
        self._thread.start()
        self._call(self._start())
        return self

    async def _start(self) -> None:
        self._server = await asyncio.start_unix_server(self._serve, str(self.path))

    def stop(self) -> None:
        if self._thread.is_alive():
            self._call(self._stop())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(5)
        self._loop.close()
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    async def _stop(self) -> None:
        assert self._server is not None
        self._server.close()
        for writer in list(self.watchers):
            writer.close()
        await self._server.wait_closed()

    def _call(self, coro: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result(5)

    # -- what tests use --------------------------------------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        """Send one line to every watcher (as the service does on a change)."""
        self._call(self._broadcast(message))

    def commands(self) -> list[dict[str, Any]]:
        """The requests received so far (a copy)."""
        with self._lock:
            return list(self.requests)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def watcher_count(self) -> int:
        return self._call(self._count())

    async def _count(self) -> int:
        return len(self.watchers)

    # -- the protocol ---------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line)
            with self._lock:
                self.requests.append(request)
            if request.get("cmd") == "watch" and "watch" not in self.forced:
                await self._watch(reader, writer)
                return
            reply = self.forced.get(request.get("cmd")) or await self._answer(request)
            writer.write((json.dumps(reply) + "\n").encode())
            await writer.drain()
        except (ConnectionError, json.JSONDecodeError):
            pass
        finally:
            writer.close()

    async def _watch(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.watchers.add(writer)
        try:
            writer.write(self._line({"kind": "status", "status": dict(self.status)}))
            await writer.drain()
            await reader.read()  # the client never writes again: this ends when it closes
        finally:
            self.watchers.discard(writer)
            self.watch_ended.set()

    @staticmethod
    def _line(message: dict[str, Any]) -> bytes:
        return (json.dumps(message) + "\n").encode()

    async def _broadcast(self, message: dict[str, Any]) -> None:
        for writer in list(self.watchers):
            with contextlib.suppress(ConnectionError):
                writer.write(self._line(message))
                await writer.drain()

    async def _status_changed(self) -> None:
        await self._broadcast({"kind": "status", "status": dict(self.status)})

    async def _answer(self, request: dict[str, Any]) -> dict[str, Any]:
        cmd = request.get("cmd")
        if cmd == "status":
            return {"ok": True, **self.status}
        if cmd == "start":
            pattern = request.get("pattern", self.status["next_pattern"])
            if pattern not in PATTERNS:
                return {
                    "ok": False,
                    "code": "bad-request",
                    "error": f'unknown pattern "{pattern}"; allowed: three-breath, box',
                }
            # As the real service: a session begins with its lead-in, before breath 1.
            self.status.update(
                state="session",
                phase="lead-in",
                breath=0,
                breaths=SESSION_BREATHS,
                pattern=pattern,
                elapsed=0.0,
            )
            await self._status_changed()
            return {"ok": True, **self.status}
        if cmd == "stop":
            self.status.update(IDLE_STATUS, reminders=self.status["reminders"])
            await self._status_changed()
            return {"ok": True, **self.status}
        if cmd == "reminders":
            self.status["reminders"] = request["value"] == "on"
            await self._status_changed()
            return {"ok": True, **self.status}
        if cmd == "settings":
            return {
                "ok": True,
                "settings": json.loads(json.dumps(self.settings)),
                "restart_keys": list(RESTART_KEYS),
            }
        if cmd == "set":
            return await self._set(request["key"], request["value"])
        if cmd == "stats":
            return {"ok": True, "stats": stats(request.get("days", 14))}
        if cmd == "unset":
            key = request["key"]
            if key not in DEFAULT_SETTINGS:
                return {
                    "ok": False,
                    "error": f"{key} is not a known key",
                    "key": key,
                    "code": "unknown",
                }
            self.settings[key] = {"value": DEFAULT_SETTINGS[key], "source": "default"}
            await self._broadcast({"kind": "settings"})
            return {"ok": True, "key": key, "value": DEFAULT_SETTINGS[key]}
        return {"ok": False, "code": "bad-request", "error": f'unknown cmd "{cmd}"'}

    async def _set(self, key: str, value: Any) -> dict[str, Any]:
        if key not in self.settings:
            return {"ok": False, "error": f"unknown key {key}", "key": key, "code": "unknown"}
        if key in RESTART_KEYS:
            return {"ok": False, "error": f"{key} needs a restart", "key": key, "code": "restart"}
        check, allowed = VALIDATORS.get(key, (lambda v: True, "anything"))
        if not check(value):
            return {
                "ok": False,
                "key": key,
                "code": "invalid",
                "error": f"{key} = {json.dumps(value)} is not allowed; allowed: {allowed}",
            }
        self.settings[key] = {"value": value, "source": "settings"}
        await self._broadcast({"kind": "settings"})
        # As the real service: these settings show in the status at once.
        follows = {"session.pattern": "next_pattern", "reminder.enabled": "reminders"}
        if key in follows:
            self.status[follows[key]] = value
            await self._status_changed()
        return {"ok": True, "key": key, "value": value}


def stats(days: int) -> dict[str, Any]:
    """A history object shaped as DESIGN.md's `stats --json`: some days with sessions."""
    rows = []
    for i in range(days):
        day = TODAY - timedelta(days=days - 1 - i)
        sessions = (day.toordinal() * 7 + 2) % 4
        rows.append(
            {
                "date": day.isoformat(),
                "sessions": sessions,
                "completed": max(0, sessions - 1),
                "breaths": sessions * 3,
                "minutes": round(sessions * 0.6, 1),
            }
        )
    return {
        "today": dict(rows[-1]),
        "streak_days": 2,
        "days": rows,
        "pulses": {"shown": 9, "answered": 4},
    }


@contextlib.contextmanager
def running(path: Path) -> Iterator[FakeService]:
    service = FakeService(path).start()
    try:
        yield service
    finally:
        service.stop()
