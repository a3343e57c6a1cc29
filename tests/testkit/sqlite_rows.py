"""Read a history file's rows straight from SQLite, as a test's independent look."""

from __future__ import annotations

import sqlite3
from pathlib import Path


def rows(path: Path, sql: str) -> list[tuple]:
    """The rows `sql` selects from the SQLite file at `path` (the connection closed after)."""
    conn = sqlite3.connect(path)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()
