"""The companions of the LED service: `breathring web` and `breathring mqtt`, as real processes.

    python -m benchmarks.companions [--quick]      (prints one JSON object)

- web: start-up (exec to the "listening on" line, and to the first answered
  GET /api/status; median of a few starts) and memory (VmRSS, VmHWM) after a
  page has been served and its event stream has run through a session;
- the service's CPU over one whole session (utime + stime from /proc/PID/stat,
  as % of one core) alone, and again with the web process attached and a page
  open (a client reading GET /api/events, as the page's EventSource does), in
  turn, three of each; the medians and their ratio;
- the MQTT bridge (mosquitto on a free loopback port): start-up to "online",
  idle CPU over 60 s, memory.

The machine's load average is part of the result: other work on it shows there.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from breathring.control.client import send_request

from .common import FIRMWARE
from .process import ServiceProcess, cpu_seconds, memory_mb

LOOPBACK = "127.0.0.1"
TOKEN = "c0ffee" * 10 + "c0de"
START_TIMEOUT_S = 30.0
HTTP_TIMEOUT_S = 10.0
#: (full, quick) runs.
FULL = {"web_starts": 3, "bridge_idle_s": 60.0, "session_s": None, "pairs": 3}
QUICK = {"web_starts": 1, "bridge_idle_s": 1.0, "session_s": 1.5, "pairs": 1}
#: The session measured starts this long after the press (the press itself is not the session).
SESSION_SKIP_S = 0.2
#: Between two looks at a condition while waiting for a process.
POLL_S = 0.02


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((LOOPBACK, 0))
        return sock.getsockname()[1]


def child_env(extra: dict[str, str]) -> dict[str, str]:
    path = os.pathsep.join(p for p in (str(FIRMWARE), os.environ.get("PYTHONPATH", "")) if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


def stop(proc: subprocess.Popen[Any]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(START_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_for(condition: Any, what: str, timeout: float = START_TIMEOUT_S) -> None:
    pause = threading.Event()
    deadline = time.perf_counter() + timeout
    while not condition():
        if time.perf_counter() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        pause.wait(POLL_S)


# -- web -------------------------------------------------------------------------------------


class Web:
    """`breathring web --listen 127.0.0.1:PORT --token-file F` next to the service."""

    def __init__(self, tmp: Path, socket_path: Path) -> None:
        token_file = tmp / "web.token"
        token_file.write_text(TOKEN + "\n")
        token_file.chmod(0o640)  # breathring web refuses a token file others can read
        self.port = free_port()
        self.url = f"http://{LOOPBACK}:{self.port}"
        argv = [
            sys.executable,
            "-m",
            "breathring.cli",
            "web",
            "--listen",
            f"{LOOPBACK}:{self.port}",
            "--token-file",
            str(token_file),
            "--socket",
            str(socket_path),
        ]
        started = time.perf_counter()
        self.proc = subprocess.Popen(
            argv, env=child_env({}), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            if "listening on" in line:
                break
        else:
            raise RuntimeError(f"breathring web exited {self.proc.wait()} before listening")
        self.listening_s = time.perf_counter() - started
        threading.Thread(target=self._drain, daemon=True).start()
        self.get("/api/status")
        self.first_answer_s = time.perf_counter() - started

    def _drain(self) -> None:
        assert self.proc.stderr is not None
        for _line in self.proc.stderr:
            pass

    def request(self, path: str) -> urllib.request.Request:
        return urllib.request.Request(self.url + path, headers={"Authorization": f"Bearer {TOKEN}"})

    def get(self, path: str) -> bytes:
        with urllib.request.urlopen(self.request(path), timeout=HTTP_TIMEOUT_S) as response:
            return response.read()

    def open_page(self) -> EventReader:
        """What the page does on load: the page, settings, history, then the event stream."""
        for path in ("/", "/app.js", "/style.css", "/api/settings", "/api/history?days=14"):
            self.get(path)
        return EventReader(self)


class EventReader:
    """A client reading GET /api/events (plain HTTP on a socket) in a thread, counting events."""

    def __init__(self, web: Web) -> None:
        self.events = 0
        self._sock = socket.create_connection((LOOPBACK, web.port), timeout=HTTP_TIMEOUT_S)
        self._sock.sendall(
            f"GET /api/events HTTP/1.1\r\nHost: {LOOPBACK}:{web.port}\r\n"
            f"Authorization: Bearer {TOKEN}\r\nAccept: text/event-stream\r\n\r\n".encode()
        )
        self._sock.settimeout(None)
        self._thread = threading.Thread(target=self._read, daemon=True)
        self._thread.start()

    def _read(self) -> None:
        with self._sock.makefile("rb") as stream:
            try:
                for line in stream:
                    self.events += line.startswith(b"event: ")
            except OSError:  # closed under our feet: the end
                pass

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._sock.shutdown(socket.SHUT_RDWR)
        self._thread.join(HTTP_TIMEOUT_S)
        self._sock.close()


def web_startup(starts: int, socket_path: Path) -> dict[str, float]:
    listening, answering = [], []
    for _ in range(starts):
        with tempfile.TemporaryDirectory(prefix="br-bw-") as tmp:
            web = Web(Path(tmp), socket_path)
            listening.append(web.listening_s)
            answering.append(web.first_answer_s)
            stop(web.proc)
    return {
        "web_startup_s": round(statistics.median(listening), 3),
        "web_first_answer_s": round(statistics.median(answering), 3),
    }


# -- the service's session ---------------------------------------------------------------------


def session_cpu(service: ServiceProcess, session_s: float | None) -> tuple[float, float]:
    """(% of a core, seconds measured) of the service over one session started by a press."""
    reply = send_request(service.socket, {"cmd": "press"})
    if not reply.get("ok") or reply.get("state") != "session":
        raise RuntimeError(f"press did not start a session: {reply}")
    seconds = float(reply["remaining"]) - SESSION_SKIP_S if session_s is None else session_s
    pid = service.proc.pid
    pause = threading.Event()
    pause.wait(SESSION_SKIP_S)
    cpu0, wall0 = cpu_seconds(pid), time.perf_counter()
    pause.wait(seconds)  # the measurement: the service runs its session meanwhile
    cpu1, wall1 = cpu_seconds(pid), time.perf_counter()
    if session_s is not None:  # quick: end the session rather than wait for it
        send_request(service.socket, {"cmd": "stop"})
    wait_for(
        lambda: send_request(service.socket, {"cmd": "status"})["state"] == "idle",
        "the session to end",
    )
    return 100.0 * (cpu1 - cpu0) / (wall1 - wall0), wall1 - wall0


def measure_web(tmp: Path, starts: int, session_s: float | None, pairs: int) -> dict[str, Any]:
    """Sessions alone and with the web process and a page attached, in turn (`pairs` of each)."""
    service = ServiceProcess(tmp)
    try:
        result: dict[str, Any] = {"service_startup_s": round(service.startup_s, 3)}
        result.update(web_startup(starts, service.socket))
        alone, attached, web_cpu, events = [], [], [], 0
        mem: dict[str, float] = {}
        for _ in range(pairs):
            pct, measured = session_cpu(service, session_s)
            alone.append(pct)
            web = Web(tmp, service.socket)
            reader = web.open_page()
            try:
                web_cpu0, wall0 = cpu_seconds(web.proc.pid), time.perf_counter()
                attached.append(session_cpu(service, session_s)[0])
                used = cpu_seconds(web.proc.pid) - web_cpu0
                web_cpu.append(100.0 * used / (time.perf_counter() - wall0))
                mem = memory_mb(web.proc.pid)
            finally:
                reader.close()
                stop(web.proc)
            events += reader.events
        median_alone, median_attached = statistics.median(alone), statistics.median(attached)
        result.update(
            session_seconds=round(measured, 2),
            service_session_cpu_pct=round(median_alone, 3),
            service_session_cpu_pct_with_web=round(median_attached, 3),
            with_web_ratio=round(median_attached / median_alone, 3) if median_alone else None,
            service_session_cpu_pct_runs=[round(x, 3) for x in alone],
            service_session_cpu_pct_with_web_runs=[round(x, 3) for x in attached],
            web_session_cpu_pct=round(statistics.median(web_cpu), 3),
            web_events_relayed=events,
            web_rss_mb=round(mem["VmRSS"], 1),
            web_peak_rss_mb=round(mem["VmHWM"], 1),
        )
        return result
    finally:
        service.close()


# -- the MQTT bridge ------------------------------------------------------------------------------


def measure_bridge(tmp: Path, idle_s: float) -> dict[str, Any]:
    mosquitto = shutil.which("mosquitto") or shutil.which("mosquitto", path="/usr/sbin")
    if mosquitto is None:
        return {"bridge": "skipped: mosquitto not installed (apt-get install mosquitto)"}
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    port = free_port()
    conf = tmp / "mosquitto.conf"
    lines = [f"listener {port} {LOOPBACK}", "persistence false", "allow_anonymous true"]
    if os.geteuid() == 0:
        lines.append("user root")
    conf.write_text("\n".join(lines) + "\n")
    broker = subprocess.Popen(
        [mosquitto, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    service = ServiceProcess(tmp)
    seen: dict[str, str] = {}
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-watcher")
    client.on_message = lambda _c, _u, m: seen.__setitem__(m.topic, m.payload.decode())
    client.on_connect = lambda c, *_: c.subscribe("breathring/#")
    bridge = None
    try:
        wait_for(lambda: _accepts(port), "mosquitto")
        client.connect(LOOPBACK, port)
        client.loop_start()
        config = tmp / "with-mqtt.toml"
        config.write_text(
            (tmp / "config.toml").read_text()
            + f'\n[mqtt]\nhost = "{LOOPBACK}"\nport = {port}\ndevice_id = "bench"\n'
        )
        started = time.perf_counter()
        bridge = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "breathring.cli",
                "mqtt",
                "--config",
                str(config),
                "--socket",
                str(service.socket),
            ],
            env=child_env({}),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: seen.get("breathring/bench/availability") == "online", "the bridge online")
        online_s = time.perf_counter() - started
        cpu0, wall0 = cpu_seconds(bridge.pid), time.perf_counter()
        threading.Event().wait(idle_s)  # idle on purpose: this is the measurement
        cpu1, wall1 = cpu_seconds(bridge.pid), time.perf_counter()
        mem = memory_mb(bridge.pid)
        return {
            "bridge_online_s": round(online_s, 3),
            "bridge_idle_s": round(wall1 - wall0, 1),
            "bridge_idle_cpu_pct": round(100.0 * (cpu1 - cpu0) / (wall1 - wall0), 4),
            "bridge_rss_mb": round(mem["VmRSS"], 1),
            "bridge_peak_rss_mb": round(mem["VmHWM"], 1),
        }
    finally:
        client.loop_stop()
        client.disconnect()
        if bridge is not None:
            stop(bridge)
        service.close()
        stop(broker)


def _accepts(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((LOOPBACK, port)) == 0


def measure(quick: bool = False) -> dict[str, Any]:
    sizes = QUICK if quick else FULL
    result: dict[str, Any] = {
        "date": time.strftime("%Y-%m-%d"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_before": [round(x, 2) for x in os.getloadavg()],
    }
    with tempfile.TemporaryDirectory(prefix="br-bc-") as d:
        (Path(d) / "web").mkdir()
        result.update(
            measure_web(Path(d) / "web", sizes["web_starts"], sizes["session_s"], sizes["pairs"])
        )
    with tempfile.TemporaryDirectory(prefix="br-bm-") as d:
        result.update(measure_bridge(Path(d), sizes["bridge_idle_s"]))
    result["load_after"] = [round(x, 2) for x in os.getloadavg()]
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.companions")
    parser.add_argument("--quick", action="store_true", help="a few seconds, for the smoke test")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.quick), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
