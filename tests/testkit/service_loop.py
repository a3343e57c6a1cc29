"""The Service loop in virtual time: build one on mock hardware, step it, send it requests."""

from __future__ import annotations

import dataclasses
import json
import queue
import socket
import threading
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from testkit.mock_hw import Bench, make_bench
from testkit.process import SHORT_SESSION

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.control.feed import Watcher
from breathring.control.protocol import Request
from breathring.control.server import ControlRequest
from breathring.history import History
from breathring.history_recorder import HistoryWorker
from breathring.service import Service
from breathring.settings import Settings, SettingsFile
from breathring.state import StateStore

UTC = ZoneInfo("UTC")
BERLIN = ZoneInfo("Europe/Berlin")
#: More steps than this in one run_for means the loop is spinning without the clock moving.
STEP_LIMIT = 2_000_000
SHORT = SHORT_SESSION
SESSION_S = 6.5


def run_for(service: Service, clock: FakeClock, seconds: float, limit: int = STEP_LIMIT) -> None:
    """Step the service until `seconds` of the fake clock have passed."""
    end = clock.monotonic() + seconds
    steps = 0
    while clock.monotonic() < end:
        service.step()
        steps += 1
        assert steps < limit, "the loop is spinning"


def _start(service_args: dict, cfg: Config, bench: Bench, clock: FakeClock) -> Service:
    hw = bench.hardware

    def wait(timeout: float):
        try:
            return hw.button.events.get_nowait()
        except queue.Empty:
            clock.advance(timeout)
            return None

    service = Service(cfg, hw, clock, wait=wait, **service_args)
    service.start()
    return service


def make_service(
    cfg: Config | None = None,
    at: str = "12:10",
    order: str = "GRB",
    tmp_path: Path | None = None,
    synced: bool = True,
    audio=None,
    audio_opener=None,
    kind: str = "mock",
    sensor_opener=None,
):
    """A started Service on the real NeoPixelRing and GpioButton over mock buses, on 2026-01-15
    at `at` (UTC); with a state directory if `tmp_path` is given.

    Returns the service, its clock and the bench: `.button` is a hand on the mock pin,
    `.ring` what went over the wire, `.audio` the cues asked for.
    """
    cfg = cfg or Config()
    h, m = map(int, at.split(":"))
    clock = FakeClock(datetime(2026, 1, 15, h, m, tzinfo=UTC), synced=synced)
    bench = make_bench(cfg, clock, order=order)
    bench.hardware = dataclasses.replace(bench.hardware, audio=audio or bench.audio, kind=kind)
    if audio is not None:
        bench.audio = audio
    extra: dict = {"state": StateStore(Path(tmp_path)) if tmp_path else None}
    if audio_opener is not None:
        extra["audio_opener"] = audio_opener
    if sensor_opener is not None:
        extra["sensor_opener"] = sensor_opener
    return _start(extra, cfg, bench, clock), clock, bench


def make_service_with_settings(
    tmp_path: Path, config: str = SHORT, at=(2026, 3, 10, 12, 10), synced: bool = True
):
    """A started Service that owns its settings file and history in `tmp_path` (Berlin time).

    `synced`: whether the fake wall clock counts as synchronised (False: not trusted).
    """
    cfg = parse_config(config)
    clock = FakeClock(datetime(*at, tzinfo=BERLIN), synced=synced)
    bench = make_bench(cfg, clock)
    settings = Settings(cfg, SettingsFile(tmp_path))
    settings.load()
    history = HistoryWorker(lambda: History.open(tmp_path / "history.sqlite3"))
    service = _start({"settings": settings, "history": history}, settings.cfg, bench, clock)
    return service, clock, bench


def control(service: Service, **fields) -> dict:
    """One control request handed to the loop as the socket would, and its reply."""
    replies: list[dict] = []
    cmd = fields.pop("cmd")
    service.inbox.put(ControlRequest(Request(cmd, **fields), replies.append))
    service.step()
    if not replies:  # history queries are answered by the history's thread
        assert service.history is not None and service.history.flush()
    return replies[0]


class WatchClient:
    """A watcher on one end of a socket pair; the test reads the other end."""

    def __init__(self, service: Service, max_lines: int = 256, read: bool = True) -> None:
        self.ours, theirs = socket.socketpair()
        self.watcher = Watcher(theirs, max_lines=max_lines, send_timeout=0.05)
        replies: list[dict] = []
        service.inbox.put(ControlRequest(Request("watch"), replies.append, self.watcher))
        service.step()
        assert replies == [{"ok": True}]
        self.thread = threading.Thread(target=self.watcher.run, daemon=True)
        self.thread.start()
        self.file = self.ours.makefile("r") if read else None

    def lines(self, count: int) -> list[dict]:
        assert self.file is not None
        self.ours.settimeout(5)
        return [json.loads(self.file.readline()) for _ in range(count)]
