"""The fake service: a control socket that answers as `breathring run` does, for the companions.

One JSON line in, one JSON line out, then close; except `watch`, which keeps the
connection and gets event lines. Requests are parsed by the product's own protocol
(`breathring.control.protocol`), so a bad request, a watcher over its companion's share
(WATCH_SHARES) or an unknown command is refused with the real reply and `code`; the
restart keys are the service's. tests/service/test_control_contract.py runs the same
contract tests against this fake and the real service.

What it is for: the web and MQTT tests, where a test drives the device by hand (set the
status, press the button, record a session, force an error reply, go away and come back on
the same path) faster than the real service could get there. It records every request.
It serves from its own threads, so it works under aiohttp's test client, next to a
`breathring web` or `breathring mqtt` process and behind a real browser.
"""

from __future__ import annotations

import contextlib
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

from testkit.status import CONTROLLER_IDLE

from breathring.control.protocol import (
    WATCH_SHARES,
    ErrorCode,
    Request,
    RequestError,
    encode_line,
    error_reply,
    ok_reply,
    parse_request,
)
from breathring.control.server import too_many_watchers
from breathring.settings import RESTART_KEYS

#: The fake's "today": history days end here.
TODAY = date(2025, 3, 14)
#: Breaths a session started by the fake has.
SESSION_BREATHS = 3
IO_TIMEOUT_S = 2.0
#: stats' last_session: the end (or start) of the newest session, UTC offset, to the second.
LAST_SESSION_RE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}[+-]\d{2}:\d{2}$")

PRESETS = ("three-breath", "box", "4-7-8", "coherent", "sigh", "wind-down", "follow")
#: The breathing rates the service accepts (breaths a minute), as it words its refusal.
RATE_RANGE = (2.0, 60.0)
RATE_ALLOWED = "allowed a number 2-60 (breaths a minute)"
EVERY_MINUTES = (1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440)
HOURS_RE = re.compile(r"^\d{2}:\d{2}-\d{2}:\d{2}$")
COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")

