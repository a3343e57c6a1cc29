"""Clocks: FakeClock behaviour, and how SystemClock decides the wall clock is synchronised."""

from __future__ import annotations

import ctypes
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from breathring.clock import (
    STA_UNSYNC,
    TIME_ERROR,
    FakeClock,
    Now,
    SystemClock,
    Timex,
    _load_libc,
    kernel_synchronized,
    read,
    timex_synchronized,
)

LONDON = ZoneInfo("Europe/London")
TIME_OK = 0  # adjtimex: clock synchronised, no leap second pending
STA_PLL = 0x0001


class FakeLibc:
    """Stands in for libc: adjtimex fills `status` and returns `result`."""

    def __init__(self, result: int, status: int) -> None:
        self.result, self.status = result, status
        self.modes_seen: list[int] = []

    def adjtimex(self, pointer) -> int:
        timex = pointer.contents
        self.modes_seen.append(timex.modes)
        timex.status = self.status
        return self.result


# --- FakeClock ---------------------------------------------------------------


def test_fake_clock_is_synced_by_default_and_can_be_told_otherwise():
    clock = FakeClock(datetime(2026, 6, 15, 12, tzinfo=LONDON))
    assert clock.synchronized() is True
    clock.set_synced(False)
    assert clock.synchronized() is False and clock.synced is False
    assert FakeClock(datetime(2026, 6, 15, tzinfo=LONDON), synced=False).synchronized() is False


def test_fake_clock_advance_moves_both_clocks():
    clock = FakeClock(datetime(2026, 6, 15, 12, tzinfo=LONDON), mono=5.0)
    clock.advance(90)
    assert clock.monotonic() == 95.0
    assert clock.wall() == datetime(2026, 6, 15, 12, 1, 30, tzinfo=LONDON)
    assert read(clock) == Now(95.0, datetime(2026, 6, 15, 12, 1, 30, tzinfo=LONDON))


def test_fake_clock_wall_jumps_leave_monotonic_alone():
    clock = FakeClock(datetime(2026, 6, 15, 12, tzinfo=LONDON))
    clock.jump_wall(timedelta(hours=-3))
    clock.set_synced(True)
    assert clock.wall() == datetime(2026, 6, 15, 9, tzinfo=LONDON)
    clock.set_wall(datetime(2026, 6, 15, 8, tzinfo=UTC))
    assert clock.wall() == datetime(2026, 6, 15, 9, tzinfo=LONDON)
    assert clock.wall().tzinfo is LONDON
    assert clock.monotonic() == 0.0


def test_fake_clock_crosses_dst_in_real_time():
    clock = FakeClock(datetime(2026, 3, 29, 0, 30, tzinfo=LONDON))
    clock.advance(3600)
    assert clock.wall().strftime("%H:%M %Z") == "02:30 BST"


def test_fake_clock_refuses_naive_times_and_going_back():
    with pytest.raises(ValueError, match="timezone-aware"):
        FakeClock(datetime(2026, 6, 15))
    clock = FakeClock(datetime(2026, 6, 15, tzinfo=LONDON))
    with pytest.raises(ValueError, match="timezone-aware"):
        clock.set_wall(datetime(2026, 6, 15))
    with pytest.raises(ValueError, match="backwards"):
        clock.advance(-1)


# --- adjtimex interpretation ---------------------------------------------------


@pytest.mark.parametrize(
    ("result", "status", "expected"),
    [
        (TIME_OK, 0, True),
        (TIME_OK, STA_PLL, True),
        (1, STA_PLL, True),  # TIME_INS: a leap second is pending; still synchronised
        (TIME_OK, STA_UNSYNC, False),
        (TIME_OK, STA_PLL | STA_UNSYNC, False),
        (TIME_ERROR, 0, False),
        (-1, 0, False),
    ],
)
def test_timex_synchronized(result, status, expected):
    assert timex_synchronized(result, status) is expected


