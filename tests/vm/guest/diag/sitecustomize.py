"""`tests/vm/run --diag`: what the service's sound thread was doing, every 5 ms (diagnostics).

Loaded into the service by a drop-in (PYTHONPATH + BREATHRING_VM_DIAG=1) and nothing else.
A daemon thread samples SDL's playback thread (SDLAudioP*) from /proc: the CPU it used and the
time it waited for a CPU (schedstat), its state and where it sleeps (wchan), and how late this
thread itself woke (a late wake-up: the GIL or the CPU was busy). Garbage collections are
timed too. Lines go to /run/breathring/diag.txt ($BREATHRING_VM_DIAG_OUT; the guest copies it
to out/diag.txt):

    S WALL_US late=MS acpu=MS adelay=MS st=STATE cpu=N w=WCHAN
    GC WALL_US gen=N ms=MS

An underrun with the thread asleep in do_sys_poll, no wait for a CPU and no late wake-up was
not the service's doing: the sound card's side ran dry while the service was ready.
"""

import gc
import os
import threading
import time

OUT_PATH = os.environ.get("BREATHRING_VM_DIAG_OUT", "/run/breathring/diag.txt")
TICK_S = 0.005
FLUSH_EVERY = 100  # samples
FIND_EVERY = 20  # samples between looks for the sound thread
AUDIO_THREAD_PREFIX = "SDLAudioP"
STAT_STATE, STAT_PROCESSOR = 0, 36  # fields after the command name in /proc/.../stat
_gc_events: list[tuple[str, float, int]] = []


def _on_gc(phase: str, info: dict) -> None:
    _gc_events.append((phase, time.monotonic(), info.get("generation", -1)))


def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return ""


def _audio_thread() -> str | None:
    try:
        tids = os.listdir("/proc/self/task")
    except OSError:
        return None
    for tid in tids:
        if _read(f"/proc/self/task/{tid}/comm").startswith(AUDIO_THREAD_PREFIX):
            return tid
    return None


def _sample(out, tid: str, late_ms: float, previous: tuple[int, int] | None):
    sched = _read(f"/proc/self/task/{tid}/schedstat").split()
    if len(sched) < 2:
        return None
    ran_ns, waited_ns = int(sched[0]), int(sched[1])
    fields = _read(f"/proc/self/task/{tid}/stat").rsplit(")", 1)[-1].split()
    if previous is not None and len(fields) > STAT_PROCESSOR:
        out.write(
            f"S {time.time_ns() // 1000} late={late_ms:.1f} "
            f"acpu={(ran_ns - previous[0]) / 1e6:.2f} adelay={(waited_ns - previous[1]) / 1e6:.2f} "
            f"st={fields[STAT_STATE]} cpu={fields[STAT_PROCESSOR]} "
            f"w={_read(f'/proc/self/task/{tid}/wchan')}\n"
        )
    return ran_ns, waited_ns


def _loop() -> None:
    with open(OUT_PATH, "a") as out:
        tid, previous, count, gc_started = None, None, 0, None
        last = time.monotonic()
        while True:
            time.sleep(TICK_S)
            now = time.monotonic()
            late_ms, last = (now - last - TICK_S) * 1000, now
            while _gc_events:
                phase, at, generation = _gc_events.pop(0)
                if phase == "start":
                    gc_started = at
                elif gc_started is not None:
                    ms = (at - gc_started) * 1000
                    out.write(f"GC {time.time_ns() // 1000} gen={generation} ms={ms:.1f}\n")
                    gc_started = None
            count += 1
            if tid is None:
                if count % FIND_EVERY == 0:
                    tid = _audio_thread()
                continue
            previous = _sample(out, tid, late_ms, previous)
            if previous is None:
                tid = None
            if count % FLUSH_EVERY == 0:
                out.flush()


if os.environ.get("BREATHRING_VM_DIAG") == "1":
    gc.callbacks.append(_on_gc)
    threading.Thread(target=_loop, name="breathring-vm-diag", daemon=True).start()
