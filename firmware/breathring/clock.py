"""The only module that reads time.

Two notions of time are kept apart on purpose: *monotonic* seconds pace
sessions and frames (they never jump), *wall* time (timezone-aware) drives
schedules such as the hourly reminder (it may jump when NTP syncs).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from pathlib import Path
from typing import Any, Protocol

#: Flag file systemd-timesyncd creates once it has synchronised the clock.
TIMESYNC_FLAG = Path("/run/systemd/timesync/synchronized")
#: `struct timex` status bit: the kernel clock is not synchronised.
STA_UNSYNC = 0x0040
#: adjtimex() return value meaning "clock not synchronised".
TIME_ERROR = 5
#: Spare bytes after our `struct timex` (glibc pads it; the kernel may write them).
_TIMEX_SPARE_INTS = 16


class Clock(Protocol):
    """What the rest of the code may ask about time."""

    def monotonic(self) -> float:
        """Seconds from an arbitrary origin; never goes backwards."""
        ...

    def wall(self) -> datetime:
        """The current local wall time, timezone-aware."""
        ...

    def synchronized(self) -> bool:
        """True once the wall clock is known to be right (NTP has synchronised it)."""
        ...

    def has_rtc(self) -> bool:
        """Whether a real-time clock keeps the time while the power is off."""
        ...


@dataclass(frozen=True)
class Now:
    """One reading of both clocks: taken once per frame and passed down."""

    mono: float
    wall: datetime


def read(clock: Clock) -> Now:
    """Take one reading of both clocks."""
    return Now(clock.monotonic(), clock.wall())


class _Timeval(ctypes.Structure):
    _fields_ = (("tv_sec", ctypes.c_long), ("tv_usec", ctypes.c_long))


class Timex(ctypes.Structure):
    """Linux `struct timex` (glibc layout), as read by adjtimex(2) with modes = 0."""

    _fields_ = (
        ("modes", ctypes.c_uint),
        ("offset", ctypes.c_long),
        ("freq", ctypes.c_long),
        ("maxerror", ctypes.c_long),
        ("esterror", ctypes.c_long),
        ("status", ctypes.c_int),
        ("constant", ctypes.c_long),
        ("precision", ctypes.c_long),
        ("tolerance", ctypes.c_long),
        ("time", _Timeval),
        ("tick", ctypes.c_long),
        ("ppsfreq", ctypes.c_long),
        ("jitter", ctypes.c_long),
        ("shift", ctypes.c_int),
        ("stabil", ctypes.c_long),
        ("jitcnt", ctypes.c_long),
        ("calcnt", ctypes.c_long),
        ("errcnt", ctypes.c_long),
        ("stbcnt", ctypes.c_long),
        ("tai", ctypes.c_int),
        ("_spare", ctypes.c_int * _TIMEX_SPARE_INTS),
    )


def _load_libc() -> Any:
    return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)


def timex_synchronized(result: int, status: int) -> bool:
    """Interpret adjtimex(): synchronised unless it failed, said TIME_ERROR or set STA_UNSYNC."""
    return result >= 0 and result != TIME_ERROR and not status & STA_UNSYNC


def kernel_synchronized(load_libc: Callable[[], Any] = _load_libc) -> bool:
    """Ask the kernel (adjtimex, read-only) if the clock is synchronised; False on any failure."""
    try:
        libc = load_libc()
        timex = Timex()  # modes = 0: only read
        result = int(libc.adjtimex(ctypes.pointer(timex)))
        return timex_synchronized(result, timex.status)
    except Exception:  # no libc, no adjtimex, not Linux: we cannot tell, so "not synchronised"
        return False


class SystemClock:
    """The real clocks: time.monotonic() and the local time zone.

    `sync_flag` and `kernel_sync` are injectable so that tests need neither
    systemd-timesyncd nor a synchronised kernel clock.
    """

    def __init__(
        self,
        tz: tzinfo | None = None,
        *,
        sync_flag: Path = TIMESYNC_FLAG,
        kernel_sync: Callable[[], bool] = kernel_synchronized,
    ) -> None:
        self._tz = tz
        self._zones: dict[tuple[int, str], timezone] = {}
        self._sync_flag = sync_flag
        self._kernel_sync = kernel_sync

    def monotonic(self) -> float:
        return time.monotonic()

    def has_rtc(self) -> bool:
        return rtc_present()

    def wall(self) -> datetime:
        if self._tz is not None:
            return datetime.now(self._tz)
        # As datetime.now().astimezone(), which the loop reads every frame: one localtime()
        # gives the offset, and each (offset, name) makes its timezone once, not every call.
        seconds = time.time()
        local = time.localtime(seconds)
        key = (local.tm_gmtoff, local.tm_zone)
        zone = self._zones.get(key)
        if zone is None:
            zone = self._zones[key] = timezone(timedelta(seconds=key[0]), key[1])
        return datetime.fromtimestamp(seconds, zone)

    def synchronized(self) -> bool:
        """timesyncd's flag file exists, or the kernel reports a synchronised clock."""
        try:
            if self._sync_flag.exists():
                return True
            return bool(self._kernel_sync())
        except Exception:
            return False


