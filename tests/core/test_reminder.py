"""The hourly pulse schedule: virtual days on a FakeClock, jumps, sync, DST."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from breathring.clock import FakeClock
from breathring.reminder import DEFAULT_GRACE, ReminderSchedule

LONDON = ZoneInfo("Europe/London")
STEP = timedelta(seconds=10)
SPRING_FORWARD = (2026, 3, 29)
FALL_BACK = (2026, 10, 25)


@dataclass(frozen=True)
class HourRange:
    """Test stand-in for config.HourRange: start inclusive, end exclusive, may wrap midnight."""

    start_minute: int
    end_minute: int

    @classmethod
    def parse(cls, text: str) -> HourRange:
        start, end = text.split("-")
        return cls(*(int(t[:2]) * 60 + int(t[3:]) for t in (start, end)))

    def contains(self, minute_of_day: float) -> bool:
        if self.start_minute <= self.end_minute:
            return self.start_minute <= minute_of_day < self.end_minute
        return minute_of_day >= self.start_minute or minute_of_day < self.end_minute

    def __str__(self) -> str:
        start, end = divmod(self.start_minute, 60), divmod(self.end_minute, 60)
        return "{:02}:{:02}-{:02}:{:02}".format(*start, *end)


def schedule(every: int = 60, hours: str = "08:00-22:00", **kw) -> ReminderSchedule:
    return ReminderSchedule(every, HourRange.parse(hours), **kw)


def at(y: int, mo: int, d: int, h: int = 0, mi: int = 0, s: int = 0, tz=LONDON) -> datetime:
    return datetime(y, mo, d, h, mi, s, tzinfo=tz)


def run(
    sched: ReminderSchedule,
    clock: FakeClock,
    until: datetime,
    last: datetime | None = None,
    events: dict[datetime, object] | None = None,
) -> list[datetime]:
    """Step the clock by STEP until the wall reaches `until`; record every pulse shown.

    `events` maps a monotonic-independent wall time to a callable run once when reached.
    """
    pending = dict(events or {})
    pulses: list[datetime] = []
    while clock.wall() < until:
        for when in [w for w in pending if clock.wall() >= w]:
            pending.pop(when)(clock)
        slot = sched.due(clock.wall(), last, clock.synchronized())
        if slot is not None:
            pulses.append(slot)
            last = slot
        clock.advance(STEP.total_seconds())
    return pulses


def hhmm(pulses: list[datetime]) -> list[str]:
    return [p.strftime("%H:%M") for p in pulses]


def hours_list(*hours: int) -> list[str]:
    return [f"{h:02}:00" for h in hours]


def test_default_day_gives_14_pulses_0800_to_2100():
    clock = FakeClock(at(2026, 6, 15))
    pulses = run(schedule(), clock, at(2026, 6, 16))
    assert hhmm(pulses) == hours_list(*range(8, 22))
    assert all(p.tzinfo is LONDON and p.second == 0 for p in pulses)


def test_pulses_are_shown_within_one_step_of_the_slot():
    clock = FakeClock(at(2026, 6, 15, 7, 59, 55))
    sched = schedule()
    assert sched.due(clock.wall(), None, True) is None  # 07:59:55: quiet hours
    clock.advance(5)
    assert sched.due(clock.wall(), None, True) == at(2026, 6, 15, 8)


def test_every_30_minutes():
    pulses = run(schedule(30), FakeClock(at(2026, 6, 15)), at(2026, 6, 16))
    expected = [f"{h:02}:{m:02}" for h in range(8, 22) for m in (0, 30)]
    assert hhmm(pulses) == expected and len(pulses) == 28


def test_every_120_minutes():
    pulses = run(schedule(120), FakeClock(at(2026, 6, 15)), at(2026, 6, 16))
    assert hhmm(pulses) == hours_list(8, 10, 12, 14, 16, 18, 20)


def test_active_hours_wrapping_midnight():
    pulses = run(schedule(60, "20:00-02:00"), FakeClock(at(2026, 6, 15, 12)), at(2026, 6, 16, 12))
    assert hhmm(pulses) == hours_list(20, 21, 22, 23, 0, 1)
    assert pulses[4] == at(2026, 6, 16, 0)


def test_jump_forward_3h_shows_no_burst():
    def jump(clock: FakeClock) -> None:
        clock.jump_wall(timedelta(hours=3))

    clock = FakeClock(at(2026, 6, 15))
    pulses = run(schedule(), clock, at(2026, 6, 16), events={at(2026, 6, 15, 10, 30): jump})
    # 10:30 -> 13:30: 11:00, 12:00 and 13:00 are skipped, 13:00 being 30 min late.
    assert hhmm(pulses) == hours_list(8, 9, 10, *range(14, 22))


def test_jump_forward_3h_just_after_a_pulse_shows_only_the_current_slot():
    def jump(clock: FakeClock) -> None:
        clock.jump_wall(timedelta(hours=3))

    clock = FakeClock(at(2026, 6, 15))
    pulses = run(schedule(), clock, at(2026, 6, 16), events={at(2026, 6, 15, 10, 0, 30): jump})
    # 10:00:30 -> 13:00:30: only 13:00 (within grace) shows, not 11:00 and 12:00.
    assert hhmm(pulses) == hours_list(8, 9, 10, *range(13, 22))


def test_jump_backward_3h_repeats_nothing():
    def jump(clock: FakeClock) -> None:
        clock.jump_wall(timedelta(hours=-3))

    clock = FakeClock(at(2026, 6, 15))
    until = at(2026, 6, 16, 3)  # the day is 3 h longer on the wall clock
    pulses = run(schedule(), clock, until, events={at(2026, 6, 15, 14, 0, 30): jump})
    assert hhmm(pulses) == hours_list(*range(8, 22))
    assert pulses == sorted(set(pulses))


def test_boot_unsynced_then_sync_at_1017_waits_for_1100():
    def sync(clock: FakeClock) -> None:
        clock.set_synced(True)

    clock = FakeClock(at(2026, 6, 15, 7), synced=False)
    pulses = run(schedule(), clock, at(2026, 6, 16), events={at(2026, 6, 15, 10, 17): sync})
    assert hhmm(pulses) == hours_list(*range(11, 22))


def test_never_synced_never_pulses():
    clock = FakeClock(at(2026, 6, 15), synced=False)
    assert run(schedule(), clock, at(2026, 6, 16)) == []


def test_sync_within_grace_shows_the_current_slot():
    sched = schedule()
    assert sched.due(at(2026, 6, 15, 10, 3), None, False) is None
    assert sched.due(at(2026, 6, 15, 10, 3), None, True) == at(2026, 6, 15, 10)


def test_grace_boundary_is_inclusive():
    sched = schedule()
    slot = at(2026, 6, 15, 10)
    assert sched.grace == DEFAULT_GRACE
    assert sched.due(slot + DEFAULT_GRACE, None, True) == slot
    assert sched.due(slot + DEFAULT_GRACE + timedelta(seconds=1), None, True) is None


def test_grace_is_at_most_half_a_period():
    assert schedule(1, "00:00-23:59").grace == timedelta(seconds=30)
    assert schedule(5).grace == timedelta(minutes=2, seconds=30)
    assert schedule(60, grace_seconds=3600).grace == timedelta(minutes=30)
    assert schedule(60, grace_seconds=60).grace == timedelta(minutes=1)


def test_a_slot_at_or_before_the_last_pulse_is_not_shown_again():
    sched = schedule()
    now = at(2026, 6, 15, 10, 1)
    assert sched.due(now, at(2026, 6, 15, 10), True) is None
    assert sched.due(now, at(2026, 6, 15, 10, 0, 30), True) is None
    assert sched.due(now, at(2026, 6, 15, 9), True) == at(2026, 6, 15, 10)


def test_last_pulse_a_few_hours_ahead_blocks_but_days_ahead_is_ignored():
    sched = schedule()
    now = at(2026, 6, 15, 10, 1)
    assert sched.due(now, at(2026, 6, 15, 14), True) is None
    assert sched.due(now, at(2026, 6, 17, 14), True) == at(2026, 6, 15, 10)
    assert sched.due(now, at(2031, 1, 1, 9), True) == at(2026, 6, 15, 10)


def test_last_pulse_in_another_time_zone_compares_as_an_instant():
    sched = schedule()
    now = at(2026, 6, 15, 10, 1)  # BST, UTC+1
    stored = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)  # = 10:00 BST, as read back from a file
    assert sched.due(now, stored, True) is None
    fixed = datetime(2026, 6, 15, 10, 0, tzinfo=timezone(timedelta(hours=1)))
    assert sched.due(now, fixed, True) is None
    assert sched.due(now, stored - timedelta(seconds=1), True) == at(2026, 6, 15, 10)


def test_slot_at_or_before_and_next_slot_after():
    sched = schedule()
    assert sched.slot_at_or_before(at(2026, 6, 15, 9)) == at(2026, 6, 15, 9)
    assert sched.slot_at_or_before(at(2026, 6, 15, 9, 59)) == at(2026, 6, 15, 9)
    assert sched.slot_at_or_before(at(2026, 6, 15, 7)) == at(2026, 6, 14, 21)
    assert sched.next_slot_after(at(2026, 6, 15, 9)) == at(2026, 6, 15, 10)
    assert sched.next_slot_after(at(2026, 6, 15, 21, 30)) == at(2026, 6, 16, 8)


def test_next_deadline():
    sched = schedule()
    assert sched.next_deadline(at(2026, 6, 15, 10, 0, 30), at(2026, 6, 15, 10)) == at(
        2026, 6, 15, 11
    )
    assert sched.next_deadline(at(2026, 6, 15, 7), None) == at(2026, 6, 15, 8)
    # After a jump backward the slots up to the last pulse are not worth waking for.
    assert sched.next_deadline(at(2026, 6, 15, 11, 30), at(2026, 6, 15, 14)) == at(2026, 6, 15, 15)
    # A last pulse from a wrong clock, days ahead, is ignored.
    assert sched.next_deadline(at(2026, 6, 15, 11, 30), at(2026, 6, 20, 14)) == at(2026, 6, 15, 12)
    deadline = sched.next_deadline(at(2026, 6, 15, 11, 30), None)
    assert deadline.tzinfo is LONDON


@pytest.mark.parametrize(
    ("day", "expected_hours", "expected_real_hours"),
    [
        (SPRING_FORWARD, [0, *range(2, 24)], 23),  # 01:00 does not exist
        (FALL_BACK, list(range(24)), 25),  # 01:00 happens twice, shown once
    ],
)
def test_dst_days_in_london_all_day(day, expected_hours, expected_real_hours):
    start, end = at(*day), at(*day) + timedelta(days=1)
    clock = FakeClock(start - timedelta(minutes=30))
    pulses = run(schedule(60, "00:00-23:59"), clock, end)
    today = [p for p in pulses if p.date() == start.date()]
    assert hhmm(today) == hours_list(*expected_hours)
    real = end.astimezone(UTC) - start.astimezone(UTC)  # the day's length on a real clock
    assert real == timedelta(hours=expected_real_hours)


def test_fall_back_shows_0100_at_its_first_occurrence_only():
    clock = FakeClock(at(*FALL_BACK))
    pulses = run(schedule(60, "00:00-23:59"), clock, at(*FALL_BACK, 4))
    utc = [p.astimezone(UTC).strftime("%H:%M") for p in pulses]
    # 00:00 BST, 01:00 BST (= 00:00 UTC), then 01:00 GMT is skipped, 02:00 GMT, 03:00 GMT.
    assert utc == ["23:00", "00:00", "02:00", "03:00"]


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (SPRING_FORWARD, ["00:00", "00:30", "02:00", "02:30"]),
        (FALL_BACK, ["00:00", "00:30", "01:00", "01:30", "02:00", "02:30"]),
    ],
)
def test_dst_half_hourly_around_the_change(day, expected):
    clock = FakeClock(at(*day))
    pulses = run(schedule(30, "00:00-23:59"), clock, at(*day, 3))
    assert hhmm(pulses) == expected


@pytest.mark.parametrize("day", [SPRING_FORWARD, FALL_BACK])
def test_dst_days_with_default_hours_give_14_pulses(day):
    clock = FakeClock(at(*day))
    pulses = run(schedule(), clock, at(*day) + timedelta(days=1))
    assert hhmm(pulses) == hours_list(*range(8, 22))


def test_a_slot_only_in_the_gap_is_skipped_that_day():
    sched = schedule(60, "01:00-02:00")
    assert len(sched.slots_on(date(*SPRING_FORWARD), LONDON)) == 0
    assert len(sched.slots_on(date(*FALL_BACK), LONDON)) == 1
    clock = FakeClock(at(*SPRING_FORWARD) - timedelta(days=1))
    pulses = run(sched, clock, at(*SPRING_FORWARD) + timedelta(days=1, hours=2))
    assert pulses == [at(2026, 3, 28, 1), at(2026, 3, 30, 1)]


def test_dst_day_slot_lists():
    sched = schedule(60, "00:00-23:59")
    spring = sched.slots_on(date(*SPRING_FORWARD), LONDON)
    assert len(spring) == 23 and len(set(spring)) == 23
    fall = sched.slots_on(date(*FALL_BACK), LONDON)
    assert len(fall) == 24
    assert fall[2] - fall[1] == timedelta(hours=2)  # 01:00 BST then 02:00 GMT


def test_dst_next_deadline_skips_the_gap():
    sched = schedule(60, "00:00-23:59")
    deadline = sched.next_deadline(at(*SPRING_FORWARD, 0, 30), None)
    assert deadline == at(*SPRING_FORWARD, 2)
    assert deadline.astimezone(UTC).hour == 1


def test_fixed_offset_time_zone_works():
    tz = timezone(timedelta(hours=2))
    clock = FakeClock(at(2026, 6, 15, tz=tz))
    pulses = run(schedule(), clock, at(2026, 6, 16, tz=tz))
    assert hhmm(pulses) == hours_list(*range(8, 22))


def test_daily_slot_at_midnight():
    sched = schedule(1440, "00:00-01:00")
    pulses = run(sched, FakeClock(at(2026, 6, 15, 12)), at(2026, 6, 17, 12))
    assert pulses == [at(2026, 6, 16), at(2026, 6, 17)]


def test_from_settings_reads_every_minutes_and_active_hours():
    settings_ = SimpleNamespace(every_minutes=30, active_hours=HourRange.parse("09:00-10:00"))
    sched = ReminderSchedule.from_settings(settings_)
    assert sched.minutes == (540, 570)


@pytest.mark.parametrize("every", [1, 2, 5, 15, 20, 30, 60, 120, 180, 240, 360, 480, 720, 1440])
def test_valid_periods(every):
    assert schedule(every, "00:00-23:59").period == timedelta(minutes=every)


@pytest.mark.parametrize("every", [0, -60, 7, 45, 90, 300, 1441, 2880, True, 60.0, "60", None])
def test_invalid_periods_are_refused_with_a_clear_message(every):
    with pytest.raises(ValueError, match=r"reminder\.every_minutes is .*allowed: a divisor of 60"):
        schedule(every)


def test_active_hours_without_any_slot_are_refused():
    with pytest.raises(ValueError, match=r"active_hours .* contains no slot of every 60 minutes"):
        schedule(60, "08:10-08:50")


def test_non_positive_grace_is_refused():
    with pytest.raises(ValueError, match="grace"):
        schedule(60, grace_seconds=0)


def test_naive_times_are_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        schedule().due(datetime(2026, 6, 15, 10), None, True)


JUMPS = st.lists(
    st.tuples(
        st.integers(min_value=1, max_value=6 * 3600),  # seconds to advance
        st.integers(min_value=-6 * 3600, max_value=6 * 3600),  # then jump the wall clock
    ),
    min_size=1,
    max_size=12,
)


@settings(max_examples=60, deadline=None)
@given(jumps=JUMPS, every=st.sampled_from([15, 30, 60, 120]))
def test_property_no_burst_no_repeat_always_on_time(jumps, every):
    """Whatever the jumps: each pulse is an active slot shown within grace, it is after
    the last pulse (unless that is stale), and once recorded it does not show again."""
    sched = schedule(every)
    clock = FakeClock(at(2026, 10, 24, 20))
    last: datetime | None = None
    for advance, jump in jumps:
        for _ in range(0, advance, 60):
            now = clock.wall()
            slot = sched.due(now, last, True)
            if slot is not None:
                assert timedelta(0) <= now.astimezone(UTC) - slot.astimezone(UTC) <= sched.grace
                assert slot.hour * 60 + slot.minute in sched.minutes
                if sched.trusted_last(now, last) is not None:
                    assert slot.astimezone(UTC) > last.astimezone(UTC)
                assert sched.due(now, slot, True) is None
                last = slot
            clock.advance(60)
        clock.jump_wall(timedelta(seconds=jump))


def test_works_with_the_real_config():
    from breathring.config import Config, parse_hour_range

    sched = ReminderSchedule.from_settings(Config().reminder)
    pulses = run(sched, FakeClock(at(2026, 6, 15)), at(2026, 6, 16))
    assert hhmm(pulses) == hours_list(*range(8, 22))
    whole_day = ReminderSchedule(60, parse_hour_range("00:00-24:00"))
    assert len(whole_day.minutes) == 24
    night_owl = ReminderSchedule(120, parse_hour_range("20:00-02:00"))
    assert night_owl.minutes == (0, 20 * 60, 22 * 60)


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: exact messages, edges of the stale and grace rules, caches)


def test_next_slot_two_days_ahead_when_the_gap_removes_the_only_slot():
    sched = schedule(60, "01:00-02:00")
    # From the day before the spring-forward day: that day has no slot, the next one is 2 days on.
    assert sched.next_slot_after(at(2026, 3, 28, 1, 30)) == at(2026, 3, 30, 1)


def test_answers_stay_right_when_the_date_moves_on():
    sched = schedule()
    assert sched.next_slot_after(at(2026, 6, 1, 12, 30)) == at(2026, 6, 1, 13)
    assert sched.next_slot_after(at(2026, 6, 20, 12, 30)) == at(2026, 6, 20, 13)
    assert sched.slot_at_or_before(at(2026, 6, 20, 8, 5)) == at(2026, 6, 20, 8)
    assert sched.next_slot_after(at(2026, 6, 1, 21, 30)) == at(2026, 6, 2, 8)


def test_from_settings_passes_the_other_arguments_on():
    settings_ = SimpleNamespace(every_minutes=60, active_hours=HourRange.parse("08:00-22:00"))
    sched = ReminderSchedule.from_settings(settings_, grace_seconds=60)
    assert sched.grace == timedelta(seconds=60)


def test_a_last_pulse_exactly_stale_after_ahead_is_still_trusted():
    sched = schedule()  # stale after 12 h (more than the 1-h period)
    now = at(2026, 6, 15, 10)
    assert sched.stale_after == timedelta(hours=12)
    assert sched.trusted_last(now, now + timedelta(hours=12)) == now + timedelta(hours=12)
    assert sched.trusted_last(now, now + timedelta(hours=12, seconds=1)) is None
    assert sched.trusted_last(now, None) is None
    assert schedule(1440, "00:00-01:00").stale_after == timedelta(hours=24)


def test_grace_defaults_to_5_minutes_and_is_capped_at_half_a_period():
    assert schedule().grace == timedelta(minutes=5)
    assert schedule(60, grace_seconds=90).grace == timedelta(seconds=90)
    assert schedule(2, "00:00-23:59", grace_seconds=600).grace == timedelta(minutes=1)
    assert schedule(60, grace_seconds=0.5).grace == timedelta(seconds=0.5)


def test_messages_word_for_word():
    with pytest.raises(ValueError) as caught:
        schedule(45)
    assert str(caught.value) == (
        "reminder.every_minutes is 45; allowed: a divisor of 60 (1, 2, 3, 4, 5, 6, 10, 12, 15,"
        " 20, 30, 60) or 120, 180, 240, 360, 480, 720, 1440"
    )
    with pytest.raises(ValueError) as caught:
        schedule(60, "08:10-08:50")
    assert str(caught.value) == (
        "reminder.active_hours 08:10-08:50 contains no slot of every 60 minutes; allowed: a"
        " range that includes at least one"
    )
    with pytest.raises(ValueError) as caught:
        schedule(60, grace_seconds=-1)
    assert str(caught.value) == "reminder grace is -1 s; allowed: more than 0"
    with pytest.raises(ValueError) as caught:
        schedule().due(datetime(2026, 6, 15, 10), None, True)
    assert str(caught.value) == ("reminder times must be timezone-aware, got 2026-06-15T10:00:00")


def test_slot_minutes_of_a_half_hour_range():
    sched = schedule(15, "09:00-10:00")
    assert sched.minutes == (540, 555, 570, 585)
    assert schedule(60, "00:00-02:00").minutes == (0, 60)


def test_due_at_the_edges():
    sched = schedule()
    slot = at(2026, 6, 15, 10)
    assert sched.due(slot, None, True) == slot
    assert sched.due(slot + timedelta(minutes=5), None, True) == slot
    assert sched.due(slot + timedelta(minutes=5, seconds=1), None, True) is None
    assert sched.due(slot, None, False) is None
    assert sched.due(slot, slot, True) is None
    assert sched.due(slot, slot - timedelta(seconds=1), True) == slot


def test_the_schedule_keeps_its_settings():
    sched = schedule(30, "09:00-10:00")
    assert sched.active_hours == HourRange(540, 600)
    assert (sched.every_minutes, sched.period) == (30, timedelta(minutes=30))
