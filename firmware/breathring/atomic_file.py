"""Replace a small file atomically and durably: the one rule for every state file we write.

Write a temporary file beside the target, fsync it, rename it over the target, then
fsync the directory so the rename survives a power cut. A reader sees the old file or
the new one, never half of either.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

DEFAULT_MODE = 0o644
_WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
_DIR_FLAGS = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)


def replace_file(path: Path, payload: bytes, temp_name: str, mode: int = DEFAULT_MODE) -> None:
    """Put `payload` at `path` atomically (creating its directory); raises OSError.

    `temp_name` is the temporary file's name in the same directory (the rename must not
    cross file systems). A failed write removes the temporary file and leaves `path` as
    it was.
    """
    directory = path.parent
    directory.mkdir(parents=True, exist_ok=True)
    temp = directory / temp_name
    try:
        fd = os.open(temp, _WRITE_FLAGS, mode)
        try:
            view = memoryview(payload)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(temp, path)
    except OSError:
        with contextlib.suppress(OSError):
            temp.unlink(missing_ok=True)
        raise
    sync_directory(directory)


def sync_directory(directory: Path) -> bool:
    """Make a rename in `directory` durable; False where the file system cannot (that is fine)."""
    try:
        fd = os.open(directory, _DIR_FLAGS)
    except OSError:
        return False
    try:
        os.fsync(fd)
    except OSError:
        return False
    finally:
        os.close(fd)
    return True
