"""Issue 11, as a user checks it: the history and the settings of the real service.

`breathring run --hardware mock` with temporary runtime/state directories and a
config file (a one-breath custom session of 5.5 s); the CLI as a user runs it.
"""

from __future__ import annotations

from testkit import wait_until
from testkit.stack import SHORT_SESSION_S, Device

#: The session, plus the history written off the loop, on a loaded machine.
SESSION_DEADLINE_S = SHORT_SESSION_S + 10.0
EXIT_CONFIG = 78


def today(device: Device) -> dict:
    return device.cli_json("stats")["today"]


def setting(device: Device, key: str) -> dict:
    return device.cli_json("settings")["settings"][key]


def test_a_finished_session_is_counted_and_survives_sigkill(device: Device) -> None:
    assert today(device)["sessions"] == 0
    pressed = device.cli("press")
    assert pressed.returncode == 0, pressed.stderr
    assert device.status()["state"] == "session"
    counted = wait_until(
        lambda: (t := today(device))["completed"] == 1 and t,
        SESSION_DEADLINE_S,
        "the finished session in breathring stats --json",
    )
    assert counted["sessions"] == 1
    assert counted["breaths"] == 1
    assert device.status()["phase"] == "idle"
    stats = device.cli_json("stats", "--days", "7")
    assert len(stats["days"]) == 7
    assert stats["days"][-1] == {**counted}
    assert stats["streak_days"] == 1

    device.kill_and_restart()
    after = today(device)
    assert (after["sessions"], after["completed"], after["breaths"]) == (1, 1, 1)


def test_set_is_kept_across_a_restart_and_a_bad_value_changes_nothing(device: Device) -> None:
    done = device.cli("set", "ring.brightness", "0.3")
    assert done.returncode == 0, done.stderr
    assert setting(device, "ring.brightness") == {"value": 0.3, "source": "settings"}
    saved = (device.base / "state" / "settings.toml").read_text()

    refused = device.cli("set", "ring.brightness", "7")
    assert refused.returncode == EXIT_CONFIG
    assert "ring.brightness" in refused.stderr
    assert len(refused.stderr.strip().splitlines()) == 1
    assert setting(device, "ring.brightness") == {"value": 0.3, "source": "settings"}
    assert (device.base / "state" / "settings.toml").read_text() == saved

    device.kill_and_restart()
    assert setting(device, "ring.brightness") == {"value": 0.3, "source": "settings"}
