"""The boot files' rules for an SPI ring, text in and text out, written down literally:
which board a model names, what config.txt and cmdline.txt lack, the fix and its undo."""

from __future__ import annotations

import pytest

from breathring.hw.boot_rules import (
    Board,
    Need,
    board_from_model,
    bufsiz_for,
    cmdline_bufsiz,
    effective_settings,
    fix_cmdline,
    fix_config_txt,
    live_mismatches,
    needs,
    parse_vcgencmd_clock,
    resolve_model,
    spi_bytes_per_frame,
    undo_cmdline,
    undo_config_txt,
)

MARKER = "# breathring: SPI timing for the LED ring (breathring boot-config)"
REPLACED = "  # breathring boot-config: replaced below"


def board(model: str) -> Board:
    found = board_from_model(model)
    assert found is not None
    return found


PI3 = board("Raspberry Pi 3 Model B Rev 1.2")
PI4 = board("Raspberry Pi 4 Model B Rev 1.5")
PI5 = board("Raspberry Pi 5 Model B Rev 1.0")


@pytest.mark.parametrize(
    ("model", "family", "tags"),
    [
        ("Raspberry Pi Model B Rev 2", "pi3", {"pi1"}),
        ("Raspberry Pi 2 Model B Rev 1.1", "pi3", {"pi2"}),
        ("Raspberry Pi 3 Model B Rev 1.2", "pi3", {"pi3"}),
        ("Raspberry Pi 3 Model B Plus Rev 1.3", "pi3", {"pi3", "pi3+"}),
        ("Raspberry Pi Compute Module 3 Plus Rev 1.0", "pi3", {"pi3", "pi3+", "cm3"}),
        ("Raspberry Pi Zero Rev 1.3", "pi3", {"pi0"}),
        ("Raspberry Pi Zero W Rev 1.1", "pi3", {"pi0", "pi0w"}),
        ("Raspberry Pi Zero 2 W Rev 1.0", "pi3", {"pi0", "pi02"}),
        ("Raspberry Pi 4 Model B Rev 1.5", "pi4", {"pi4"}),
        ("Raspberry Pi 400 Rev 1.0", "pi4", {"pi4", "pi400"}),
        ("Raspberry Pi Compute Module 4 Rev 1.0", "pi4", {"pi4", "cm4"}),
        ("Raspberry Pi 5 Model B Rev 1.0", "pi5", {"pi5"}),
        ("Raspberry Pi 500 Rev 1.0", "pi5", {"pi5", "pi500"}),
        ("Raspberry Pi Compute Module 5 Rev 1.0", "pi5", {"pi5", "cm5"}),
        ("Raspberry Pi 40 Model X", "pi3", {"pi1"}),  # "4" only as a whole word
    ],
)
def test_a_model_text_names_its_family_and_filters(model: str, family: str, tags: set) -> None:
    assert board_from_model(f"{model}\x00\n") == Board(model, family, frozenset(tags))


def test_only_a_raspberry_pi_is_a_board() -> None:
    assert board_from_model("QEMU Virtual Machine") is None
    assert board_from_model("raspberry pi 4") is None


def test_models_are_named_short_long_or_read() -> None:
    assert resolve_model("PI400", lambda: None) == board("Raspberry Pi 400 Rev 1.0")
    assert resolve_model("pi3+", lambda: None) == board("Raspberry Pi 3 Model B Plus Rev 1.3")
    assert resolve_model("Raspberry Pi 5 Model B Rev 1.1", lambda: None) == board(
        "Raspberry Pi 5 Model B Rev 1.1"
    )
    assert resolve_model("auto", lambda: "Raspberry Pi Zero W Rev 1.1\x00") == board(
        "Raspberry Pi Zero W Rev 1.1"
    )
    assert resolve_model("auto", lambda: "") is None
    assert resolve_model("auto", lambda: None) is None
    assert resolve_model("banana", lambda: "Raspberry Pi 4 Model B") is None


CONFIG = """\
# a comment with core_freq=1
dtparam=audio=on, SPI = ON
core_freq=300
[pi4]
core_freq=500
[pi3]
Core_Freq = 350
[HDMI:1]
core_freq=100
[pi3]
arm_freq=1200
[all]
gpu_mem=64
[none]
gpu_mem=16
[PI3+]
arm_freq=1400
"""


