"""Issue 11's web page against the REAL service: `breathring web` as a user starts it.

The API with curl's eyes (urllib), and the page in Debian's headless chromium
(selenium + chromium-driver). The browser test skips only outside CI; under
CI=true a missing chromium, chromedriver or selenium is a failure.
"""

from __future__ import annotations

import json
import time
import urllib.request
from pathlib import Path
from typing import Any

from testkit import DEADLINE_S, LOOPBACK, wait_until
from testkit.browser import text
from testkit.stack import Device, WebProcess

WRONG_TOKEN = "0" * 64
#: Issue 11: the session shows in `status --json`, and the phase on the page, within a second.
WITHIN_S = 1.0


def test_api_against_the_real_service(device: Device, web: WebProcess) -> None:
    for token in ("", WRONG_TOKEN):
        refused = web.request("GET", "/api/status", token=token)
        assert refused.status == 401
        assert refused.body["ok"] is False
    assert web.request("POST", "/api/session", token="").status == 401
    assert device.status()["state"] == "idle"  # the refused POST started nothing

    status = web.request("GET", "/api/status")
    assert status.status == 200
    assert status.body["phase"] == "idle"
    assert set(status.body) >= {"phase", "breath", "breaths", "pattern", "reminders"}

    posted = time.monotonic()
    started = web.request("POST", "/api/session")
    assert started.status == 200
    seen = device.status()
    assert seen["state"] == "session", seen
    assert seen["elapsed"] < WITHIN_S + (time.monotonic() - posted)
    assert seen["breaths"] == 1 and seen["pattern"] == "custom"

    # The reminders switch leaves the running session alone (the fakes always did).
    switched = web.request("PUT", "/api/reminders", {"enabled": False})
    assert switched.status == 200
    assert (switched.body["reminders"], switched.body["state"]) == (False, "session")
    assert device.status()["reminders"] is False

    bad = web.request("PATCH", "/api/settings", {"ring.brightness": 7})
    assert bad.status == 400
    assert bad.body["key"] == "ring.brightness"
    assert "ring.brightness" in bad.body["error"]
    unknown = web.request("PATCH", "/api/settings", {"ring.sparkle": 1})
    assert (unknown.status, unknown.body["key"]) == (400, "ring.sparkle")
    restart = web.request("PATCH", "/api/settings", {"ring.pixels": 12})
    assert (restart.status, restart.body["key"]) == (400, "ring.pixels")
    assert device.cli_json("settings")["settings"]["ring.brightness"]["source"] == "default"

    good = web.request("PATCH", "/api/settings", {"ring.brightness": 0.25})
    assert good.status == 200
    assert device.cli_json("settings")["settings"]["ring.brightness"] == {
        "value": 0.25,
        "source": "settings",
    }

    # The config's custom pattern is one of the page's choices (the page shows what runs).
    choices = web.request("GET", "/api/settings").body["choices"]["session.pattern"]
    assert choices[0] == "three-breath" and choices[-1] == "custom"

    history = web.request("GET", "/api/history?days=7")
    assert history.status == 200
    days = history.body["days"]
    assert len(days) == 7
    assert days[-1]["date"] == history.body["today"]["date"]
    assert all(set(d) == {"date", "sessions", "completed", "breaths", "minutes"} for d in days)
    assert web.request("GET", "/api/history?days=0").body["key"] == "days"

    # The service gone (SIGKILL): 503 saying so, not a hang or a 500.
    device.service.proc.kill()
    device.service.proc.wait()
    gone = web.request("GET", "/api/status")
    assert gone.status == 503
    assert "not running" in gone.body["error"]


def test_event_stream_relays_the_real_service(device: Device, web: WebProcess) -> None:
    """GET /api/events: the current status at once, then the session's phases as they change."""
    request = urllib.request.Request(
        f"{web.url}/api/events", headers={"Authorization": f"Bearer {web.token}"}
    )
    with urllib.request.urlopen(request, timeout=DEADLINE_S) as stream:
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        first = next_event(stream)
        assert first[0] == "status" and first[1]["phase"] == "idle"
        assert device.cli("press").returncode == 0
        phases = []
        while "inhale" not in phases:
            kind, data = next_event(stream)
            if kind == "status":
                phases.append(data["phase"])
        assert phases[:2] == ["lead-in", "inhale"]


def next_event(stream: Any) -> tuple[str, dict[str, Any]]:
    """The next `event:`/`data:` pair (comments and retry lines skipped)."""
    kind = ""
    while True:
        line = stream.readline().decode().rstrip("\n")
        if line.startswith("event: "):
            kind = line[len("event: ") :]
        elif line.startswith("data: ") and kind:
            return kind, json.loads(line[len("data: ") :])


# -- the page in a real browser ------------------------------------------------------------------


def slider(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, "brightness").get_attribute("value")


def test_page_in_headless_chromium_against_the_real_service(browser: Any, base: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    (base / "default").mkdir()
    device = Device(base / "default", config="")  # three breaths: 34.5 s outlast a reload
    web = WebProcess(device)
    try:
        driver = browser
        driver.get(f"{web.url}/?token={web.token}")
        assert driver.current_url == f"http://{LOOPBACK}:{web.port}/"
        wait_until(lambda: text(driver, "link") == "live", what="the live event stream")
        assert text(driver, "phase") == "Ready"
        assert slider(driver) == "0.5"  # ring.brightness's default
        wait_until(
            lambda: len(driver.find_elements(By.CSS_SELECTOR, "#chart .bar")) == 14,
            what="the 14-day chart",
        )

        tapped = time.monotonic()
        driver.find_element(By.ID, "start").click()
        wait_until(lambda: text(driver, "phase") == "Settle in", WITHIN_S, "the lead-in phase")
        assert time.monotonic() - tapped < WITHIN_S
        assert device.status()["state"] == "session"

        driver.find_element(By.ID, "brightness").send_keys(Keys.ARROW_LEFT)
        wait_until(
            lambda: (
                "ring.brightness            = 0.49  (settings)" in device.cli("settings").stdout
            ),
            what="0.49 in breathring settings",
        )

        driver.refresh()
        wait_until(lambda: slider(driver) == "0.49", what="the brightness kept after a reload")
        wait_until(
            lambda: text(driver, "phase") in ("Settle in", "Breathe in", "Hold"),
            what="the running session after a reload",
        )
        errors = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        assert errors == [], errors

        driver.delete_all_cookies()
        driver.get(f"{web.url}/")
        assert "This page needs its key" in text(driver, "login")
    finally:
        web.close()
        device.close()
