"""Configuration errors: one line naming the file, the key, the bad value and its line."""

from __future__ import annotations

import re


class ConfigError(Exception):
    """A bad configuration: str(e) is the full one-line message.

    `key` is the dotted key at fault (if any) and `line` its line in the file (if found).
    """

    def __init__(self, message: str, key: str | None = None, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.key = key
        self.line = line

    def __str__(self) -> str:
        return self.message


class BadValue(Exception):
    """Internal: why a value is wrong, without the file prefix."""


class ErrorContext:
    """Builds messages: file name prefix and best-effort line numbers."""

    def __init__(self, source: str, text: str | None) -> None:
        self.source = source
        self.lines = text.splitlines() if text is not None else []

    def error(self, message: str, key: str | None = None, line: int | None = None) -> ConfigError:
        if line is None and key is not None:
            line = self.find_line(key)
        suffix = f" (line {line})" if line is not None else ""
        return ConfigError(f"{self.source}: {message}{suffix}", key=key, line=line)

    def find_line(self, dotted: str) -> int | None:
        """Line (1-based) of `section.key = ...` or of `[section]`; best effort."""
        section, _, key = dotted.partition(".")
        header = re.compile(r"^\s*\[\s*(\"?)([A-Za-z0-9_-]+)\1\s*\]")
        key_re = re.compile(rf"^\s*(\"?){re.escape(key)}\1\s*=") if key else None
        dotted_re = re.compile(
            rf"^\s*(\"?){re.escape(section)}\1\s*\.\s*(\"?){re.escape(key)}\2\s*="
        )
        current = ""
        for number, line in enumerate(self.lines, start=1):
            if m := header.match(line):
                current = m.group(2)
                if not key and current == section:
                    return number
                continue
            if key_re and current == section and key_re.match(line):
                return number
            if not key and not current and re.match(rf"^\s*(\"?){re.escape(section)}\1\s*=", line):
                return number
            if key and not current and dotted_re.match(line):
                return number
        if key:  # inline table, or key absent: fall back to the section header
            for number, line in enumerate(self.lines, start=1):
                if (m := header.match(line)) and m.group(2) == section:
                    return number
        return None