#: The fake device's settings, all from its defaults (the real service lists unset optional
#: keys as null: the custom pattern's).
DEFAULT_SETTINGS: dict[str, Any] = {
    "ring.pixels": 24,
    "ring.driver": "spi",
    "ring.brightness": 0.3,
    "ring.color": "#4FA3FF",
    "session.pattern": "three-breath",
    "session.breaths": 3,
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
#: The service's idle status (the controller's and the clock and hardware keys).
IDLE_STATUS: dict[str, Any] = {
    **CONTROLLER_IDLE,
    "clock_synchronized": True,
    "clock_trusted": True,
    "clock_reason": None,  # the real service: null when synchronised, else why not
    "next_pulse": "2025-03-14T15:00:00+01:00",
    "hardware": "mock",
}
#: Settings that show in the status at once, as on the real service.
STATUS_FOLLOWS = {"session.pattern": "next_pattern", "reminder.enabled": "reminders"}
CUSTOM = "custom"
#: The custom pattern's breaths: "custom" needs the first two; other patterns take none.
CUSTOM_KEYS = ("session.inhale", "session.exhale", "session.hold_in", "session.hold_out")
CUSTOM_NEEDS = CUSTOM_KEYS[:2]
BREATH_S = (0.5, 30.0)
HOLD_S = (0.0, 30.0)


def _in_unit_range(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and 0 <= value <= 1


def _seconds(value: Any, low: float, high: float) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and low <= value <= high


def _hours(value: Any) -> bool:
    return isinstance(value, str) and bool(HOURS_RE.match(value))


#: key -> (check, what is allowed); a key not here takes any value.
VALIDATORS: dict[str, tuple[Callable[[Any], bool], str]] = {
    "ring.brightness": (lambda v: _in_unit_range(v) and v > 0, "a number > 0 and <= 1"),
    "night.brightness": (lambda v: _in_unit_range(v) and v > 0, "a number > 0 and <= 1"),
    "audio.volume": (_in_unit_range, "a number 0-1"),
    "ring.color": (lambda v: isinstance(v, str) and bool(COLOR_RE.match(v)), '"#RRGGBB"'),
    "session.pattern": (lambda v: v in (*PRESETS, CUSTOM), "a known pattern"),
    "session.inhale": (lambda v: _seconds(v, *BREATH_S), "seconds, 0.5-30"),
    "session.exhale": (lambda v: _seconds(v, *BREATH_S), "seconds, 0.5-30"),
    "session.hold_in": (lambda v: _seconds(v, *HOLD_S), "seconds, 0-30"),
    "session.hold_out": (lambda v: _seconds(v, *HOLD_S), "seconds, 0-30"),
    "session.breaths": (lambda v: isinstance(v, int) and 1 <= v <= 20, "1-20"),
    "reminder.enabled": (lambda v: isinstance(v, bool), "true or false"),
    "audio.enabled": (lambda v: isinstance(v, bool), "true or false"),
    "reminder.every_minutes": (
        lambda v: v in EVERY_MINUTES and not isinstance(v, bool),
        "a divisor of an hour or whole hours dividing a day",
    ),
    "reminder.active_hours": (_hours, '"HH:MM-HH:MM"'),
    "night.hours": (_hours, '"HH:MM-HH:MM"'),
}


def _pattern_refusal(
    proposed: Mapping[str, Any], changed: list[str], prefix: str = ""
) -> dict[str, Any] | None:
    """The real service's rule: "custom" needs its breaths, other patterns take none."""
    if proposed["session.pattern"] == CUSTOM:
        missing = [k for k in CUSTOM_NEEDS if proposed[k] is None]
        if missing:
            return error_reply(
                ErrorCode.INVALID,
                f'{prefix}session.pattern = "custom" needs {" and ".join(missing)}',
                key="session.pattern",
            )
        return None
    stray = [k for k in CUSTOM_KEYS if proposed[k] is not None]
    if stray:
        at = next((k for k in changed if k in stray), stray[0])
        return error_reply(
            ErrorCode.INVALID,
            f'{prefix}{at} is only used with session.pattern = "custom"',
            key=at,
        )
    return None


class WatcherCount(int):
    """How many watchers there are; calling it gives the same number (both spellings are used)."""

    def __call__(self) -> int:
        return int(self)


class FakeService:
    """The service's side of the control socket on `path`, with a little state of its own.

    `settings` overrides the fake device's defaults (still reported as "default");
    `sessions_today` and `streak_days` start its history.
    """

    def __init__(
        self,
        path: Path,
        settings: Mapping[str, Any] | None = None,
        sessions_today: int = 2,
        streak_days: int = 5,
    ) -> None:
        self.path = Path(path)
        self.defaults = {**DEFAULT_SETTINGS, **(settings or {})}
        self.settings: dict[str, dict[str, Any]] = {
            k: {"value": v, "source": "default"} for k, v in self.defaults.items()
        }
        self.status: dict[str, Any] = dict(IDLE_STATUS)
        self.sessions_today = sessions_today
        self.streak_days = streak_days
        #: stats' last_session: None until a session is recorded.
        self.last_session: str | None = None
        #: stats' breath_rates: sessions with a measured rate (record_rates adds one).
        self.rated: list[dict[str, Any]] = []
        #: Every request line received (parsed JSON), valid or not.
        self.requests: list[dict[str, Any]] = []
        #: cmd -> a reply to give instead of the fake's own (e.g. {"ok": false, ...}).
        self.forced: dict[str, dict[str, Any]] = {}
        self._lock = threading.RLock()
        self._watchers: dict[socket.socket, str] = {}
        self._listener: socket.socket | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> FakeService:
        """Listen on `path` (again, after stop(): the service came back)."""
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()
        listener.bind(str(self.path))
        listener.listen(64)
        self._listener = listener
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """The service goes away: the listener, the socket file and every watcher."""
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
            watchers = list(self._watchers)
            self._watchers.clear()
        for conn in watchers:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    # -- what a test reads ---------------------------------------------------------------------

    @property
    def watcher_count(self) -> WatcherCount:
        with self._lock:
            return WatcherCount(len(self._watchers))

    def commands(self) -> list[dict[str, Any]]:
        """The requests received so far (a copy)."""
        with self._lock:
            return list(self.requests)

    def requests_of(self, cmd: str) -> list[dict[str, Any]]:
        with self._lock:
            return [r for r in self.requests if r.get("cmd") == cmd]

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    # -- what a test does to the device --------------------------------------------------------

    def push(self, message: dict[str, Any]) -> None:
        """Send one line to every watcher (as the service does on a change)."""
        line = encode_line(message)
        with self._lock:
            for conn in list(self._watchers):
                try:
                    conn.sendall(line)
                except OSError:
                    self._watchers.pop(conn, None)

    def set_status(self, **changes: Any) -> None:
        with self._lock:
            self.status.update(changes)
            self.push({"kind": "status", "status": dict(self.status)})

    def gesture(self, gesture: str, source: str = "button") -> None:
        self.push({"kind": "gesture", "gesture": gesture, "source": source})

    def record_session(self, when: str | None = None) -> None:
        """A session ends: one more today; `when` (default: now) becomes stats' last_session."""
        stamp = when or datetime.now(UTC).isoformat(timespec="seconds")
        assert LAST_SESSION_RE.match(stamp), f"not a last_session time: {stamp}"
        with self._lock:
            self.sessions_today += 1
            self.last_session = stamp
        self.push({"kind": "history"})

    def record_rates(self, rate_start: float | None, rate_end: float | None) -> None:
        """A session with measured rates ends today: stats list it and today's means."""
        with self._lock:
            self.sessions_today += 1
            self.rated.append(
                {
                    "started": f"{TODAY.isoformat()}T09:{len(self.rated):02d}:00+01:00",
                    "pattern": "follow",
                    "outcome": "completed",
                    "rate_start": rate_start,
                    "rate_end": rate_end,
                }
            )
        self.push({"kind": "history"})

    def set_breath_rate(self, per_min: float | None, source: str = "mqtt") -> None:
        """The measured rate the status shows (None: none fresh), told to watchers."""
        rate = None if per_min is None else {"per_min": per_min, "age_s": 0.0, "source": source}
        self.set_status(breath_rate=rate)

    # -- the socket ------------------------------------------------------------------------------

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
        with conn:
            try:
                line = conn.makefile("rb").readline()
            except OSError:
                return
            reply = self._answer_line(line, conn)
            if reply is None:  # a watcher: it stays until it (or the fake) closes
                self._keep_watching(conn)
                return
            with contextlib.suppress(OSError):
                conn.sendall(encode_line(reply))

    def _answer_line(self, line: bytes, conn: socket.socket) -> dict[str, Any] | None:
        with contextlib.suppress(ValueError, RecursionError):
            raw = json.loads(line)
            if isinstance(raw, dict):
                with self._lock:
                    self.requests.append(raw)
                if raw.get("cmd") in self.forced:
                    return self.forced[raw["cmd"]]
        try:
            request = parse_request(line)
        except RequestError as exc:
            return error_reply(ErrorCode.BAD_REQUEST, str(exc))
        with self._lock:
            if request.cmd == "watch":
                return self._add_watcher(conn, request.client)
            return self.ANSWERS.get(request.cmd, FakeService._not_faked)(self, request)

    def _add_watcher(self, conn: socket.socket, client: str) -> dict[str, Any] | None:
        share = WATCH_SHARES[client]
        if sum(1 for kind in self._watchers.values() if kind == client) >= share:
            return too_many_watchers(client, share)
        conn.sendall(encode_line({"kind": "status", "status": dict(self.status)}))
        self._watchers[conn] = client
        return None

    def _keep_watching(self, conn: socket.socket) -> None:
        """Read until the watcher closes (it never writes again), then forget it."""
        while True:
            try:
                if not conn.recv(4096):
                    break
            except TimeoutError:
                if self._listener is None:
                    break
            except OSError:
                break
        with self._lock:
            self._watchers.pop(conn, None)

    # -- the answers (called with the lock held) ---------------------------------------------

    def _ok_status(self) -> dict[str, Any]:
        """start, stop, reminders and status answer with the status, as the real service."""
        return ok_reply(**self.status)

    def _status(self, _request: Request) -> dict[str, Any]:
        return self._ok_status()

    def _start(self, request: Request) -> dict[str, Any]:
        if request.pattern == "custom" and self.settings["session.pattern"]["value"] != "custom":
            return error_reply(
                ErrorCode.NOT_CONFIGURED, 'pattern "custom" needs session.pattern = "custom"'
            )
        # As the real service: a session begins with its lead-in, before breath 1.
        self.set_status(
            state="session",
            phase="lead-in",
            breath=0,
            breaths=SESSION_BREATHS,
            pattern=request.pattern or self.status["next_pattern"],
            elapsed=0.0,
        )
        return self._ok_status()

    def _stop(self, _request: Request) -> dict[str, Any]:
        keep = {k: self.status[k] for k in ("reminders", "next_pattern")}
        self.set_status(**{**IDLE_STATUS, **keep})
        return self._ok_status()

    def _reminders(self, request: Request) -> dict[str, Any]:
        self.set_status(reminders=request.value == "on")
        return self._ok_status()

    def _settings(self, _request: Request) -> dict[str, Any]:
        return ok_reply(
            settings=json.loads(json.dumps(self.settings)), restart_keys=list(RESTART_KEYS)
        )

    def _set(self, request: Request) -> dict[str, Any]:
        """One key, or several at once (all or none), as the real service."""
        changes = (
            request.values if request.values is not None else {str(request.key): request.value}
        )
        for key, value in changes.items():
            refused = self._refuse_key(key)
            if refused is not None:
                return refused
            check, allowed = VALIDATORS.get(key, (lambda v: True, "anything"))
            if not check(value):
                return error_reply(
                    ErrorCode.INVALID,
                    f"{key} = {json.dumps(value)} is not allowed; allowed: {allowed}",
                    key=key,
                )
        leaving_custom = changes.get("session.pattern", CUSTOM) != CUSTOM
        proposed = {k: entry["value"] for k, entry in self.settings.items()}
        if leaving_custom:  # its breaths go with it, as on the real service
            proposed.update(dict.fromkeys(CUSTOM_KEYS))
        proposed.update(changes)
        refused = _pattern_refusal(proposed, list(changes))
        if refused is not None:
            return refused
        sources = {k: "default" for k in CUSTOM_KEYS if leaving_custom}
        sources.update(dict.fromkeys(changes, "settings"))
        values = self._change({k: proposed[k] for k in sources}, sources)
        if request.values is not None:
            return ok_reply(values={k: values[k] for k in changes})
        key = next(iter(changes))
        return ok_reply(key=key, value=values[key])

    def _unset(self, request: Request) -> dict[str, Any]:
        key = str(request.key)
        if key in RESTART_KEYS and key in self.settings:
            return ok_reply(key=key, value=self.settings[key]["value"])  # nothing changes now
        refused = self._refuse_key(key)
        if refused is not None:
            return refused
        back = {key: self.defaults[key]}
        if key == "session.pattern" and self.defaults[key] != CUSTOM:  # the breaths go too
            back.update({k: self.defaults[k] for k in CUSTOM_KEYS})
        proposed = {k: entry["value"] for k, entry in self.settings.items()}
        proposed.update(back)
        refused = _pattern_refusal(
            proposed, [key], f"unset {key} would leave the settings invalid: "
        )
        if refused is not None:
            return {**refused, "key": key}  # as the real service: the key unset is named
        value = self._change(back, dict.fromkeys(back, "default"))[key]
        return ok_reply(key=key, value=value)

    def _refuse_key(self, key: str) -> dict[str, Any] | None:
        if key in RESTART_KEYS:
            return error_reply(ErrorCode.RESTART, f"{key} needs a restart", key=key)
        if key not in self.settings:
            return error_reply(ErrorCode.UNKNOWN_KEY, f"{key} is not a known key", key=key)
        return None

    def _change(self, values: Mapping[str, Any], sources: Mapping[str, str]) -> dict[str, Any]:
        """Store the values, tell the watchers once; returns them."""
        for key, value in values.items():
            self.settings[key] = {"value": value, "source": sources[key]}
        self.push({"kind": "settings"})
        follows = {STATUS_FOLLOWS[k]: v for k, v in values.items() if k in STATUS_FOLLOWS}
        if follows:
            self.set_status(**follows)
        return dict(values)

    def _stats(self, request: Request) -> dict[str, Any]:
        return ok_reply(stats=self.stats(request.days))

    def _breath_rate(self, request: Request) -> dict[str, Any]:
        value = request.value
        number = isinstance(value, int | float) and not isinstance(value, bool)
        low, high = RATE_RANGE
        if not number or not low <= value <= high:
            shown = value if number else repr(value)
            return error_reply(
                ErrorCode.INVALID,
                f"per_min = {shown} is not a breathing rate; {RATE_ALLOWED}",
                key="per_min",
            )
        self.set_breath_rate(round(float(value), 1), request.source)
        return ok_reply(breath_rate=self.status["breath_rate"])

    def _not_faked(self, request: Request) -> dict[str, Any]:
        return error_reply(ErrorCode.FAILED, f"the fake service does not do {request.cmd}")

    ANSWERS: ClassVar[dict[str, Callable[[FakeService, Request], dict[str, Any]]]] = {
        "status": _status,
        "start": _start,
        "stop": _stop,
        "reminders": _reminders,
        "settings": _settings,
        "set": _set,
        "unset": _unset,
        "stats": _stats,
        "breath_rate": _breath_rate,
    }

    def stats(self, days: int) -> dict[str, Any]:
        """The history as the service's `stats` gives it: some days with sessions, then today."""
        rows = []
        for i in range(days):
            day = TODAY - timedelta(days=days - 1 - i)
            sessions = self.sessions_today if day == TODAY else (day.toordinal() * 7 + 2) % 4
            rows.append(
                {
                    "date": day.isoformat(),
                    "sessions": sessions,
                    "completed": max(0, sessions - 1),
                    "breaths": sessions * 3,
                    "minutes": round(sessions * 0.6, 1),
                    "breath_rate": None,
                }
            )
        both = [r for r in self.rated if None not in (r["rate_start"], r["rate_end"])]
        if both:
            rows[-1]["breath_rate"] = {
                "start": round(sum(r["rate_start"] for r in both) / len(both), 1),
                "end": round(sum(r["rate_end"] for r in both) / len(both), 1),
                "sessions": len(both),
            }
        return {
            "today": dict(rows[-1]),
            "streak_days": self.streak_days,
            "days": rows,
            "pulses": {"shown": 9, "answered": 4},
            "last_session": self.last_session,
            "breath_rates": [dict(r) for r in self.rated],
        }


@contextlib.contextmanager
def running(path: Path, **start: Any) -> Iterator[FakeService]:
    """A started FakeService(path, **start), stopped after."""
    service = FakeService(path, **start).start()
    try:
        yield service
    finally:
        service.stop()
