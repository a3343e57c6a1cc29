"""`breathring check`'s SPI timing verdict: when it applies, and its detail word for word.

The boot files are copies under tmp_path (CONFIG_TXT_PATHS and CMDLINE_PATHS point there)
and the live clock and buffer are given by stand-ins for the readers.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from testkit.boot_files import empty_boot_folders

from breathring.hw import boot_config
from breathring.hw.boot_config import check_spi_timing

PI3B = "Raspberry Pi 3 Model B Rev 1.2"
PI4B = "Raspberry Pi 4 Model B Rev 1.5"
PI5 = "Raspberry Pi 5 Model B Rev 1.0"


def ring(pixels: int = 24, order: str = "GRB", driver: str = "spi") -> SimpleNamespace:
    return SimpleNamespace(pixels=pixels, order=order, driver=driver)


@pytest.fixture
def boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/boot/firmware and /boot under tmp_path, empty; a live clock of 250 MHz, buffer 4096."""
    empty_boot_folders(tmp_path, monkeypatch)
    live(monkeypatch, 250.0, 4096)
    return tmp_path


def live(monkeypatch: pytest.MonkeyPatch, mhz: float | None, bufsiz: int | None) -> None:
    monkeypatch.setattr(boot_config, "live_core_mhz", lambda: mhz)
    monkeypatch.setattr(boot_config, "live_bufsiz", lambda: bufsiz)


@pytest.mark.parametrize(
    ("model", "the_ring"),
    [
        (None, ring()),
        ("", ring()),
        ("QEMU Virtual Machine", ring()),
        (PI3B, ring(driver="pwm")),
        (PI3B, SimpleNamespace(pixels=24, order="GRB")),  # no driver at all
    ],
)
def test_no_verdict_off_a_pi_or_for_a_ring_not_on_spi(boot: Path, model, the_ring) -> None:
    (boot / "boot" / "config.txt").write_text("")
    assert check_spi_timing(model, the_ring) is None


def test_a_pi_without_config_txt_fails(boot: Path) -> None:
    assert check_spi_timing(PI3B, ring()) == (
        False,
        "no /boot/firmware/config.txt or /boot/config.txt to check",
    )


def test_all_set_names_the_family(boot: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\ncore_freq=500\ncore_freq_min=500\n")
    live(monkeypatch, 500.0, 4096)
    assert check_spi_timing(PI4B, ring()) == (
        True,
        "Pi 4 class (SPI clock follows the core clock, which scales): "
        "boot settings and live clock as needed",
    )


def test_the_first_config_txt_found_is_the_one_checked(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\ncore_freq=250\n")
    assert check_spi_timing(PI3B, ring())[0] is True
    (boot / "boot" / "firmware" / "config.txt").write_text("dtparam=spi=on\n")
    assert check_spi_timing(PI3B, ring()) == (
        False,
        "missing config.txt: core_freq=250 (not set) "
        "(fix: sudo breathring boot-config --fix, then reboot)",
    )


def test_missing_settings_and_the_live_clock_are_named_together(
    boot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (boot / "boot" / "config.txt").write_text("core_freq=400\n")
    live(monkeypatch, 400.0, 4096)
    assert check_spi_timing(PI3B, ring()) == (
        False,
        "missing config.txt: dtparam=spi=on (not set); "
        "missing config.txt: core_freq=250 (is 400); "
        "the core clock runs at 400 MHz, not 250 "
        "(fix: sudo breathring boot-config --fix, then reboot)",
    )


def test_files_right_but_not_yet_in_force_ask_for_a_reboot(
    boot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\n")
    (boot / "boot" / "cmdline.txt").write_text("quiet spidev.bufsiz=8192\n")
    live(monkeypatch, None, 4096)
    assert check_spi_timing(PI5, ring(pixels=200)) == (
        False,
        "spidev's buffer is 4096 bytes; one frame needs 4928 (reboot to apply)",
    )


def test_the_cmdline_and_the_ring_s_colour_order_size_the_buffer(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\n")
    # 125 RGBW pixels: 8 * 4 * 125 + 128 = 4128 bytes, more than the default 4096.
    assert check_spi_timing(PI5, ring(pixels=125, order="GRBW")) == (
        False,
        "missing cmdline.txt: spidev.bufsiz=8192 (not set); "
        "spidev's buffer is 4096 bytes; one frame needs 4128 "
        "(fix: sudo breathring boot-config --fix, then reboot)",
    )
    assert check_spi_timing(PI5, ring(pixels=125))[0] is True  # GRB: 3128 bytes
    # A ring without an order counts three bytes a pixel.
    assert check_spi_timing(PI5, SimpleNamespace(pixels=125, driver="spi"))[0] is True
    (boot / "boot" / "cmdline.txt").write_text("quiet spidev.bufsiz=8192\n")
    assert check_spi_timing(PI5, ring(pixels=125, order="GRBW")) == (
        False,
        "spidev's buffer is 4096 bytes; one frame needs 4128 (reboot to apply)",
    )
