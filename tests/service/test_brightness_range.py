"""One brightness range for every way in: the real service refuses a value below 0.01."""

from __future__ import annotations

from testkit.process import CliService


def test_set_refuses_a_brightness_below_the_range_naming_key_and_range(
    cli_service: CliService,
) -> None:
    cli_service.start()
    refused = cli_service.cli("set", "ring.brightness", "0.001")
    assert refused.returncode == 78
    assert "ring.brightness = 0.001" in refused.stderr
    assert "allowed 0.01-1" in refused.stderr
    night = cli_service.cli("set", "night.brightness", "5e-324")
    assert night.returncode == 78 and "allowed 0.01-1" in night.stderr
    settings = cli_service.json("settings")["settings"]
    assert settings["ring.brightness"]["value"] == 0.5  # nothing changed
    assert cli_service.cli("set", "ring.brightness", "0.01").returncode == 0  # the lowest allowed