class FakeClock:
    """A clock for tests and simulation: time moves only when told to.

    `advance` moves both clocks together; `set_wall` and `jump_wall` move only
    the wall clock, as an NTP correction or a manual `date -s` would.
    `synced` (default True) is what `synchronized()` answers; see `set_synced`.
    """

    def __init__(self, wall: datetime, mono: float = 0.0, *, synced: bool = True) -> None:
        if wall.tzinfo is None:
            raise ValueError("FakeClock needs a timezone-aware wall time")
        self._tz = wall.tzinfo
        self._utc = wall.astimezone(UTC)
        self._mono = mono
        self.synced = synced
        #: What has_rtc() answers (most Pis have no RTC).
        self.rtc = False

    def synchronized(self) -> bool:
        return self.synced

    def has_rtc(self) -> bool:
        return self.rtc

    def set_synced(self, synced: bool) -> None:
        """Say whether the wall clock counts as synchronised (as NTP would)."""
        self.synced = synced

    def monotonic(self) -> float:
        return self._mono

    def wall(self) -> datetime:
        # Arithmetic is done in UTC so that daylight-saving changes are real.
        return self._utc.astimezone(self._tz)

    def advance(self, seconds: float) -> None:
        """Let `seconds` pass on both clocks."""
        if seconds < 0:
            raise ValueError("time cannot go backwards on the monotonic clock")
        self._mono += seconds
        self._utc += timedelta(seconds=seconds)

    def advance_to(self, mono: float) -> None:
        """Let time pass until the monotonic clock reads `mono`."""
        self.advance(max(0.0, mono - self._mono))

    def set_wall(self, wall: datetime) -> None:
        """Set the wall clock; the monotonic clock does not move."""
        if wall.tzinfo is None:
            raise ValueError("wall time must be timezone-aware")
        self._utc = wall.astimezone(UTC)

    def jump_wall(self, delta: timedelta) -> None:
        """Move the wall clock by `delta` (either way); monotonic time stays."""
        self._utc += delta


# ------------------------------------------------------------------- trusting the wall clock

#: reminder.trust_clock values: wait for synchronisation, or trust the restored time.
TRUST_SYNC = "sync"
TRUST_ALWAYS = "always"
#: A real-time clock module registers here (most Pis have none; the Pi 5 has one).
RTC_PATH = Path("/sys/class/rtc/rtc0")


def rtc_present(path: Path = RTC_PATH) -> bool:
    """Whether the kernel knows a real-time clock (RTC) on this machine."""
    try:
        return path.exists()
    except OSError:
        return False


@dataclass(frozen=True)
class ClockTrust:
    """Whether the wall clock may pace the hourly pulse, and why (for status, check, the log)."""

    synchronized: bool
    trusted: bool
    reason: str

    def log_line(self) -> str:
        if self.synchronized:
            return "the clock is synchronised; hourly pulses follow it"
        return f"the clock is not synchronised: {self.reason}"


def clock_trust(synchronized: bool, policy: str, rtc: bool) -> ClockTrust:
    """Decide from the facts and reminder.trust_clock; pure."""
    if synchronized:
        return ClockTrust(True, True, "")
    source = (
        "an RTC restored the time at boot"
        if rtc
        else "no network time yet and no RTC; the time is what fake-hwclock (if any) restored"
    )
    if policy == TRUST_ALWAYS:
        return ClockTrust(False, True, f'{source}; trusted (reminder.trust_clock = "always")')
    return ClockTrust(
        False,
        False,
        f"{source}; hourly pulses wait until it is synchronised: connect the network, or set "
        'reminder.trust_clock = "always" to trust the restored time',
    )
