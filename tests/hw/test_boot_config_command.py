"""`breathring boot-config`: its options, where it looks, what it says word for word, its exits.

The boot files are written under tmp_path; the default places (CONFIG_TXT_PATHS,
CMDLINE_PATHS), the machine's model and its live clock are stand-ins set per test.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from testkit.boot_files import empty_boot_folders

from breathring.cli import build_parser, main
from breathring.hw import boot_config
from breathring.hw.boot_config import run, undo

RING = SimpleNamespace(pixels=24, driver="spi", order="GRB")
PI3_LINE = (
    "Raspberry Pi 3 Model B Rev 1.2: Pi 3 / Zero / Zero 2 W class "
    "(SPI clock follows the core clock)"
)
PI5_LINE = "Raspberry Pi 5 Model B Rev 1.0: Pi 5 class (RP1 has its own SPI clock)"
NAMES = "pi1, pi2, pi3, pi3+, zero, zerow, zero2w, pi4, pi400, pi5, pi500"


def command(*argv: str, ring: object = RING) -> tuple[int, list[str]]:
    """Exit code and lines of `breathring boot-config ARGV` with `ring` as the config's [ring]."""
    args = build_parser().parse_args(["boot-config", *argv])
    lines: list[str] = []
    return run(args, ring, lines.append), lines


