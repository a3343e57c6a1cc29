"""The colours of breathring's pictures (`render`, `stats --png`, the benchmarks' chart)."""

from __future__ import annotations

TEXT = (220, 224, 232)
DIM_TEXT = (140, 146, 160)
AXIS = (90, 96, 110)
