"""Notice when the emulated machine itself stops running (the guest's "steal time").

    python3 pause_probe.py CPU OUT_FILE

Runs at SCHED_FIFO 99 pinned to CPU and wakes every TICK_S. No process of the guest can keep
a FIFO-99 thread from running for long, so a wake-up more than PAUSE_MIN_S after the previous
one means the CPU itself did not run: QEMU's thread for it was not scheduled by the host, or
was busy translating code. Under KVM the guest kernel would count this as steal time; under
TCG nothing does. Every such pause is appended to OUT_FILE as "START_US END_US" (wall clock,
microseconds) as it ends. Stop it with SIGTERM.
"""

from __future__ import annotations

import os
import signal
import sys
import time

TICK_S = 0.005
#: A wake-up this late is a pause of the CPU. It must be below the sound card's period (1024
#: samples at 44.1 kHz, 23.2 ms): a stop that long, with the sound thread's own few ms of
#: wake-up, underruns it. At 25 ms, stops of 18-25 ms went unseen and their underruns counted
#: against the product. Normal wake-ups under TCG are a few ms late: two trixie runs saw 4
#: wake-ups of 18 ms or more each in 41 s of recording, two of them 18-25 ms (2026-12-07);
#: at 8 ms one saw 1325, ordinary wake-ups: noise.
PAUSE_MIN_S = 0.018
FIFO_PRIORITY = 99


def main(argv: list[str]) -> int:
    cpu, out_path = int(argv[0]), argv[1]
    os.sched_setaffinity(0, {cpu})
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(FIFO_PRIORITY))
    running = True

    def stop(_signum: int, _frame: object) -> None:
        nonlocal running
        running = False

    signal.signal(signal.SIGTERM, stop)
    with open(out_path, "a") as out:
        last = time.monotonic()
        while running:
            time.sleep(TICK_S)
            now = time.monotonic()
            if now - last >= PAUSE_MIN_S:
                end_us = time.time_ns() // 1000
                start_us = end_us - int((now - last) * 1e6)
                out.write(f"{start_us} {end_us}\n")
                out.flush()
            last = now
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
