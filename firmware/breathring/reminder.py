"""The hourly pulse schedule: which reminder slot, if any, to show now. Pure.

Slots are local wall times aligned to local midnight: every `every_minutes`
minutes (a divisor of 60, or a multiple of 60 that divides a day), kept only
when their local time of day lies inside the active hours (start inclusive,
end exclusive). Across daylight-saving changes a slot that does not exist
(spring-forward gap) is skipped and one that happens twice (fall back) counts
once, at its first occurrence.

Every instant is compared in UTC: Python compares and subtracts two datetimes
that share a tzinfo by their naive wall times, which is wrong across DST.

Rules of `due` (the Pi has no real-time clock and its wall clock may jump):

- nothing until the clock is synchronised;
- only the most recent slot, and only within `grace` of it, so after a power
  cut or a jump forward at most the current slot shows, never a burst;
- never a slot at or before the last pulse, so after a jump backward nothing
  repeats; but a last pulse further in the future than `stale_after` comes from
  a clock that was wrong, and is ignored rather than blocking pulses.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta, tzinfo
from typing import Any, Protocol

MINUTES_PER_HOUR = 60
MINUTES_PER_DAY = 24 * MINUTES_PER_HOUR
#: Reminder periods: divisors of an hour, or whole hours dividing a day (pulses align to the hour).
REMINDER_PERIODS = tuple(
    [m for m in range(1, MINUTES_PER_HOUR) if MINUTES_PER_HOUR % m == 0]
    + [
        m
        for m in range(MINUTES_PER_HOUR, MINUTES_PER_DAY + 1, MINUTES_PER_HOUR)
        if MINUTES_PER_DAY % m == 0
    ]
)

#: How late a slot may still be shown. Five minutes still reads as "the top of
#: the hour", covers a boot or an NTP sync just after the hour and the service
#: loop's capped wait; anything later would look random or be a stale catch-up.
DEFAULT_GRACE = timedelta(minutes=5)
#: A last pulse further in the future than this (or than one period, if that is
#: longer) is taken as a record from a wrong clock and ignored. Shorter backward
#: jumps (e.g. an NTP step of a few hours) suppress repeats instead.
DEFAULT_STALE_AFTER = timedelta(hours=12)
#: Days searched either side of today for a slot: a DST gap may remove the only
#: slot of a day, but never the same slot two days running.
_SEARCH_DAYS = 3
#: Per-day slot lists kept in the cache (a few days around "now").
_CACHE_DAYS = 16


class MinuteRange(Protocol):
    """The active hours: anything that says whether a minute of the day is inside."""

    def contains(self, minute_of_day: float) -> bool: ...


def check_every_minutes(every_minutes: object) -> int:
    """Return `every_minutes` if it is a valid period, else raise ValueError."""
    is_int = isinstance(every_minutes, int) and not isinstance(every_minutes, bool)
    if not is_int or every_minutes not in REMINDER_PERIODS:
        within_hour = ", ".join(str(m) for m in REMINDER_PERIODS if m <= MINUTES_PER_HOUR)
        hours = ", ".join(str(m) for m in REMINDER_PERIODS if m > MINUTES_PER_HOUR)
        raise ValueError(
            f"reminder.every_minutes is {every_minutes!r}; allowed: a divisor of 60 "
            f"({within_hour}) or {hours}"
        )
    return every_minutes  # type: ignore[return-value]


def slot_minutes(every_minutes: int, active_hours: MinuteRange) -> tuple[int, ...]:
    """The pulse times (minutes after local midnight) inside the active hours; may be empty."""
    return tuple(m for m in range(0, MINUTES_PER_DAY, every_minutes) if active_hours.contains(m))


def _to_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError(f"reminder times must be timezone-aware, got {moment.isoformat()}")
    return moment.astimezone(UTC)


class ReminderSchedule:
    """When the hourly pulse is due, from wall time alone."""

    def __init__(
        self,
        every_minutes: int,
        active_hours: MinuteRange,
        grace_seconds: float | None = None,
        stale_after: timedelta = DEFAULT_STALE_AFTER,
    ) -> None:
        self.every_minutes = check_every_minutes(every_minutes)
        self.active_hours = active_hours
        self.period = timedelta(minutes=every_minutes)
        grace = DEFAULT_GRACE if grace_seconds is None else timedelta(seconds=grace_seconds)
        if grace <= timedelta(0):
            raise ValueError(f"reminder grace is {grace_seconds!r} s; allowed: more than 0")
        # Never more than half a period, so a late slot can't be confused with the next.
        self.grace = min(grace, self.period / 2)
        self.stale_after = max(stale_after, self.period)
        self.minutes = slot_minutes(every_minutes, active_hours)
        if not self.minutes:
            raise ValueError(
                f"reminder.active_hours {active_hours} contains no slot of every "
                f"{every_minutes} minutes; allowed: a range that includes at least one"
            )
        self._cache: dict[tuple[date, tzinfo], list[datetime]] = {}
        self._near: tuple[tuple[date, tzinfo], list[datetime]] | None = None

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> ReminderSchedule:
        """Build from anything with `every_minutes` and `active_hours` (cfg.reminder)."""
        return cls(settings.every_minutes, settings.active_hours, **kwargs)

    def slots_on(self, day: date, tz: tzinfo) -> list[datetime]:
        """The active slots of one local date, as sorted UTC instants."""
        key = (day, tz)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        midnight = datetime.combine(day, time())
        slots = []
        for minute in self.minutes:
            local = midnight + timedelta(minutes=minute)
            aware = local.replace(tzinfo=tz, fold=0)  # fold=0: the first of two, if ambiguous
            utc = aware.astimezone(UTC)
            if utc.astimezone(tz).replace(tzinfo=None) == local:  # else: in a DST gap
                slots.append(utc)
        slots.sort()
        if len(self._cache) >= _CACHE_DAYS:
            self._cache.clear()
        self._cache[key] = slots
        return slots

    def _nearby(self, now: datetime) -> tuple[datetime, list[datetime]]:
        now_utc = _to_utc(now)
        tz = now.tzinfo
        assert tz is not None
        key = (now.date(), tz)
        if self._near is None or self._near[0] != key:
            days = (key[0] + timedelta(days=d) for d in range(-_SEARCH_DAYS, _SEARCH_DAYS + 1))
            self._near = (key, sorted(s for d in days for s in self.slots_on(d, tz)))
        return now_utc, self._near[1]

    def slot_at_or_before(self, now: datetime) -> datetime | None:
        """The latest slot at or before `now`, in `now`'s time zone (None: none nearby)."""
        now_utc, slots = self._nearby(now)
        index = bisect.bisect_right(slots, now_utc)
        return slots[index - 1].astimezone(now.tzinfo) if index else None

    def next_slot_after(self, now: datetime) -> datetime:
        """The first slot strictly after `now`, in `now`'s time zone."""
        now_utc, slots = self._nearby(now)
        index = bisect.bisect_right(slots, now_utc)
        if index == len(slots):  # cannot happen: every day has at least one slot
            raise RuntimeError(f"no reminder slot found after {now.isoformat()}")
        return slots[index].astimezone(now.tzinfo)

    def trusted_last(self, now_wall: datetime, last_pulse: datetime | None) -> datetime | None:
        """`last_pulse`, or None if it lies so far in the future that the clock was wrong."""
        if last_pulse is None or _to_utc(last_pulse) - _to_utc(now_wall) > self.stale_after:
            return None
        return last_pulse

    def due(self, now_wall: datetime, last_pulse: datetime | None, synced: bool) -> datetime | None:
        """The slot to show now, or None (see the module docstring for the rules)."""
        if not synced:
            return None
        slot = self.slot_at_or_before(now_wall)
        if slot is None or _to_utc(now_wall) - _to_utc(slot) > self.grace:
            return None
        last = self.trusted_last(now_wall, last_pulse)
        if last is not None and _to_utc(slot) <= _to_utc(last):
            return None
        return slot

    def next_deadline(self, now_wall: datetime, last_pulse: datetime | None) -> datetime:
        """When to wake next to check: the next slot after now and after the last pulse.

        The caller must still cap its wait, to notice wall-clock jumps and sync.
        """
        last = self.trusted_last(now_wall, last_pulse)
        after = now_wall if last is None or _to_utc(last) <= _to_utc(now_wall) else last
        return self.next_slot_after(after.astimezone(now_wall.tzinfo))