def test_settings_in_force_follow_the_board_filters() -> None:
    assert effective_settings(CONFIG, PI3) == {
        "dtparam:audio": "on",
        "dtparam:spi": "on",
        "core_freq": "350",
        "gpu_mem": "64",
    }
    assert effective_settings(CONFIG, PI4) == {
        "dtparam:audio": "on",
        "dtparam:spi": "on",
        "core_freq": "500",
        "gpu_mem": "64",
    }
    plus = board("Raspberry Pi 3 Model B Plus Rev 1.3")
    assert effective_settings(CONFIG, plus)["arm_freq"] == "1400"


def test_a_bare_dtparam_is_on() -> None:
    assert effective_settings("dtparam=spi\ndtparam=i2c_arm=off", PI5) == {
        "dtparam:spi": "on",
        "dtparam:i2c_arm": "off",
    }


def test_frame_bytes_and_the_buffer_they_need() -> None:
    assert spi_bytes_per_frame(24) == 704
    assert spi_bytes_per_frame(24, 4) == 896
    assert bufsiz_for(165) is None and bufsiz_for(166) == 8192
    assert bufsiz_for(124, 4) is None and bufsiz_for(125, 4) == 8192
    assert bufsiz_for(336) == 8192 and bufsiz_for(337) == 16384


def test_cmdline_bufsiz_last_number_wins() -> None:
    assert cmdline_bufsiz("quiet spidev.bufsiz=8192 root=/dev/x spidev.bufsiz=16384") == 16384
    assert cmdline_bufsiz("spidev.bufsiz=big spidev.bufsizx=9 xspidev.bufsiz=7") is None
    assert cmdline_bufsiz("") is None


@pytest.mark.parametrize(
    ("b", "config", "wanted"),
    [
        (
            PI3,
            "",
            [
                "config.txt: dtparam=spi=on (not set)",
                "config.txt: core_freq=250 (not set)",
            ],
        ),
        (
            PI4,
            "dtparam=spi=off\ncore_freq=500\ncore_freq_min=250",
            ["config.txt: dtparam=spi=on (is off)", "config.txt: core_freq_min=500 (is 250)"],
        ),
        (PI5, "dtparam=spi=yes", []),
        (PI5, "dtparam=spi=true", []),
        (PI5, "dtparam=spi=1", []),
        (PI4, "dtparam=spi=on\ncore_freq=500\ncore_freq_min=500", []),
    ],
)
def test_what_config_txt_lacks(b: Board, config: str, wanted: list[str]) -> None:
    assert [n.describe() for n in needs(b, config, None, pixels=24)] == wanted


def test_what_cmdline_txt_lacks_for_a_long_ring() -> None:
    on = "dtparam=spi=on"
    assert needs(PI5, on, None, pixels=200) == [Need("cmdline.txt", "spidev.bufsiz", "8192", None)]
    assert needs(PI5, on, "spidev.bufsiz=4800", pixels=200) == [
        Need("cmdline.txt", "spidev.bufsiz", "8192", "4800")
    ]
    assert needs(PI5, on, "spidev.bufsiz=4928", pixels=200) == []  # exactly one frame
    assert needs(PI5, on, "spidev.bufsiz=4927", pixels=200)[0].have == "4927"
    assert needs(PI5, on, "spidev.bufsiz=4096", pixels=100, bytes_per_pixel=4) == []
    assert needs(PI5, "", None, pixels=200, driver="pwm") == []


def test_the_fix_comments_out_conflicts_and_appends_one_block() -> None:
    config = "core_freq=400\n[HDMI:1]\ncore_freq=100\n[all]\ndtparam=spi=off\n"
    wanted = needs(PI4, config, None, pixels=24)
    assert fix_config_txt(config, PI4, wanted) == (
        f"#core_freq=400{REPLACED}\n[HDMI:1]\ncore_freq=100\n[all]\ndtparam=spi=off\n"
        f"\n[all]\n{MARKER}\ndtparam=spi=on\ncore_freq=500\ncore_freq_min=500\n"
    )
    assert fix_config_txt(config, PI4, []) == config
    assert fix_config_txt(config, PI4, [Need("cmdline.txt", "spidev.bufsiz", "8192", None)]) == (
        config
    )


def test_the_undo_gives_back_the_owners_file() -> None:
    config = "# mine\ncore_freq=400\n[pi4]\narm_boost=1\n"
    fixed = fix_config_txt(config, PI4, needs(PI4, config, None, pixels=24))
    assert undo_config_txt(fixed) == config
    assert undo_config_txt(fixed + "[pi5]\nfoo=1\n") == config + "[pi5]\nfoo=1\n"
    assert undo_config_txt("") == ""


