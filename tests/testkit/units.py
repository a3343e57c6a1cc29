"""Reading systemd unit files in tests: one parser for every unit test."""

from __future__ import annotations

from pathlib import Path

Unit = dict[tuple[str, str], list[str]]


def parse_unit(path: Path) -> Unit:
    """(section, key) -> every value in order; repeated keys (DeviceAllow=...) accumulate."""
    unit: Unit = {}
    section = ""
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            continue
        assert not line.endswith("\\"), f"{path.name}: continuation lines are not used: {raw!r}"
        key, sep, value = line.partition("=")
        assert sep, f"{path.name}: not a key=value line: {raw!r}"
        unit.setdefault((section, key.strip()), []).append(value.strip())
    return unit
