"""The real service on mock hardware with a measured breathing rate, over its control socket.

`breathring run --hardware mock` as systemd runs it; readings are sent as `breathring mqtt`
sends them; status and stats are read with the CLI, as a user would.
"""

from __future__ import annotations

import json

from testkit import wait_until

CONFIG = (
    '[session]\npattern = "follow"\nfollow_minutes = 3\n'
    "[breath_sensor]\nstale_seconds = 5\n"
    "[reminder]\nenabled = false\n"
)


def status(proc) -> dict:
    result = proc.cli("status", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def stats(proc) -> dict:
    result = proc.cli("stats", "--days", "1", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_a_rate_shows_goes_stale_and_is_recorded_by_a_follow_session(service_process) -> None:
    proc = service_process(config=CONFIG)
    proc.wait_ready()
    assert status(proc)["breath_rate"] is None
    assert proc.cmd(cmd="breath_rate", per_min=14.0, source="mqtt")["ok"]
    shown = status(proc)["breath_rate"]
    assert (shown["per_min"], shown["source"]) == (14.0, "mqtt") and shown["age_s"] < 5.0
    wait_until(lambda: status(proc)["breath_rate"] is None, what="the rate to go stale")

    # A follow session from a fresh 20 a minute: 24 breaths slowing to 6 in 3 minutes.
    assert proc.cmd(cmd="breath_rate", per_min=20.0, source="mqtt")["ok"]
    started = proc.cmd(cmd="start")
    assert (started["pattern"], started["breaths"]) == ("follow", 24)
    assert proc.cmd(cmd="breath_rate", per_min=8.5, source="mqtt")["ok"]
    assert proc.cmd(cmd="stop")["ok"]
    wait_until(lambda: stats(proc)["breath_rates"], what="the session in the history")
    day = stats(proc)
    assert day["breath_rates"][0]["rate_start"] == 20.0
    assert day["breath_rates"][0]["rate_end"] == 8.5
    assert day["breath_rates"][0]["pattern"] == "follow"
    assert day["today"]["breath_rate"] == {"start": 20.0, "end": 8.5, "sessions": 1}

    # Without a fresh reading: the steady coherent pace, 16 breaths in 3 minutes, no rates.
    wait_until(lambda: status(proc)["breath_rate"] is None, what="the rate to go stale")
    started = proc.cmd(cmd="start")
    assert (started["pattern"], started["breaths"], started["breath_rate"]) == ("follow", 16, None)
    assert proc.cmd(cmd="stop")["ok"]
    wait_until(lambda: stats(proc)["today"]["sessions"] == 2, what="the second session")
    assert len(stats(proc)["breath_rates"]) == 1
    assert proc.stop() == 0
