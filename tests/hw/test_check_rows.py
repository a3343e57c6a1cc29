"""`breathring check`: the SPI-timing and clock rows, and parts that are not wired."""

from __future__ import annotations

import io
import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

from breathring.clock import FakeClock
from breathring.config import Config, parse_config
from breathring.hw import boot_config
from breathring.hw.selection import Hardware, open_hardware
from breathring.selftest import check_boot_and_clock, run_check

DATA = Path(__file__).resolve().parents[1] / "data" / "boot"
PI3B = "Raspberry Pi 3 Model B Rev 1.2"


def clock(synced: bool = True) -> FakeClock:
    return FakeClock(datetime(2026, 1, 15, 12, 0, tzinfo=UTC), synced=synced)


def rows(cfg: Config, model: str | None, synced: bool = True) -> dict[str, tuple[bool, str]]:
    hw = Hardware(None, None, None, "pi", model=model)  # type: ignore[arg-type]
    return {r.item: (r.ok, r.detail) for r in check_boot_and_clock(cfg, hw, clock(synced))}


def test_spi_timing_row_names_what_the_boot_files_lack(tmp_path, monkeypatch):
    shutil.copy(DATA / "pi3b-config.txt", tmp_path / "config.txt")
    shutil.copy(DATA / "pi3b-cmdline.txt", tmp_path / "cmdline.txt")
    monkeypatch.setattr(boot_config, "CONFIG_TXT_PATHS", (tmp_path / "config.txt",))
    monkeypatch.setattr(boot_config, "CMDLINE_PATHS", (tmp_path / "cmdline.txt",))
    monkeypatch.setattr(boot_config, "live_core_mhz", lambda: 400.0)
    monkeypatch.setattr(boot_config, "live_bufsiz", lambda: 4096)
    ok, detail = rows(Config(), PI3B)["spi timing"]
    assert not ok
    assert detail == (
        "missing config.txt: dtparam=spi=on (not set); missing config.txt: core_freq=250 "
        "(not set); the core clock runs at 400 MHz, not 250 "
        "(fix: sudo breathring boot-config --fix, then reboot)"
    )
    (tmp_path / "config.txt").write_text("dtparam=spi=on\ncore_freq=250\n")
    ok, detail = rows(Config(), PI3B)["spi timing"]
    assert not ok and detail == "the core clock runs at 400 MHz, not 250 (reboot to apply)"
    monkeypatch.setattr(boot_config, "live_core_mhz", lambda: 250.0)
    assert rows(Config(), PI3B)["spi timing"][0] is True


def test_no_spi_row_off_a_pi_or_without_spi():
    assert "spi timing" not in rows(Config(), None)
    assert "spi timing" not in rows(parse_config('[ring]\ndriver = "none"\n'), PI3B)


def test_clock_row_fails_only_when_pulses_would_never_come():
    assert rows(Config(), None)["clock"] == (True, "synchronised")
    ok, detail = rows(Config(), None, synced=False)["clock"]
    assert not ok and detail.startswith("not synchronised: no network time yet and no RTC")
    trusting = parse_config('[reminder]\ntrust_clock = "always"\n')
    assert rows(trusting, None, synced=False)["clock"][0] is True
    quiet = parse_config("[reminder]\nenabled = false\n")
    assert rows(quiet, None, synced=False)["clock"][0] is True


def test_parts_not_wired_are_skipped_not_failed():
    cfg = parse_config('[ring]\ndriver = "none"\n[button]\npin = "none"\n[audio]\ndriver = "dummy"')
    c = clock()
    hw = open_hardware(cfg, "mock", c, logging.getLogger("t"))
    out = io.StringIO()
    try:
        assert run_check(cfg, hw, c, out, button_timeout=0.0) == 0
    finally:
        hw.close()
    text = out.getvalue()
    rows = dict(re.findall(r"^  (\S.*?) +PASS  (.*)$", text, flags=re.M))
    assert rows["ring"] == 'not wired (ring.driver = "none"): skipped'
    assert rows["button"] == 'not wired (button.pin = "none"): skipped'
    assert rows["breath sensor"] == 'not configured ([breath_sensor] kind = "none")'
    assert "all checks passed" in text
