"""What the host gave a process over a stretch of wall time: its CPU, its wait for a CPU, steal.

A real-time check on a shared machine (the soak beside the suite and the VM's image build)
measures the host as well as the product. These counters tell the two apart:

- `/proc/PID/task/TID/schedstat`: the thread's time on a CPU and its time runnable but
  waiting for one (nanoseconds), kept by the scheduler;
- `/proc/stat`: each CPU's steal time, when the hypervisor ran something else (ticks);
- `/proc/pressure/{cpu,io}`: the machine's stall time ("some", microseconds), when present.

A thread kept from running by its own code (a lock, a slow write, a long computation) shows
as CPU time or as neither; only the host's other load shows as run-queue wait or steal.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

#: /proc/stat counts in clock ticks.
TICKS_PER_S = os.sysconf("SC_CLK_TCK")
#: The steal column of a /proc/stat cpu line (after the name).
STEAL_FIELD = 7


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def thread_sched_ns(pid: int, tid: int) -> tuple[int, int]:
    """(on a CPU, waiting for a CPU) in ns for one thread; (0, 0) once it is gone."""
    fields = _read(f"/proc/{pid}/task/{tid}/schedstat").split()
    if len(fields) < 2:
        return 0, 0
    return int(fields[0]), int(fields[1])


def process_cpu_ns(pid: int) -> int:
    """Time on a CPU of all of `pid`'s threads now alive, in ns."""
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return 0
    return sum(thread_sched_ns(pid, int(tid))[0] for tid in tids)


def steal_ms_per_cpu() -> list[float]:
    """Each CPU's steal time since boot, in ms."""
    steal = []
    for line in _read("/proc/stat").splitlines():
        name, *values = line.split()
        if name.startswith("cpu") and name != "cpu" and len(values) > STEAL_FIELD:
            steal.append(int(values[STEAL_FIELD]) * 1000.0 / TICKS_PER_S)
    return steal


def pressure_some_ms(resource: str) -> float:
    """The machine's "some" stall time for `resource` (cpu, io) since boot, in ms; 0 without PSI."""
    for line in _read(f"/proc/pressure/{resource}").splitlines():
        if line.startswith("some "):
            for field in line.split()[1:]:
                if field.startswith("total="):
                    return int(field.removeprefix("total=")) / 1000.0
    return 0.0


@dataclass(frozen=True)
class HostSample:
    """The counters at one moment; subtract two for what happened between them."""

    cpu_ns: int
    wait_ns: int
    process_cpu_ns: int
    steal_ms: tuple[float, ...]
    cpu_pressure_ms: float
    io_pressure_ms: float

    @classmethod
    def of_thread(cls, pid: int, tid: int | None = None) -> HostSample:
        """The counters of thread `tid` of `pid` (its main thread by default) and the machine's."""
        cpu_ns, wait_ns = thread_sched_ns(pid, pid if tid is None else tid)
        return cls(
            cpu_ns=cpu_ns,
            wait_ns=wait_ns,
            process_cpu_ns=process_cpu_ns(pid),
            steal_ms=tuple(steal_ms_per_cpu()),
            cpu_pressure_ms=pressure_some_ms("cpu"),
            io_pressure_ms=pressure_some_ms("io"),
        )

    def since(self, earlier: HostSample) -> HostShare:
        steal = [now - then for now, then in zip(self.steal_ms, earlier.steal_ms, strict=False)]
        return HostShare(
            cpu_ms=(self.cpu_ns - earlier.cpu_ns) / 1e6,
            wait_ms=(self.wait_ns - earlier.wait_ns) / 1e6,
            process_cpu_ms=(self.process_cpu_ns - earlier.process_cpu_ns) / 1e6,
            steal_ms=max(steal, default=0.0),
            cpu_pressure_ms=self.cpu_pressure_ms - earlier.cpu_pressure_ms,
            io_pressure_ms=self.io_pressure_ms - earlier.io_pressure_ms,
        )


@dataclass(frozen=True)
class HostShare:
    """What one thread got between two samples, and the machine's stalls then (all in ms)."""

    #: The thread's time on a CPU.
    cpu_ms: float
    #: The thread's time runnable but waiting for a CPU (the host's other load).
    wait_ms: float
    #: The whole process's time on a CPU, all its threads (its own load).
    process_cpu_ms: float
    #: The most any one CPU was stolen by the hypervisor.
    steal_ms: float
    #: Time some task of the machine waited for a CPU / for I/O.
    cpu_pressure_ms: float
    io_pressure_ms: float

    @property
    def held_back_ms(self) -> float:
        """Time the host kept the thread from running: its run-queue wait plus steal."""
        return self.wait_ms + self.steal_ms


#: A window short of frames is the host's doing when the thread was held back (run-queue wait
#: plus steal) for at least this share of the time its missing frames stand for ...
HELD_BACK_SHARE = 0.5
#: ... while its own process used at most this share of a core: a product that loads the CPU
#: itself (a busy thread of its own) keeps its frame loop waiting too, and is not excused.
OWN_LOAD_MAX_SHARE = 0.25


def held_back_by_host(share: HostShare, missing_ms: float, window_ms: float) -> bool:
    """True when `missing_ms` of frame time lost in a window of `window_ms` is explained by the
    host: the frame loop was runnable but not run (or stolen) for at least HELD_BACK_SHARE of
    it, and its process was not itself busy."""
    if missing_ms <= 0:
        return False
    return (
        share.held_back_ms >= HELD_BACK_SHARE * missing_ms
        and share.process_cpu_ms <= OWN_LOAD_MAX_SHARE * window_ms
    )