@pytest.fixture
def boot(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Empty /boot/firmware and /boot under tmp_path as the default places; not a Pi."""
    empty_boot_folders(tmp_path, monkeypatch)
    monkeypatch.setattr(boot_config, "read_model", lambda: None)
    monkeypatch.setattr(boot_config, "live_core_mhz", not_read)
    monkeypatch.setattr(boot_config, "live_bufsiz", not_read)
    return tmp_path


def not_read() -> None:
    raise AssertionError("the live system is read only for --model auto")


def test_help_names_every_option(capsys: pytest.CaptureFixture, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as stop:
        main(["boot-config", "--help"])
    assert stop.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "usage: breathring boot-config [-h] [--config FILE] [--model MODEL] [--pixels PIXELS] "
        "[--driver DRIVER] [--config-txt PATH] [--cmdline PATH] [--fix | --undo]\n"
    )
    assert out.split("\noptions:\n", 1)[1] == (
        "  -h, --help         show this help message and exit\n"
        "  --config FILE      configuration file (TOML)\n"
        "  --model MODEL      auto (read /proc/device-tree/model), a name "
        f"({NAMES}) or a model text\n"
        "  --pixels PIXELS    pixels on the ring (default: ring.pixels)\n"
        "  --driver DRIVER    LED driver (default: ring.driver); only spi needs settings\n"
        "  --config-txt PATH  default: /boot/firmware/config.txt, else /boot/config.txt\n"
        "  --cmdline PATH     default: /boot/firmware/cmdline.txt, else /boot/cmdline.txt\n"
        "  --fix              write what is missing (backup first)\n"
        "  --undo             take out what --fix wrote (the uninstaller; the backups stay)\n"
    )


def test_the_defaults_are_auto_no_fix_no_undo() -> None:
    args = build_parser().parse_args(["boot-config"])
    assert (args.model, args.pixels, args.driver, args.config_txt, args.cmdline) == (
        "auto",
        None,
        None,
        None,
        None,
    )
    assert (args.fix, args.undo) == (False, False)
    fixing = build_parser().parse_args(["boot-config", "--fix", "--pixels", "1"])
    assert (fixing.fix, fixing.undo, fixing.pixels) == (True, False, 1)
    assert build_parser().parse_args(["boot-config", "--undo"]).undo is True


@pytest.mark.parametrize(
    ("argv", "error"),
    [
        (["--fix", "--undo"], "argument --undo: not allowed with argument --fix"),
        (["--pixels", "0"], "argument --pixels: '0' is not a number of pixels (1 or more)"),
        (["--pixels", "-3"], "argument --pixels: '-3' is not a number of pixels (1 or more)"),
        (["--pixels", "2.5"], "argument --pixels: '2.5' is not a number of pixels (1 or more)"),
    ],
)
def test_usage_mistakes_are_refused(argv: list[str], error: str, capsys) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["boot-config", *argv])
    assert stop.value.code == 2
    assert capsys.readouterr().err.endswith(f"breathring boot-config: error: {error}\n")


def test_off_a_pi_it_names_the_models_it_knows(boot: Path) -> None:
    advice = (
        f"give --model with one of {NAMES} (or skip: the settings are for a Pi's boot partition)"
    )
    assert command() == (69, [f"breathring: this machine is not a known Raspberry Pi; {advice}"])
    assert command("--model", "banana") == (
        69,
        [f"breathring: --model 'banana' is not a known Raspberry Pi; {advice}"],
    )


def test_without_config_txt_it_names_where_it_looked(boot: Path) -> None:
    firmware, old = boot / "boot" / "firmware" / "config.txt", boot / "boot" / "config.txt"
    assert command("--model", "pi3") == (
        69,
        [f"breathring: no config.txt at {firmware} or {old}; give --config-txt PATH"],
    )
    given = boot / "elsewhere.txt"
    assert command("--model", "pi3", "--config-txt", str(given)) == (
        69,
        [f"breathring: no config.txt at {given}; give --config-txt PATH"],
    )
    # A directory is not a config.txt either.
    assert command("--model", "pi3", "--config-txt", str(boot / "boot")) == (
        69,
        [f"breathring: no config.txt at {boot / 'boot'}; give --config-txt PATH"],
    )


def test_a_cmdline_given_must_exist(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\ncore_freq=250\n")
    given = boot / "cmdline.txt"
    assert command("--model", "pi3", "--cmdline", str(given)) == (
        69,
        [f"breathring: no cmdline.txt at {given}; give --cmdline PATH"],
    )


def test_the_first_default_place_found_is_used(boot: Path) -> None:
    old = boot / "boot" / "config.txt"
    old.write_text("dtparam=spi=on\ncore_freq=250\n")
    assert command("--model", "pi3") == (
        0,
        [PI3_LINE, f"{old} and the cmdline have what SPI timing needs"],
    )
    firmware = boot / "boot" / "firmware" / "config.txt"
    firmware.write_text("dtparam=spi=on\n")
    assert command("--model", "pi3") == (
        1,
        [PI3_LINE, "missing config.txt: core_freq=250 (not set)"],
    )


def test_the_default_cmdline_sizes_the_buffer_of_a_long_ring(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\n")
    long_ring = SimpleNamespace(pixels=200, driver="spi", order="GRB")
    missing = "missing cmdline.txt: spidev.bufsiz=8192"
    assert command("--model", "pi5", ring=long_ring) == (1, [PI5_LINE, f"{missing} (not set)"])
    (boot / "boot" / "cmdline.txt").write_text("quiet spidev.bufsiz=4096\n")
    assert command("--model", "pi5", ring=long_ring) == (1, [PI5_LINE, f"{missing} (is 4096)"])
    (boot / "boot" / "firmware" / "cmdline.txt").write_text("quiet spidev.bufsiz=8192\n")
    assert command("--model", "pi5", ring=long_ring)[0] == 0


def test_pixels_and_order_come_from_the_ring_unless_given(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("dtparam=spi=on\n")
    missing = [PI5_LINE, "missing cmdline.txt: spidev.bufsiz=8192 (not set)"]
    # 125 GRBW pixels need 4128 bytes, 125 GRB pixels 3128: the default 4096 holds those.
    assert command(
        "--model", "pi5", ring=SimpleNamespace(pixels=125, driver="spi", order="GRBW")
    ) == (
        1,
        missing,
    )
    assert command("--model", "pi5", ring=SimpleNamespace(pixels=125, driver="spi"))[0] == 0
    assert command("--model", "pi5", "--pixels", "166") == (1, missing)
    assert command("--model", "pi5", "--pixels", "165")[0] == 0


def test_a_ring_not_on_spi_needs_nothing(boot: Path) -> None:
    (boot / "boot" / "config.txt").write_text("")
    pwm = SimpleNamespace(pixels=24, driver="pwm", order="GRB")
    expected = (0, ["ring.driver = pwm: no SPI timing settings needed"])
    assert command("--model", "pi3", ring=pwm) == expected
    assert command("--model", "pi3", "--driver", "pwm") == expected
    assert command("--model", "pi3", "--driver", "spi", ring=pwm)[0] == 1
    assert command("--model", "pi3", "--fix", ring=pwm) == expected
    assert (boot / "boot" / "config.txt").read_text() == ""  # --fix wrote nothing


def test_the_fix_says_what_it_set_and_where_the_backups_are(boot: Path) -> None:
    config, cmdline = boot / "boot" / "config.txt", boot / "boot" / "cmdline.txt"
    config.write_text("core_freq=400\n")
    cmdline.write_text("quiet\n")
    assert command("--model", "pi3", "--pixels", "200", "--fix") == (
        0,
        [
            PI3_LINE,
            "set config.txt: dtparam=spi=on (not set)",
            "set config.txt: core_freq=250 (is 400)",
            "set cmdline.txt: spidev.bufsiz=8192 (not set)",
            f"backup of {config}: {config}.breathring-backup",
            f"backup of {cmdline}: {cmdline}.breathring-backup",
            "a reboot is due for these settings to take effect",
        ],
    )
    assert command("--model", "pi3", "--pixels", "200", "--fix") == (
        0,
        [PI3_LINE, f"{config} and the cmdline have what SPI timing needs"],
    )


def test_model_auto_reads_the_machine_and_compares_the_live_clock(
    boot: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = boot / "boot" / "config.txt"
    config.write_text("core_freq=250\n")
    (boot / "boot" / "cmdline.txt").write_text("quiet\n")
    monkeypatch.setattr(boot_config, "read_model", lambda: "Raspberry Pi 3 Model B Rev 1.2\n")
    monkeypatch.setattr(boot_config, "live_core_mhz", lambda: 400.0)
    monkeypatch.setattr(boot_config, "live_bufsiz", lambda: 4096)
    assert command("--pixels", "200") == (
        1,
        [
            PI3_LINE,
            "missing config.txt: dtparam=spi=on (not set)",
            "missing cmdline.txt: spidev.bufsiz=8192 (not set)",
            "not yet in force: the core clock runs at 400 MHz, not 250 (reboot)",
            "not yet in force: spidev's buffer is 4096 bytes; one frame needs 4928 (reboot)",
        ],
    )
    # Right after a fix the live values are not compared: the reboot is due anyway.
    code, lines = command("--pixels", "200", "--fix")
    assert code == 0 and lines[-1] == "a reboot is due for these settings to take effect"
    assert command("--pixels", "200") == (
        0,
        [
            PI3_LINE,
            f"{config} and the cmdline have what SPI timing needs",
            "not yet in force: the core clock runs at 400 MHz, not 250 (reboot)",
            "not yet in force: spidev's buffer is 4096 bytes; one frame needs 4928 (reboot)",
        ],
    )


def test_undo_says_what_it_took_out(boot: Path) -> None:
    config, cmdline = boot / "boot" / "config.txt", boot / "boot" / "cmdline.txt"
    config.write_text("core_freq=400\n")
    cmdline.write_text("quiet spidev.bufsiz=4096\n")
    assert command("--model", "pi3", "--pixels", "200", "--fix")[0] == 0
    assert command("--undo") == (
        0,
        [
            f"removed the SPI timing settings of breathring from {config}",
            f"removed the SPI timing settings of breathring from {cmdline}",
            "this takes effect at the next reboot",
        ],
    )
    assert (config.read_text(), cmdline.read_text()) == (
        "core_freq=400\n",
        "quiet spidev.bufsiz=4096\n",
    )
    assert command("--undo") == (
        0,
        [f"{config} has no SPI timing lines of breathring: nothing to undo"],
    )


def test_undo_without_config_txt_has_nothing_to_do(boot: Path) -> None:
    assert command("--undo") == (0, ["no config.txt: nothing to undo"])
    given = boot / "boot"  # a directory
    assert command("--undo", "--config-txt", str(given)) == (0, ["no config.txt: nothing to undo"])


def test_undo_of_the_config_alone_leaves_the_owners_buffer_size(boot: Path) -> None:
    config, cmdline = boot / "config.txt", boot / "cmdline.txt"
    config.write_text("dtparam=spi=on\ncore_freq=400\n")
    cmdline.write_text("quiet spidev.bufsiz=8192\n")  # the owner's, for another SPI device
    argv = ("--config-txt", str(config), "--cmdline", str(cmdline))
    assert command("--model", "pi3", "--fix", *argv)[0] == 0
    assert not (boot / "cmdline.txt.breathring-backup").exists()  # the fix left it alone
    assert command("--undo", *argv) == (
        0,
        [
            f"removed the SPI timing settings of breathring from {config}",
            "this takes effect at the next reboot",
        ],
    )
    assert cmdline.read_text() == "quiet spidev.bufsiz=8192\n"
    assert command("--model", "pi3", "--fix", *argv)[0] == 0
    assert undo(config, boot / "no-cmdline.txt") == [config]


def test_a_fix_without_a_cmdline_txt_says_the_buffer_is_still_missing(boot: Path) -> None:
    config = boot / "config.txt"
    config.write_text("core_freq=400\n")
    argv = ("--model", "pi5", "--pixels", "200", "--config-txt", str(config))
    assert command(*argv, "--fix") == (
        1,
        [
            PI5_LINE,
            "set config.txt: dtparam=spi=on (not set)",
            f"backup of {config}: {config}.breathring-backup",
            "a reboot is due for these settings to take effect",
            "missing cmdline.txt: spidev.bufsiz=8192 (not set)",
        ],
    )
    assert command(*argv) == (1, [PI5_LINE, "missing cmdline.txt: spidev.bufsiz=8192 (not set)"])
