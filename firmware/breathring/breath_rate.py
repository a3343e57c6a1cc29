"""Breathing-rate readings: the one value every breath sensor hands to the service.

A source (a radar on a serial port, an MQTT topic relayed by `breathring mqtt`,
a simulated rate) produces `BreathReading`s; the service keeps the latest one in
a `BreathRateState` and treats it as stale after a while. Pure: times are given.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: Sources a reading can come from (`[breath_sensor] kind`, besides "none").
MR60BHA2 = "mr60bha2"
C1001 = "c1001"
MQTT = "mqtt"
SIMULATED = "simulated"
NO_SENSOR = "none"
SENSOR_KINDS = (NO_SENSOR, MR60BHA2, C1001, MQTT)

#: A rate outside this range (breaths a minute) is not a person breathing: dropped.
PLAUSIBLE_MIN_PER_MIN = 2.0
PLAUSIBLE_MAX_PER_MIN = 60.0

#: `check --sensor-timeout` by default: long enough for a C1001's answer or two MR60BHA2 reports.
SENSOR_WAIT_S = 6.0
#: A reading older than this (seconds) is stale unless configured otherwise.
DEFAULT_STALE_S = 30.0


def plausible(per_min: float) -> bool:
    """True for a finite rate a breathing person can have."""
    return math.isfinite(per_min) and PLAUSIBLE_MIN_PER_MIN <= per_min <= PLAUSIBLE_MAX_PER_MIN


@dataclass(frozen=True)
class BreathReading:
    """One measured breathing rate: breaths a minute, when (monotonic s), from where."""

    per_min: float
    at: float
    source: str


class BreathRateState:
    """The latest plausible reading; `fresh()` answers it only while it is recent."""

    def __init__(self, stale_after_s: float = DEFAULT_STALE_S) -> None:
        self.stale_after_s = stale_after_s
        self.latest: BreathReading | None = None

    def update(self, reading: BreathReading) -> bool:
        """Keep `reading` if plausible and not older than the one kept; True when kept."""
        if not plausible(reading.per_min):
            return False
        if self.latest is not None and reading.at < self.latest.at:
            return False
        self.latest = reading
        return True

    def fresh(self, mono: float) -> BreathReading | None:
        """The latest reading if it is at most `stale_after_s` old at `mono`, else None."""
        latest = self.latest
        if latest is None or mono - latest.at > self.stale_after_s:
            return None
        return latest

    def to_status(self, mono: float) -> dict[str, object] | None:
        """`status --json`'s `breath_rate`: the fresh reading, or None."""
        reading = self.fresh(mono)
        if reading is None:
            return None
        return {
            "per_min": round(reading.per_min, 1),
            "age_s": round(max(mono - reading.at, 0.0), 1),
            "source": reading.source,
        }