def test_kernel_synchronized_reads_with_modes_zero():
    libc = FakeLibc(TIME_OK, STA_PLL)
    assert kernel_synchronized(lambda: libc) is True
    assert libc.modes_seen == [0]


@pytest.mark.parametrize(("result", "status"), [(TIME_OK, STA_UNSYNC), (TIME_ERROR, 0), (-1, 0)])
def test_kernel_unsynchronized(result, status):
    assert kernel_synchronized(lambda: FakeLibc(result, status)) is False


def test_kernel_synchronized_is_false_on_any_failure():
    def no_libc():
        raise OSError("libc.so.6: cannot open shared object file")

    assert kernel_synchronized(no_libc) is False
    assert kernel_synchronized(lambda: object()) is False  # no adjtimex attribute


def test_kernel_synchronized_on_this_machine_answers_a_bool():
    assert isinstance(kernel_synchronized(), bool)


# Field offsets of glibc's struct timex (status, time, tai) and its size, per ABI.
GLIBC_TIMEX = {8: (40, 72, 160, 208), 4: (20, 36, 80, 128)}


@pytest.mark.skipif(ctypes.sizeof(ctypes.c_long) not in GLIBC_TIMEX, reason="unknown ABI")
def test_timex_layout_matches_glibc():
    status, time_, tai, size = GLIBC_TIMEX[ctypes.sizeof(ctypes.c_long)]
    assert (Timex.status.offset, Timex.time.offset, Timex.tai.offset) == (status, time_, tai)
    assert ctypes.sizeof(Timex) >= size  # the kernel may write the padding


# --- SystemClock.synchronized ----------------------------------------------------


def test_system_clock_synced_when_the_timesyncd_flag_exists(tmp_path: Path):
    flag = tmp_path / "synchronized"
    flag.touch()
    assert SystemClock(sync_flag=flag, kernel_sync=lambda: False).synchronized() is True


def test_system_clock_asks_the_kernel_without_the_flag(tmp_path: Path):
    flag = tmp_path / "missing"
    assert SystemClock(sync_flag=flag, kernel_sync=lambda: True).synchronized() is True
    assert SystemClock(sync_flag=flag, kernel_sync=lambda: False).synchronized() is False


def test_system_clock_is_unsynced_when_checking_fails(tmp_path: Path):
    def broken() -> bool:
        raise RuntimeError("boom")

    clock = SystemClock(sync_flag=tmp_path / "missing", kernel_sync=broken)
    assert clock.synchronized() is False


def test_system_clock_wall_is_aware_and_monotonic_moves_forward():
    clock = SystemClock(tz=LONDON)
    assert clock.wall().tzinfo is LONDON
    assert SystemClock().wall().tzinfo is not None
    first = clock.monotonic()
    assert clock.monotonic() >= first


def test_clock_trust_follows_sync_then_the_policy():
    from breathring.clock import clock_trust

    synced = clock_trust(True, "sync", False)
    assert (synced.synchronized, synced.trusted, synced.reason) == (True, True, "")
    waiting = clock_trust(False, "sync", False)
    assert (waiting.synchronized, waiting.trusted) == (False, False)
    assert "hourly pulses wait until it is synchronised" in waiting.reason
    assert waiting.log_line().startswith("the clock is not synchronised: no network time yet")
    trusted = clock_trust(False, "always", True)
    assert (trusted.synchronized, trusted.trusted) == (False, True)
    assert trusted.reason.startswith("an RTC restored the time at boot; trusted")


def test_rtc_present_reads_the_sysfs_node(tmp_path):
    from breathring.clock import rtc_present

    assert rtc_present(tmp_path / "rtc0") is False
    (tmp_path / "rtc0").mkdir()
    assert rtc_present(tmp_path / "rtc0") is True


# --------------------------------------------------------------------------- written-down values
# (added for mutation testing: exact messages and the edges of advance/advance_to)


