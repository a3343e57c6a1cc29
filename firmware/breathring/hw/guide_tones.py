"""Rendered guide tones, cached: PCM by (kind, samples), the least recently used dropped first.

Rendering is pure Python (~20 ms per second of tone on a desktop CPU, several times that on
a Pi), so tones are rendered ahead in a background thread and kept within a byte budget.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator

from .. import sounds

#: Rendered guide tones kept in memory (bytes); least recently used go first.
GUIDE_CACHE_BYTES = 16 * 1024 * 1024

Key = tuple[str, int]


class GuideTones:
    """The cache; `pcm` renders on a miss, `prepare` renders in the background."""

    def __init__(self, budget_bytes: int = GUIDE_CACHE_BYTES) -> None:
        self.budget_bytes = budget_bytes
        self._tones: OrderedDict[Key, bytes] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def key(kind: str, seconds: float) -> Key:
        """The cache key of a tone; ValueError naming what is allowed for a bad one."""
        return sounds.guide_kind(kind), sounds.guide_samples(seconds)

    def __iter__(self) -> Iterator[Key]:
        with self._lock:
            return iter(list(self._tones))

    def __len__(self) -> int:
        with self._lock:
            return len(self._tones)

    def pcm(self, key: Key) -> bytes:
        """The tone's 16-bit mono PCM, rendered now if it is not cached."""
        with self._lock:
            pcm = self._tones.get(key)
            if pcm is not None:
                self._tones.move_to_end(key)
                return pcm
        kind, samples = key
        pcm = sounds.render_guide(kind, samples / sounds.SAMPLE_RATE)
        with self._lock:
            self._tones[key] = pcm
            cached = sum(map(len, self._tones.values()))
            while len(self._tones) > 1 and cached > self.budget_bytes:
                cached -= len(self._tones.popitem(last=False)[1])
        return pcm

    def prepare(self, key: Key) -> None:
        """Render `key` into the cache in a background thread (returns at once)."""
        threading.Thread(target=self.pcm, args=(key,), name="breathring-guide", daemon=True).start()
