"""Where things are (the repository) and short directories for unix sockets (108-byte paths)."""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
TESTS = ROOT / "tests"
#: Unix socket paths are limited to 108 bytes; longer test directories are swapped.
SHORT_PATH_CHARS = 60


def short_tmp(tmp_path: Path) -> Path:
    """`tmp_path` if its path is short, else a new short directory under /tmp."""
    if len(str(tmp_path)) < SHORT_PATH_CHARS:
        return tmp_path
    return Path(tempfile.mkdtemp(prefix="br-"))


@contextlib.contextmanager
def short_dir(prefix: str = "br-") -> Iterator[Path]:
    """A new directory with a short path, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=prefix, dir="/tmp") as name:
        yield Path(name)
