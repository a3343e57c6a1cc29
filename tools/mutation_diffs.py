"""Print the diff of every mutant that was not killed in one run folder of tools/mutation.sh.

    cd .mutation/config && ../../.venv/bin/python ../../tools/mutation_diffs.py

One mutmut process for all survivors (`mutmut show NAME` starts one per mutant).
"""

from __future__ import annotations

import sys

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code
from mutmut.utils.file_utils import walk_mutatable_files

KILLED = {"killed", "timeout", "caught by type check"}


def main() -> int:
    for path in walk_mutatable_files():
        data = SourceFileMutationData(path=path)
        data.load()
        for name, code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[code]
            if status in KILLED:
                continue
            diff = get_diff_for_mutant(name, path=path)
            changed = [
                line
                for line in diff.splitlines()
                if line[:1] in "+-" and not line.startswith(("+++", "---"))
            ]
            print(f"== {name} ({status})")
            print("\n".join(changed))
    return 0


if __name__ == "__main__":
    sys.exit(main())
