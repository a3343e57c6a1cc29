"""What a Raspberry Pi's boot files need for a NeoPixel ring on SPI: the one home of the rules.

WS2812 over SPI (ring.driver = "spi") encodes every data bit as one SPI byte,
so the LEDs see the right timing only when the SPI clock is what the driver
asked for. On the older boards the SPI clock is divided from the VPU core
clock, which the firmware scales with load:

- Pi 3 / Zero / Zero 2 W (and Pi 1, 2, CM3): fix the core clock with
  ``core_freq=250`` (rpi_ws281x, "SPI" section; its issues #381, #194).
- Pi 4 / 400 / CM4: ``core_freq=500`` and ``core_freq_min=500`` (#447:
  dynamic clocking desyncs the SPI clock).
- Pi 5 / 500 / CM5: the RP1 chip has its own SPI clock; no core_freq.
- Every model: SPI on (``dtparam=spi=on``) and, for a long ring, a spidev
  buffer large enough for one frame in one transfer (``spidev.bufsiz=N`` in
  cmdline.txt; the default 4096 bytes holds about 165 RGB pixels).

Pure functions of text: which board a model text names, what its config.txt
and cmdline.txt lack (`needs`), the files with it added (`fix_*`) or taken out
again (`undo_*`), and what the live clock says. hw/boot_config.py reads and
writes the files and runs `breathring boot-config`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

MARKER = "# breathring: SPI timing for the LED ring (breathring boot-config)"
#: The owner's lines --fix turned off carry this (so that --undo can turn them on again).
REPLACED_SUFFIX = "  # breathring boot-config: replaced below"
ALL_SECTION = "[all]"
#: The block the installer's own shell rules wrote before boot-config existed (undo takes it out).
LEGACY_BEGIN = "# >>> breathring (systemd/install.sh): SPI clock for the LED ring"
LEGACY_END = "# <<< breathring"
BUFSIZ_KEY = "spidev.bufsiz"

#: Families of boards, by what their SPI clock needs.
LEGACY, PI4, PI5 = "pi3", "pi4", "pi5"
FAMILY_TEXT = {
    LEGACY: "Pi 3 / Zero / Zero 2 W class (SPI clock follows the core clock)",
    PI4: "Pi 4 class (SPI clock follows the core clock, which scales)",
    PI5: "Pi 5 class (RP1 has its own SPI clock)",
}
#: config.txt settings each family needs for SPI timing.
CORE_SETTINGS = {
    LEGACY: (("core_freq", "250"),),
    PI4: (("core_freq", "500"), ("core_freq_min", "500")),
    PI5: (),
}
#: --model names accepted besides "auto" and a full /proc/device-tree/model text.
MODEL_NAMES = {
    "pi1": "Raspberry Pi Model B Rev 2",
    "pi2": "Raspberry Pi 2 Model B Rev 1.1",
    "pi3": "Raspberry Pi 3 Model B Rev 1.2",
    "pi3+": "Raspberry Pi 3 Model B Plus Rev 1.3",
    "zero": "Raspberry Pi Zero Rev 1.3",
    "zerow": "Raspberry Pi Zero W Rev 1.1",
    "zero2w": "Raspberry Pi Zero 2 W Rev 1.0",
    "pi4": "Raspberry Pi 4 Model B Rev 1.5",
    "pi400": "Raspberry Pi 400 Rev 1.0",
    "pi5": "Raspberry Pi 5 Model B Rev 1.0",
    "pi500": "Raspberry Pi 500 Rev 1.0",
}

#: spidev's default buffer (bytes) when cmdline.txt does not set spidev.bufsiz.
SPIDEV_DEFAULT_BUFSIZ = 4096
#: neopixel_spi: one SPI byte per data bit, and a reset gap before and after the frame.
SPI_BYTES_PER_BIT = 8
SPI_RESET_BYTES = 64  # round(6.4 MHz * 80 us / 8)
#: Live clock may differ from the setting by this share and still count as equal.
CLOCK_TOLERANCE = 0.01
HZ_PER_MHZ = 1_000_000
SPI_ON_VALUES = ("on", "true", "yes", "1")

#: config.txt conditional filters that name boards, and which boards they match.
_MODEL_FILTERS = (
    "pi1",
    "pi2",
    "pi3",
    "pi3+",
    "pi0",
    "pi0w",
    "pi02",
    "pi4",
    "pi400",
    "cm4",
    "cm4s",
    "pi5",
    "pi500",
    "cm5",
    "cm3",
)


@dataclass(frozen=True)
class Board:
    """A Pi model as config.txt's filters see it."""

    model: str
    family: str
    tags: frozenset[str]


@dataclass(frozen=True)
class Need:
    """One setting the boot files lack: `file` ("config.txt"/"cmdline.txt"), key, value."""

    file: str
    key: str
    want: str
    have: str | None

    def describe(self) -> str:
        now = "not set" if self.have is None else f"is {self.have}"
        return f"{self.file}: {self.key}={self.want} ({now})"