def test_the_undo_takes_out_the_old_installers_block_only_when_whole() -> None:
    legacy = (
        "a=1\n# >>> breathring (systemd/install.sh): SPI clock for the LED ring\n"
        "core_freq=250\n# <<< breathring\nb=2\n"
    )
    assert undo_config_txt(legacy) == "a=1\nb=2\n"
    unfinished = "a=1\n# >>> breathring (systemd/install.sh): SPI clock for the LED ring\nc=3\n"
    assert undo_config_txt(unfinished) == unfinished


def test_a_marker_without_its_section_keeps_the_line_before() -> None:
    assert undo_config_txt(f"a=1\n\n{MARKER}\ncore_freq=250\n\n[x]\n") == "a=1\n\n\n[x]\n"
    assert undo_config_txt(f"[all]\n{MARKER}\ncore_freq=250\n[pi4]\nb=1\n") == "[pi4]\nb=1\n"


def test_cmdline_fix_and_undo() -> None:
    want = [Need("cmdline.txt", "spidev.bufsiz", "8192", None)]
    line = "console=tty1 spidev.bufsiz=4096 root=/dev/mmcblk0p2 rootwait\n"
    fixed = fix_cmdline(line, want)
    assert fixed == "console=tty1 root=/dev/mmcblk0p2 rootwait spidev.bufsiz=8192\n"
    assert fix_cmdline(line, [Need("config.txt", "core_freq", "250", None)]) == line
    assert (
        undo_cmdline(fixed, line)
        == "console=tty1 root=/dev/mmcblk0p2 rootwait spidev.bufsiz=4096\n"
    )
    assert undo_cmdline(fixed, "console=tty1\n") == "console=tty1 root=/dev/mmcblk0p2 rootwait\n"


def test_the_live_clock_is_read_and_compared_within_one_percent() -> None:
    assert parse_vcgencmd_clock("frequency(48)= 500000000") == 500.0
    assert parse_vcgencmd_clock("frequency(1)=250500000\n") == 250.5
    assert parse_vcgencmd_clock("frequency(1)=") is None
    assert live_mismatches(PI3, 252.5, None, 24) == []
    assert live_mismatches(PI3, 247.5, None, 24) == []
    assert live_mismatches(PI3, 252.6, None, 24) == ["the core clock runs at 252.6 MHz, not 250"]
    assert live_mismatches(PI3, None, None, 24) == []
    assert live_mismatches(PI4, 505.5, None, 24) == ["the core clock runs at 505.5 MHz, not 500"]


def test_the_live_buffer_is_compared_only_for_a_ring_that_needs_more() -> None:
    assert live_mismatches(PI5, None, 4096, 200) == [
        "spidev's buffer is 4096 bytes; one frame needs 4928"
    ]
    assert live_mismatches(PI5, None, 4928, 200) == []
    assert live_mismatches(PI5, None, 100, 24) == []  # the default is enough: not asked
    assert live_mismatches(PI5, None, 4096, 125, 4) == [
        "spidev's buffer is 4096 bytes; one frame needs 4128"
    ]


def test_a_comment_or_value_ending_in_a_bracket_is_no_section() -> None:
    config = (
        "[pi4]\n# the settings below are for [all]\ncore_freq=500\nfoo=[x]\ncore_freq_min=500\n"
    )
    assert effective_settings(config, PI4) == {
        "core_freq": "500",
        "foo": "[x]",
        "core_freq_min": "500",
    }


def test_a_four_byte_ring_counts_four_bytes_against_the_buffer_it_has() -> None:
    on = "dtparam=spi=on"
    # 200 GRBW pixels: 8 * 4 * 200 + 128 = 6528 bytes; 5000 would hold them as GRB (4928).
    assert needs(PI5, on, "spidev.bufsiz=5000", pixels=200, bytes_per_pixel=4) == [
        Need("cmdline.txt", "spidev.bufsiz", "8192", "5000")
    ]
    assert needs(PI5, on, "spidev.bufsiz=6528", pixels=200, bytes_per_pixel=4) == []


def test_the_undo_takes_out_every_old_installers_block() -> None:
    begin = "# >>> breathring (systemd/install.sh): SPI clock for the LED ring"
    block = f"{begin}\ncore_freq=250\n# <<< breathring\n"
    assert undo_config_txt(f"a=1\n{block}{block}c=3\n") == "a=1\nc=3\n"


def test_a_marker_with_no_settings_keeps_the_section_after_it() -> None:
    assert undo_config_txt(f"a=1\n\n[all]\n{MARKER}\n[pi4]\nb=1\n") == "a=1\n[pi4]\nb=1\n"
    assert undo_config_txt(f"[all]\n{MARKER}\n\nb=1\n") == "\nb=1\n"
