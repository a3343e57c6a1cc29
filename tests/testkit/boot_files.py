"""The boot folders boot-config looks in, made empty under a test's tmp_path."""

from __future__ import annotations

from pathlib import Path

import pytest

from breathring.hw import boot_config


def empty_boot_folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """/boot/firmware and /boot under tmp_path as boot-config's places (Trixie's, then the old
    one), both empty; returns /boot/firmware."""
    firmware, old = tmp_path / "boot" / "firmware", tmp_path / "boot"
    firmware.mkdir(parents=True)
    monkeypatch.setattr(
        boot_config, "CONFIG_TXT_PATHS", (firmware / "config.txt", old / "config.txt")
    )
    monkeypatch.setattr(
        boot_config, "CMDLINE_PATHS", (firmware / "cmdline.txt", old / "cmdline.txt")
    )
    return firmware