def board_from_model(model: str) -> Board | None:
    """The board for a /proc/device-tree/model text; None unless it names a Raspberry Pi."""
    text = model.replace("\x00", "").strip()
    if "Raspberry Pi" not in text:
        return None
    tags: set[str]
    if re.search(r"Raspberry Pi (5|500)\b|Compute Module 5", text):
        family, tags = PI5, {"pi5"}
        tags |= {"pi500"} if " 500" in text else set()
        tags |= {"cm5"} if "Compute Module 5" in text else set()
    elif re.search(r"Raspberry Pi (4|400)\b|Compute Module 4", text):
        family, tags = PI4, {"pi4"}
        tags |= {"pi400"} if " 400" in text else set()
        tags |= {"cm4"} if "Compute Module 4" in text else set()
    else:
        family = LEGACY
        if "Zero 2" in text:
            tags = {"pi0", "pi02"}
        elif "Zero W" in text:
            tags = {"pi0", "pi0w"}
        elif "Zero" in text:
            tags = {"pi0"}
        elif re.search(r"Raspberry Pi 3|Compute Module 3", text):
            tags = {"pi3"} | ({"pi3+"} if "Plus" in text else set())
            tags |= {"cm3"} if "Compute Module 3" in text else set()
        elif "Raspberry Pi 2" in text:
            tags = {"pi2"}
        else:
            tags = {"pi1"}
    return Board(text, family, frozenset(tags))


def resolve_model(name: str, read: Callable[[], str | None]) -> Board | None:
    """--model: "auto" (read /proc/device-tree/model), a short name, or a model text."""
    if name == "auto":
        model = read()
        return board_from_model(model) if model else None
    return board_from_model(MODEL_NAMES.get(name.lower(), name))


# ------------------------------------------------------------------ config.txt


def _applies(name: str, board: Board) -> bool | None:
    """Whether settings under `[name]` (not [all]) apply to `board`; None for non-board filters."""
    if name == "none":
        return False
    if name in _MODEL_FILTERS:
        return name in board.tags
    return None


def _settings_in_force(lines: list[str], board: Board) -> Iterator[tuple[int, str]]:
    """(index, stripped line) of each `key=value` line of config.txt in force for `board`.

    Board filters ([pi4], [pi0], ...) select; [all] resets; any other filter
    ([HDMI:1], [gpio4=1], [EDID=...], [tryboot]) is conditional, so lines under it
    are left out, as are comments.
    """
    board_ok, other = True, False
    for i, raw in enumerate(lines):
        line = raw.strip()
        if line.startswith("[") and line.endswith("]"):
            name = line[1:-1].strip().lower()
            if name == "all":
                board_ok, other = True, False
            elif (applies := _applies(name, board)) is None:
                other = True
            else:
                board_ok = applies
            continue
        if board_ok and not other and "=" in line and not line.startswith("#"):
            yield i, line


def effective_settings(text: str, board: Board) -> dict[str, str]:
    """config.txt `key=value` settings in force for `board` (the last one wins).

    Board filters ([pi4], [pi0], ...) select; [all] resets; any other filter
    ([HDMI:1], [gpio4=1], [EDID=...], [tryboot]) is conditional, so settings
    under it are not counted. dtparam lists are split into `dtparam:NAME`.
    """
    out: dict[str, str] = {}
    for _i, line in _settings_in_force(text.splitlines(), board):
        key, _, value = line.partition("=")
        key, value = key.strip().lower(), value.strip()
        if key == "dtparam":
            for item in value.split(","):
                name, _, param = item.partition("=")
                out[f"dtparam:{name.strip().lower()}"] = param.strip().lower() or "on"
        else:
            out[key] = value
    return out


def spi_bytes_per_frame(pixels: int, bytes_per_pixel: int = 3) -> int:
    """Bytes neopixel_spi writes in one transfer for `pixels` (reset gaps included)."""
    return SPI_BYTES_PER_BIT * bytes_per_pixel * pixels + 2 * SPI_RESET_BYTES


def bufsiz_for(pixels: int, bytes_per_pixel: int = 3) -> int | None:
    """spidev.bufsiz the ring needs (a power of two), or None when the default is enough."""
    needed = spi_bytes_per_frame(pixels, bytes_per_pixel)
    if needed <= SPIDEV_DEFAULT_BUFSIZ:
        return None
    size = SPIDEV_DEFAULT_BUFSIZ
    while size < needed:
        size *= 2
    return size


def cmdline_bufsiz(text: str) -> int | None:
    """spidev.bufsiz=N from a cmdline.txt, or None (the last one wins, as in the kernel)."""
    found = None
    for token in text.split():
        key, _, value = token.partition("=")
        if key == "spidev.bufsiz" and value.isdigit():
            found = int(value)
    return found


