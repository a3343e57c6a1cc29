"""SPI timing rules for the boot files, on copies of real config.txt / cmdline.txt per model."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import pytest

from breathring.config import Config
from breathring.hw.boot_config import inspect, undo
from breathring.hw.boot_rules import (
    Need,
    board_from_model,
    bufsiz_for,
    fix_config_txt,
    live_mismatches,
    needs,
    parse_vcgencmd_clock,
    resolve_model,
)

DATA = Path(__file__).resolve().parents[1] / "data" / "boot"
PI3B = "Raspberry Pi 3 Model B Rev 1.2"
ZERO2W = "Raspberry Pi Zero 2 W Rev 1.0"
PI4B = "Raspberry Pi 4 Model B Rev 1.5"
PI5 = "Raspberry Pi 5 Model B Rev 1.0"


def text(name: str) -> str:
    return (DATA / name).read_text()


def missing(model: str, config: str, cmdline: str = "cmdline.txt", pixels: int = 24, bpp: int = 3):
    board = board_from_model(model)
    assert board is not None
    return [
        n.describe()
        for n in needs(board, text(config), text(cmdline), pixels=pixels, bytes_per_pixel=bpp)
    ]


def test_pi3b_buster_file_needs_spi_and_core_freq_250_and_ignores_the_pi4_section():
    assert missing(PI3B, "pi3b-config.txt", "pi3b-cmdline.txt") == [
        "config.txt: dtparam=spi=on (not set)",
        "config.txt: core_freq=250 (not set)",  # [pi4] core_freq=500 does not apply to a Pi 3
    ]


def test_zero2w_with_spi_enabled_needs_only_core_freq_250():
    assert missing(ZERO2W, "zero2w-config.txt") == ["config.txt: core_freq=250 (not set)"]


def test_pi4b_needs_core_freq_min_500_the_hdmi_section_does_not_count():
    assert missing(PI4B, "pi4b-config.txt") == ["config.txt: core_freq_min=500 (not set)"]


def test_pi5_needs_no_core_clock_only_spi():
    assert missing(PI5, "pi5-config.txt") == ["config.txt: dtparam=spi=on (not set)"]


def test_a_long_ring_needs_a_bigger_spidev_buffer():
    # 300 GRB pixels: 8 * 3 * 300 + 2 * 64 = 7328 bytes in one transfer -> 8192.
    assert missing(ZERO2W, "zero2w-config.txt", pixels=300) == [
        "config.txt: core_freq=250 (not set)",
        "cmdline.txt: spidev.bufsiz=8192 (not set)",
    ]
    assert missing(PI3B, "pi3b-config.txt", "pi3b-cmdline.txt", pixels=300, bpp=4)[-1] == (
        "cmdline.txt: spidev.bufsiz=16384 (is 4096)"  # GRBW: 9728 bytes
    )


def test_bufsiz_thresholds():
    assert bufsiz_for(165) is None  # 4088 bytes fit the default 4096
    assert bufsiz_for(166) == 8192  # 4112 do not
    assert bufsiz_for(1000) == 32768  # 24128


@pytest.mark.parametrize(
    ("model", "family"),
    [
        (PI3B, "pi3"),
        (ZERO2W, "pi3"),
        ("Raspberry Pi Zero W Rev 1.1", "pi3"),
        (PI4B, "pi4"),
        ("Raspberry Pi 400 Rev 1.0", "pi4"),
        ("Raspberry Pi Compute Module 4 Rev 1.0", "pi4"),
        (PI5, "pi5"),
        ("Raspberry Pi 500 Rev 1.0", "pi5"),
    ],
)
def test_models_fall_into_families(model, family):
    board = board_from_model(model)
    assert board is not None and board.family == family


def test_not_a_pi_has_no_board():
    assert board_from_model("QEMU Virtual Machine") is None
    assert resolve_model("auto", lambda: None) is None
    assert resolve_model("zero2w", lambda: None).family == "pi3"


def test_a_conflicting_value_is_commented_out_and_the_fix_is_in_force():
    board = board_from_model(PI3B)
    old = "dtparam=spi=on\ncore_freq=400\n"
    wanted = needs(board, old, None, pixels=24)
    assert wanted == [Need("config.txt", "core_freq", "250", "400")]
    new = fix_config_txt(old, board, wanted)
    assert "#core_freq=400" in new and new.rstrip().endswith("core_freq=250")
    assert needs(board, new, None, pixels=24) == []


@pytest.fixture
def boot(tmp_path):
    for name in ("pi4b-config.txt", "pi3b-config.txt", "pi3b-cmdline.txt", "cmdline.txt"):
        shutil.copy(DATA / name, tmp_path / name)
    return tmp_path


def test_fix_writes_backs_up_and_is_idempotent(boot):
    board = board_from_model(PI3B)
    config, cmdline = boot / "pi3b-config.txt", boot / "pi3b-cmdline.txt"
    first = inspect(board, config, cmdline, pixels=300, fix=True)
    assert first.changed == [config, cmdline]
    assert "a reboot is due for these settings to take effect" in first.lines()
    assert (boot / "pi3b-config.txt.breathring-backup").read_text() == text("pi3b-config.txt")
    assert config.read_text().endswith(
        "[all]\n# breathring: SPI timing for the LED ring "
        "(breathring boot-config)\ndtparam=spi=on\n"
        "core_freq=250\n"
    )
    line = cmdline.read_text()
    assert line.count("\n") == 1 and "spidev.bufsiz=8192" in line and "bufsiz=4096" not in line
    before = (config.read_text(), cmdline.read_text())
    second = inspect(board, config, cmdline, pixels=300, fix=True)
    assert second.missing == [] and second.changed == []
    assert (config.read_text(), cmdline.read_text()) == before


def test_the_live_clock_and_buffer_are_compared_with_what_the_model_needs():
    assert parse_vcgencmd_clock("frequency(1)=250000000\n") == 250.0
    assert parse_vcgencmd_clock("error") is None
    pi4 = board_from_model(PI4B)
    assert live_mismatches(pi4, 500.0, 4096, 24) == []
    assert live_mismatches(pi4, 200.0, 4096, 300) == [
        "the core clock runs at 200 MHz, not 500",
        "spidev's buffer is 4096 bytes; one frame needs 7328",
    ]
    assert live_mismatches(board_from_model(PI5), 910.0, None, 24) == []


def cli(boot, *extra):
    from breathring.cli import main

    return main(
        [
            "boot-config",
            "--config-txt",
            str(boot / "pi4b-config.txt"),
            "--cmdline",
            str(boot / "cmdline.txt"),
            *extra,
        ]
    )


def test_cli_reports_then_fixes(boot, capsys):
    assert cli(boot, "--model", "pi4", "--pixels", "24") == 1
    out = capsys.readouterr().out
    assert "missing config.txt: core_freq_min=500 (not set)" in out
    assert cli(boot, "--model", "pi4", "--pixels", "24", "--fix") == 0
    assert "a reboot is due" in capsys.readouterr().out
    assert cli(boot, "--model", "pi4", "--pixels", "24", "--fix") == 0
    assert "have what SPI timing needs" in capsys.readouterr().out


def test_cli_off_a_pi_with_model_auto_is_unavailable(boot, capsys, monkeypatch):
    from breathring.hw import boot_config

    monkeypatch.setattr(boot_config, "read_model", lambda *a: None)
    assert cli(boot, "--model", "auto") == 69
    assert "is not a known Raspberry Pi; give --model" in capsys.readouterr().out


def test_other_drivers_need_nothing(boot, capsys):
    assert cli(boot, "--model", "pi4", "--driver", "pwm") == 0
    assert "ring.driver = pwm: no SPI timing settings needed" in capsys.readouterr().out


def test_run_takes_pixels_and_order_from_the_ring_config(boot):
    args = argparse.Namespace(
        model="pi3",
        pixels=None,
        driver=None,
        fix=False,
        config_txt=str(boot / "pi3b-config.txt"),
        cmdline=str(boot / "pi3b-cmdline.txt"),
    )
    lines: list[str] = []
    from breathring.hw.boot_config import run

    assert run(args, Config().ring, lines.append) == 1
    assert (
        lines[0] == "Raspberry Pi 3 Model B Rev 1.2: Pi 3 / Zero / Zero 2 W class "
        "(SPI clock follows the core clock)"
    )


def test_a_second_fix_after_a_change_keeps_the_owners_first_backup(boot):
    board = board_from_model(PI3B)
    config, cmdline = boot / "pi3b-config.txt", boot / "pi3b-cmdline.txt"
    assert inspect(board, config, cmdline, pixels=300, fix=True).changed == [config, cmdline]
    # The owner edits config.txt again and the ring grows: the next fix writes both again.
    config.write_text(config.read_text() + "core_freq=400\n")
    second = inspect(board, config, cmdline, pixels=3000, fix=True)
    assert second.changed == [config, cmdline]
    assert "spidev.bufsiz=131072" in cmdline.read_text()
    # The backups are still the files as the owner had them before the first fix.
    assert (boot / "pi3b-config.txt.breathring-backup").read_text() == text("pi3b-config.txt")
    assert (boot / "pi3b-cmdline.txt.breathring-backup").read_text() == text("pi3b-cmdline.txt")


@pytest.mark.parametrize(
    ("model", "config", "cmdline"),
    [(PI3B, "pi3b-config.txt", "pi3b-cmdline.txt"), (PI4B, "pi4b-config.txt", "cmdline.txt")],
)
def test_undo_takes_out_exactly_what_fix_wrote(boot, model, config, cmdline):
    config_txt, cmdline_txt = boot / config, boot / cmdline
    first = inspect(board_from_model(model), config_txt, cmdline_txt, pixels=300, fix=True)
    assert first.changed == [config_txt, cmdline_txt]
    assert undo(config_txt, cmdline_txt) == [config_txt, cmdline_txt]
    assert config_txt.read_text() == text(config)
    assert cmdline_txt.read_text() == text(cmdline)  # pi3b's own spidev.bufsiz=4096 is back
    assert (boot / (config + ".breathring-backup")).exists()  # the backups stay
    assert undo(config_txt, cmdline_txt) == []  # nothing of ours left


def test_undo_turns_the_owners_replaced_lines_on_again(tmp_path):
    config_txt = tmp_path / "config.txt"
    original = "# mine\ncore_freq=400\ndtparam=audio=on\n"
    config_txt.write_text(original)
    inspect(board_from_model(PI3B), config_txt, None, pixels=24, fix=True)
    fixed = config_txt.read_text()
    assert "#core_freq=400  # breathring boot-config: replaced below\n" in fixed
    assert fixed.endswith("dtparam=spi=on\ncore_freq=250\n")
    undo(config_txt, None)
    assert config_txt.read_text() == original


def test_cli_undo(boot, capsys):
    assert cli(boot, "--model", "pi4", "--pixels", "300", "--fix") == 0
    capsys.readouterr()
    assert cli(boot, "--undo") == 0
    out = capsys.readouterr().out
    assert f"removed the SPI timing settings of breathring from {boot / 'pi4b-config.txt'}" in out
    assert "this takes effect at the next reboot" in out
    assert (boot / "pi4b-config.txt").read_text() == text("pi4b-config.txt")
    assert (boot / "cmdline.txt").read_text() == text("cmdline.txt")
    assert cli(boot, "--undo") == 0
    assert "nothing to undo" in capsys.readouterr().out


def test_undo_also_takes_out_the_block_of_the_old_installer(tmp_path):
    config_txt = tmp_path / "config.txt"
    original = "dtparam=audio=on\n"
    config_txt.write_text(
        original + "# >>> breathring (systemd/install.sh): SPI clock for the LED ring\n"
        "[all]\ndtparam=spi=on\ncore_freq=250\n# <<< breathring\n"
    )
    assert undo(config_txt, None) == [config_txt]
    assert config_txt.read_text() == original


def test_fix_and_undo_keep_bytes_that_are_not_utf8(tmp_path):
    config_txt, cmdline = tmp_path / "config.txt", tmp_path / "cmdline.txt"
    original = b"# caf\xe9 (latin-1)\ncore_freq=400\n"
    config_txt.write_bytes(original)
    cmdline.write_bytes(b"quiet label=caf\xe9\n")
    inspect(board_from_model(PI3B), config_txt, cmdline, pixels=300, fix=True)
    assert config_txt.read_bytes().startswith(b"# caf\xe9 (latin-1)\n#core_freq=400  # breathring")
    assert cmdline.read_bytes() == b"quiet label=caf\xe9 spidev.bufsiz=8192\n"
    assert undo(config_txt, cmdline) == [config_txt, cmdline]
    assert config_txt.read_bytes() == original
    assert cmdline.read_bytes() == b"quiet label=caf\xe9\n"