def test_fake_clock_messages_word_for_word():
    with pytest.raises(ValueError) as caught:
        FakeClock(datetime(2026, 6, 15))
    assert str(caught.value) == "FakeClock needs a timezone-aware wall time"
    clock = FakeClock(datetime(2026, 6, 15, tzinfo=LONDON))
    with pytest.raises(ValueError) as caught:
        clock.set_wall(datetime(2026, 6, 15))
    assert str(caught.value) == "wall time must be timezone-aware"
    with pytest.raises(ValueError) as caught:
        clock.advance(-0.5)
    assert str(caught.value) == "time cannot go backwards on the monotonic clock"


def test_fake_clock_advance_zero_and_advance_to():
    clock = FakeClock(datetime(2026, 6, 15, 12, tzinfo=LONDON))
    assert clock.monotonic() == 0.0
    clock.advance(0)
    assert clock.monotonic() == 0.0
    clock.advance_to(2.5)
    assert clock.monotonic() == 2.5
    assert clock.wall() == datetime(2026, 6, 15, 12, 0, 2, 500000, tzinfo=LONDON)
    clock.advance_to(2.5)  # already there: nothing moves
    clock.advance_to(1.0)  # in the past: nothing moves either
    assert clock.monotonic() == 2.5
    assert clock.wall() == datetime(2026, 6, 15, 12, 0, 2, 500000, tzinfo=LONDON)


def test_fake_clock_jump_wall_forward():
    clock = FakeClock(datetime(2026, 6, 15, 12, tzinfo=LONDON), mono=7.0)
    clock.jump_wall(timedelta(minutes=90))
    assert clock.wall() == datetime(2026, 6, 15, 13, 30, tzinfo=LONDON)
    assert clock.monotonic() == 7.0


def test_system_clock_wall_without_a_zone_is_local_and_aware():
    wall = SystemClock().wall()
    assert wall.tzinfo is not None
    assert wall.utcoffset() == datetime.now().astimezone().utcoffset()
    assert SystemClock(tz=UTC).wall().tzinfo is UTC


def test_system_clock_without_the_flag_answers_a_real_bool(tmp_path: Path):
    clock = SystemClock(sync_flag=tmp_path / "missing", kernel_sync=lambda: 1)  # type: ignore
    assert clock.synchronized() is True
    clock = SystemClock(sync_flag=tmp_path / "missing", kernel_sync=lambda: 0)  # type: ignore
    assert clock.synchronized() is False


def test_libc_is_loaded_by_name_with_adjtimex():
    libc = _load_libc()
    assert isinstance(libc._name, str) and "libc" in libc._name
    assert callable(libc.adjtimex)


def test_clock_trust_reasons_word_for_word():
    from breathring.clock import clock_trust

    synced = clock_trust(True, "always", True)
    assert synced.log_line() == "the clock is synchronised; hourly pulses follow it"
    waiting = clock_trust(False, "sync", False)
    assert waiting.reason == (
        "no network time yet and no RTC; the time is what fake-hwclock (if any) restored;"
        " hourly pulses wait until it is synchronised: connect the network, or set"
        ' reminder.trust_clock = "always" to trust the restored time'
    )
    assert clock_trust(False, "always", False).reason == (
        "no network time yet and no RTC; the time is what fake-hwclock (if any) restored;"
        ' trusted (reminder.trust_clock = "always")'
    )


def test_rtc_present_is_false_when_the_path_cannot_be_checked(tmp_path: Path):
    from breathring.clock import rtc_present

    assert rtc_present(tmp_path / ("x" * 5000)) is False  # name too long: OSError


def test_fake_clock_has_no_rtc_unless_told():
    clock = FakeClock(datetime(2026, 6, 15, tzinfo=LONDON))
    assert clock.has_rtc() is False
    clock.rtc = True
    assert clock.has_rtc() is True