def needs(
    board: Board,
    config_txt: str,
    cmdline: str | None,
    *,
    pixels: int,
    bytes_per_pixel: int = 3,
    driver: str = "spi",
) -> list[Need]:
    """Everything the boot files lack for `driver` on `board` (empty: all set)."""
    if driver != "spi":
        return []
    settings = effective_settings(config_txt, board)
    out: list[Need] = []
    spi = settings.get("dtparam:spi")
    if spi not in SPI_ON_VALUES:
        out.append(Need("config.txt", "dtparam=spi", "on", spi))
    for key, want in CORE_SETTINGS[board.family]:
        have = settings.get(key)
        if have != want:
            out.append(Need("config.txt", key, want, have))
    want_buf = bufsiz_for(pixels, bytes_per_pixel)
    if want_buf is not None:
        have_buf = cmdline_bufsiz(cmdline or "")
        if have_buf is None or have_buf < spi_bytes_per_frame(pixels, bytes_per_pixel):
            out.append(
                Need(
                    "cmdline.txt",
                    "spidev.bufsiz",
                    str(want_buf),
                    None if have_buf is None else str(have_buf),
                )
            )
    return out


def fix_config_txt(text: str, board: Board, wanted: Iterable[Need]) -> str:
    """`text` with each wanted config.txt setting in force: conflicting lines commented out,
    then one `[all]` block at the end (config.txt: the last setting wins)."""
    items = [n for n in wanted if n.file == "config.txt"]
    if not items:
        return text
    plain = {n.key for n in items if not n.key.startswith("dtparam")}
    lines = text.splitlines()
    for i, line in _settings_in_force(lines, board):
        if line.partition("=")[0].strip().lower() in plain:
            lines[i] = f"#{lines[i]}{REPLACED_SUFFIX}"
    block = ["", ALL_SECTION, MARKER]
    for n in items:
        block.append(f"{n.key}={n.want}")  # dtparam=spi and on: dtparam=spi=on
    return "\n".join(lines + block) + "\n"


def fix_cmdline(text: str, wanted: Iterable[Need]) -> str:
    """cmdline.txt (one line) with spidev.bufsiz set as wanted."""
    items = [n for n in wanted if n.file == "cmdline.txt"]
    if not items:
        return text
    tokens = [t for t in text.split() if not t.startswith("spidev.bufsiz=")]
    tokens += [f"{n.key}={n.want}" for n in items]
    return " ".join(tokens) + "\n"


def undo_config_txt(text: str) -> str:
    """`text` without what fix_config_txt added: its blocks out, the owner's lines back on.

    Also takes out the block an older systemd/install.sh wrote (LEGACY_BEGIN..LEGACY_END).
    """
    lines = text.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i] == LEGACY_BEGIN and LEGACY_END in lines[i:]:
            i = lines.index(LEGACY_END, i) + 1
            continue
        if lines[i] == MARKER:
            # Ours: the blank line and [all] before the marker, the settings after it.
            if out and out[-1] == ALL_SECTION:
                out.pop()
                if out and out[-1] == "":
                    out.pop()
            i += 1
            while i < len(lines) and lines[i].strip() and not lines[i].startswith("["):
                i += 1
            continue
        line = lines[i]
        if line.startswith("#") and line.endswith(REPLACED_SUFFIX):
            line = line[1 : -len(REPLACED_SUFFIX)]
        out.append(line)
        i += 1
    return "\n".join(out) + "\n" if out else ""


def undo_cmdline(text: str, before: str) -> str:
    """cmdline.txt without our spidev.bufsiz; the one of `before` (the backup) comes back."""
    tokens = [t for t in text.split() if not t.startswith(BUFSIZ_KEY + "=")]
    tokens += [t for t in before.split() if t.startswith(BUFSIZ_KEY + "=")]
    return " ".join(tokens) + "\n"


def parse_vcgencmd_clock(output: str) -> float | None:
    """'frequency(1)=250000000' -> 250.0 (MHz); None if unreadable."""
    match = re.search(r"=\s*(\d+)", output)
    return int(match.group(1)) / HZ_PER_MHZ if match else None


def live_mismatches(
    board: Board, core_mhz: float | None, bufsiz: int | None, pixels: int, bytes_per_pixel: int = 3
) -> list[str]:
    """What the running system still lacks although the files may be right (a reboot is due)."""
    out = []
    settings = CORE_SETTINGS[board.family]
    if settings and core_mhz is not None:
        want = float(settings[0][1])
        if abs(core_mhz - want) > want * CLOCK_TOLERANCE:
            out.append(f"the core clock runs at {core_mhz:g} MHz, not {want:g}")
    needed = spi_bytes_per_frame(pixels, bytes_per_pixel)
    if bufsiz is not None and bufsiz < needed and bufsiz_for(pixels, bytes_per_pixel):
        out.append(f"spidev's buffer is {bufsiz} bytes; one frame needs {needed}")
    return out
