"""`breathring boot-config` and the boot files of a Raspberry Pi: read, fix, undo, check.

The rules (what a NeoPixel ring on SPI needs in config.txt and cmdline.txt for
each board) live in hw/boot_rules.py; this module applies them to the system.
Used by `breathring check` (reads the files and the live clock and names what
is missing) and by `breathring boot-config` (the installer: --fix writes what
is missing, backs the file up first, is idempotent and says a reboot is due).
Only `read_model`, `live_core_mhz`, `live_bufsiz`, `inspect` (with fix) and
`undo` touch the system.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from ..atomic_file import replace_file
from ..exitcodes import EXIT_FAILURE, EXIT_OK, EXIT_UNAVAILABLE
from . import read_model
from .boot_rules import (
    FAMILY_TEXT,
    HZ_PER_MHZ,
    LEGACY_BEGIN,
    MARKER,
    MODEL_NAMES,
    Board,
    Need,
    board_from_model,
    fix_cmdline,
    fix_config_txt,
    live_mismatches,
    needs,
    parse_vcgencmd_clock,
    resolve_model,
    undo_cmdline,
    undo_config_txt,
)

CONFIG_TXT_PATHS = (Path("/boot/firmware/config.txt"), Path("/boot/config.txt"))
CMDLINE_PATHS = (Path("/boot/firmware/cmdline.txt"), Path("/boot/cmdline.txt"))
SPIDEV_BUFSIZ_PATH = Path("/sys/module/spidev/parameters/bufsiz")
#: debugfs clocks (root only); the first one found is the VPU core clock.
CORE_CLOCK_PATHS = (
    Path("/sys/kernel/debug/clk/vpu/clk_rate"),
    Path("/sys/kernel/debug/clk/core/clk_rate"),
)
BACKUP_SUFFIX = ".breathring-backup"


def live_core_mhz(
    run: Callable[[list[str]], str] | None = None,
    paths: Iterable[Path] = CORE_CLOCK_PATHS,
) -> float | None:
    """The VPU core clock now (MHz): `vcgencmd measure_clock core`, else debugfs; else None."""
    if run is None and shutil.which("vcgencmd"):

        def run(cmd: list[str]) -> str:
            return subprocess.run(cmd, capture_output=True, text=True, timeout=5).stdout

    if run is not None:
        try:
            mhz = parse_vcgencmd_clock(run(["vcgencmd", "measure_clock", "core"]))
        except (OSError, subprocess.SubprocessError):
            mhz = None
        if mhz:
            return mhz
    for path in paths:
        try:
            return int(path.read_text().strip()) / HZ_PER_MHZ
        except (OSError, ValueError):
            continue
    return None


def live_bufsiz(path: Path = SPIDEV_BUFSIZ_PATH) -> int | None:
    try:
        return int(path.read_text().strip())
    except (OSError, ValueError):
        return None


def first_existing(paths: Iterable[Path]) -> Path | None:
    return next((p for p in paths if p.exists()), None)


@dataclass
class Report:
    """The outcome of one look (and maybe fix) at the boot files."""

    board: Board
    config_txt: Path
    cmdline: Path | None
    missing: list[Need]
    changed: list[Path]
    live: list[str]

    def left(self) -> list[Need]:
        """The missing settings not written: all of them without --fix, and with --fix those
        of a file that is not there (no cmdline.txt)."""
        files = {"config.txt": self.config_txt, "cmdline.txt": self.cmdline}
        return [n for n in self.missing if files[n.file] not in self.changed]

    def lines(self) -> list[str]:
        out = [f"{self.board.model}: {FAMILY_TEXT[self.board.family]}"]
        left = self.left()
        if self.changed:
            out += [f"set {n.describe()}" for n in self.missing if n not in left]
            out += [f"backup of {p}: {p}{BACKUP_SUFFIX}" for p in self.changed]
            out.append("a reboot is due for these settings to take effect")
        out += [f"missing {n.describe()}" for n in left]
        if not self.missing:
            out.append(f"{self.config_txt} and the cmdline have what SPI timing needs")
        out += [f"not yet in force: {text} (reboot)" for text in self.live]
        return out


def _backup_and_write(path: Path, text: str) -> None:
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    if not backup.exists():
        shutil.copy2(path, backup)
    _write(path, text)


def _write(path: Path, text: str) -> None:
    """Replace `path` atomically; bytes that are not UTF-8 (read with surrogateescape) go back
    as they were."""
    replace_file(path, text.encode("utf-8", "surrogateescape"), path.name + ".breathring-tmp")


def undo(config_txt: Path, cmdline: Path | None) -> list[Path]:
    """Take out what --fix wrote (its marked block, the lines it turned off, spidev.bufsiz).

    Files without the marker are left alone; the backups stay beside the files. A cmdline.txt
    without a backup is left alone too: --fix backs it up before it first writes it, so its
    spidev.bufsiz is the owner's. Returns the files changed.
    """
    text = config_txt.read_text(encoding="utf-8", errors="surrogateescape")
    if not {MARKER, LEGACY_BEGIN} & set(text.splitlines()):
        return []
    changed = [config_txt]
    _write(config_txt, undo_config_txt(text))
    if cmdline is None:
        return changed
    backup = cmdline.with_name(cmdline.name + BACKUP_SUFFIX)
    if cmdline.is_file() and backup.is_file():
        line = cmdline.read_text(encoding="utf-8", errors="surrogateescape")
        before = backup.read_text(encoding="utf-8", errors="surrogateescape")
        new_line = undo_cmdline(line, before)
        if new_line.split() != line.split():
            _write(cmdline, new_line)
            changed.append(cmdline)
    return changed


def inspect(
    board: Board,
    config_txt: Path,
    cmdline: Path | None,
    *,
    pixels: int,
    bytes_per_pixel: int = 3,
    driver: str = "spi",
    fix: bool = False,
    core_mhz: float | None = None,
    bufsiz: int | None = None,
) -> Report:
    """Read the files, list what is missing; with `fix`, write it (backup first, idempotent)."""
    text = config_txt.read_text(encoding="utf-8", errors="surrogateescape")
    line = cmdline.read_text(encoding="utf-8", errors="surrogateescape") if cmdline else None
    missing = needs(
        board, text, line, pixels=pixels, bytes_per_pixel=bytes_per_pixel, driver=driver
    )
    changed: list[Path] = []
    if fix and missing:
        new_text = fix_config_txt(text, board, missing)
        if new_text != text:
            _backup_and_write(config_txt, new_text)
            changed.append(config_txt)
        if cmdline is not None and line is not None:
            new_line = fix_cmdline(line, missing)
            if new_line != line:
                _backup_and_write(cmdline, new_line)
                changed.append(cmdline)
    live = (
        []
        if changed or driver != "spi"
        else live_mismatches(board, core_mhz, bufsiz, pixels, bytes_per_pixel)
    )
    return Report(board, config_txt, cmdline, missing, changed, live)


# ------------------------------------------------------------------ `breathring boot-config`

#: `boot-config` exits EXIT_OK when all is set (or fixed), EXIT_FAILURE when something is
#: missing (without --fix, or with no cmdline.txt to write it to), EXIT_UNAVAILABLE when this
#: is not a Pi or a file is missing.


def _pixels(text: str) -> int:
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of pixels (1 or more)")
    return int(text)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--model",
        default="auto",
        help="auto (read /proc/device-tree/model), a name ("
        + ", ".join(MODEL_NAMES)
        + ") or a model text",
    )
    p.add_argument("--pixels", type=_pixels, help="pixels on the ring (default: ring.pixels)")
    p.add_argument("--driver", help="LED driver (default: ring.driver); only spi needs settings")
    p.add_argument(
        "--config-txt",
        metavar="PATH",
        help="default: /boot/firmware/config.txt, else /boot/config.txt",
    )
    p.add_argument(
        "--cmdline",
        metavar="PATH",
        help="default: /boot/firmware/cmdline.txt, else /boot/cmdline.txt",
    )
    what = p.add_mutually_exclusive_group()
    what.add_argument("--fix", action="store_true", help="write what is missing (backup first)")
    what.add_argument(
        "--undo",
        action="store_true",
        help="take out what --fix wrote (the uninstaller; the backups stay)",
    )


def run(args: argparse.Namespace, ring: object, out: Callable[[str], None] = print) -> int:
    """`breathring boot-config`; `ring` is the config's [ring] (pixels, driver, order)."""
    if getattr(args, "undo", False):
        return _run_undo(args, out)
    board = resolve_model(args.model, read_model)
    if board is None:
        where = "this machine" if args.model == "auto" else f"--model {args.model!r}"
        out(
            f"breathring: {where} is not a known Raspberry Pi; give --model with one of "
            f"{', '.join(MODEL_NAMES)} (or skip: the settings are for a Pi's boot partition)"
        )
        return EXIT_UNAVAILABLE
    config_txt = Path(args.config_txt) if args.config_txt else first_existing(CONFIG_TXT_PATHS)
    if config_txt is None or not config_txt.is_file():
        shown = config_txt or " or ".join(str(p) for p in CONFIG_TXT_PATHS)
        out(f"breathring: no config.txt at {shown}; give --config-txt PATH")
        return EXIT_UNAVAILABLE
    cmdline = Path(args.cmdline) if args.cmdline else first_existing(CMDLINE_PATHS)
    if cmdline is not None and not cmdline.is_file():
        out(f"breathring: no cmdline.txt at {cmdline}; give --cmdline PATH")
        return EXIT_UNAVAILABLE
    pixels = args.pixels if args.pixels is not None else ring.pixels  # type: ignore[attr-defined]
    driver = args.driver or ring.driver  # type: ignore[attr-defined]
    bpp = len(getattr(ring, "order", "GRB"))
    auto = args.model == "auto"
    report = inspect(
        board,
        config_txt,
        cmdline,
        pixels=pixels,
        bytes_per_pixel=bpp,
        driver=driver,
        fix=args.fix,
        core_mhz=live_core_mhz() if auto else None,
        bufsiz=live_bufsiz() if auto else None,
    )
    if driver != "spi":
        out(f"ring.driver = {driver}: no SPI timing settings needed")
        return EXIT_OK
    for line in report.lines():
        out(line)
    return EXIT_FAILURE if report.left() else EXIT_OK


