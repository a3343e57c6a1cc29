"""Sum the results of tools/mutation.sh: killed, survived and the score per module.

Reads every .mutation/*/results.txt (`mutmut results --all true`: "    NAME: STATUS") and the
equivalent mutants listed in docs/testing.md (table rows "| module | `NAME` | diff | why |"),
prints one line per module and an overall line, and writes them to .mutation/results.txt.
A timeout counts as killed (the mutant made a test hang); "no tests" counts as survived.
"""

from __future__ import annotations

import re
import sys
from collections import Counter, defaultdict
from pathlib import Path

RESULT_LINE = re.compile(r"^\s*(breathring\.\S+): (.+)$")
EQUIVALENT_ROW = re.compile(r"^\|[^|]*\|\s*`(breathring\.[^`]+)`\s*\|")
KILLED = {"killed", "timeout", "caught by type check"}
PERCENT = 100.0


#: Packages whose modules are counted one by one (the others, e.g. config, as one).
PER_MODULE_PACKAGES = ("hw", "mqtt", "web")


def module_of(mutant: str) -> str:
    """breathring.config.loading.x_load__mutmut_3 -> config; breathring.hw.ring.x -> hw.ring."""
    parts = mutant.split(".")
    if parts[1] in PER_MODULE_PACKAGES:
        return ".".join(parts[1:3])
    return parts[1]


def read_statuses(work: Path) -> dict[str, str]:
    """Mutant name -> status over every run folder (a later file wins)."""
    status: dict[str, str] = {}
    for results in sorted(work.glob("*/results.txt")):
        for line in results.read_text().splitlines():
            match = RESULT_LINE.match(line)
            if match:
                status[match.group(1)] = match.group(2).strip()
    return status


def read_equivalents(doc: Path) -> set[str]:
    if not doc.exists():
        return set()
    rows = (EQUIVALENT_ROW.match(line) for line in doc.read_text().splitlines())
    return {row.group(1) for row in rows if row}


def score(killed: int, total: int) -> str:
    return f"{PERCENT * killed / total:.1f} %" if total else "-"


def summary(status: dict[str, str], equivalents: set[str]) -> list[str]:
    per_module: dict[str, Counter] = defaultdict(Counter)
    for name, state in status.items():
        counts = per_module[module_of(name)]
        counts["total"] += 1
        if state in KILLED:
            counts["killed"] += 1
        elif name in equivalents:
            counts["equivalent"] += 1
        else:
            counts["survived"] += 1
    lines = [
        f"{'module':<12}{'killed':>8}{'survived':>10}{'equiv.':>8}{'total':>7}"
        f"{'raw':>9}{'w/o equiv.':>12}"
    ]
    overall: Counter = Counter()
    for module in sorted(per_module):
        overall.update(per_module[module])
        lines.append(row(module, per_module[module]))
    lines.append(row("overall", overall))
    return lines


def row(name: str, c: Counter) -> str:
    alive = c["survived"] + c["equivalent"]
    return (
        f"{name:<12}{c['killed']:>8}{alive:>10}{c['equivalent']:>8}{c['total']:>7}"
        f"{score(c['killed'], c['total']):>9}"
        f"{score(c['killed'], c['total'] - c['equivalent']):>12}"
    )


def main(argv: list[str]) -> int:
    work, doc = Path(argv[0]), Path(argv[1])
    status = read_statuses(work)
    lines = summary(status, read_equivalents(doc))
    survivors = sorted(n for n, s in status.items() if s not in KILLED)
    text = "\n".join([*lines, "", "not killed:", *(f"    {n}: {status[n]}" for n in survivors)])
    (work / "results.txt").write_text(text + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
