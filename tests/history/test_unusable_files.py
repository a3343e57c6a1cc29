"""A history file that cannot be used: moved aside under a UTC time stamp with a warning that
says why (word for word), a fresh file started, a few copies kept; and what is not moved aside.

The stamps and messages are written out here as the device writes them.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from breathring.history import History

BERLIN = ZoneInfo("Europe/Berlin")
#: 09:30:05 in Berlin (summer time) is 07:30:05 UTC.
NOW = datetime(2026, 6, 15, 9, 30, 5, tzinfo=BERLIN)
STAMP = "20260615T073005Z"


def garbage(path: Path, text: bytes = b"a shopping list\n") -> bytes:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = text * 100
    path.write_bytes(data)
    return data


def names(folder: Path, pattern: str = "history.sqlite3.corrupt-*") -> list[str]:
    return sorted(p.name for p in folder.glob(pattern))


def test_a_stale_copy_that_is_a_dangling_link_does_not_stop_the_move(tmp_path: Path) -> None:
    """Sorting the copies by age must not stat through a link that leads nowhere."""
    db = tmp_path / "history.sqlite3"
    stale = tmp_path / "history.sqlite3.corrupt-20250101T000000Z"
    stale.symlink_to(tmp_path / "moved-elsewhere")
    garbage(db)
    with History.open(db, now=NOW) as h:
        assert not h.in_memory
    assert names(tmp_path) == [stale.name, f"history.sqlite3.corrupt-{STAMP}"]
