"""Drive the simulated button with exact timing (the shell's forks are slow under emulation).

    python3 press.py PULL_ATTR STEP...      STEP = down:SECONDS | up:SECONDS | wait:SECONDS

Writes pull-down (pressed: the button shorts GPIO17 to ground) or pull-up (released) to the
gpio-sim line's `pull` attribute, waits SECONDS after each, and prints the wall-clock time of
the first write in microseconds. A leading wait:SECONDS writes nothing: started early, the
interpreter's start-up is over before the press.

With PRESS_TIMES=FILE in the environment, the wall-clock time (us) of every write is also
written to FILE as a JSON list (the release of a press is when its `start` cue plays).

With CLOSED_GLOB=PATTERN and CLOSED_OUT=FILE, just before the first write: `true` in FILE when
every file PATTERN matches (ALSA's /proc/asound/.../sub*/status) reads "closed" (no stream
open on that sound device), else `false` (and the states, on stderr).
"""

import glob
import json
import os
import sys
import time

PULLS = {"down": "pull-down", "up": "pull-up"}


def note_closed(pattern: str, out_path: str) -> None:
    """Write whether every status file matching `pattern` says "closed" (JSON true/false)."""
    states = {}
    for status in sorted(glob.glob(pattern)):
        with open(status) as f:
            states[status] = f.read().strip()
    closed = bool(states) and all(state == "closed" for state in states.values())
    if not closed:
        print(f"press.py: not closed before the press: {states}", file=sys.stderr)
    with open(out_path, "w") as out:
        json.dump(closed, out)


def main(argv: list[str]) -> int:
    path, steps = argv[0], argv[1:]
    times_us: list[int] = []
    closed_glob, closed_out = os.environ.get("CLOSED_GLOB"), os.environ.get("CLOSED_OUT")
    with open(path, "w") as attr:
        for step in steps:
            what, _, seconds = step.partition(":")
            if what == "wait":
                time.sleep(float(seconds))
                continue
            if closed_glob and closed_out and not times_us:
                note_closed(closed_glob, closed_out)
            attr.seek(0)
            attr.write(PULLS[what])
            attr.flush()
            times_us.append(time.time_ns() // 1000)
            time.sleep(float(seconds or 0))
    print(times_us[0] if times_us else None)
    times_file = os.environ.get("PRESS_TIMES")
    if times_file:
        with open(times_file, "w") as out:
            json.dump(times_us, out)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