def _run_undo(args: argparse.Namespace, out: Callable[[str], None]) -> int:
    config_txt = Path(args.config_txt) if args.config_txt else first_existing(CONFIG_TXT_PATHS)
    if config_txt is None or not config_txt.is_file():
        out("no config.txt: nothing to undo")
        return EXIT_OK
    cmdline = Path(args.cmdline) if args.cmdline else first_existing(CMDLINE_PATHS)
    changed = undo(config_txt, cmdline)
    if not changed:
        out(f"{config_txt} has no SPI timing lines of breathring: nothing to undo")
    for path in changed:
        out(f"removed the SPI timing settings of breathring from {path}")
    if changed:
        out("this takes effect at the next reboot")
    return EXIT_OK


def check_spi_timing(model: str | None, ring: object) -> tuple[bool, str] | None:
    """For `breathring check`: (ok, detail) about the boot files and the live clock.

    None when it does not apply (not a Pi, or a ring not on SPI).
    """
    board = board_from_model(model) if model else None
    if board is None or getattr(ring, "driver", None) != "spi":
        return None
    config_txt = first_existing(CONFIG_TXT_PATHS)
    if config_txt is None:
        return False, "no /boot/firmware/config.txt or /boot/config.txt to check"
    pixels: int = ring.pixels  # type: ignore[attr-defined]
    report = inspect(
        board,
        config_txt,
        first_existing(CMDLINE_PATHS),
        pixels=pixels,
        bytes_per_pixel=len(getattr(ring, "order", "GRB")),
        core_mhz=live_core_mhz(),
        bufsiz=live_bufsiz(),
    )
    problems = [f"missing {n.describe()}" for n in report.missing] + report.live
    if not problems:
        return True, f"{FAMILY_TEXT[board.family]}: boot settings and live clock as needed"
    return False, "; ".join(problems) + (
        " (fix: sudo breathring boot-config --fix, then reboot)"
        if report.missing
        else " (reboot to apply)"
    )
