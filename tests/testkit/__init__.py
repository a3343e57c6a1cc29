"""The shared test kit: helpers every test directory imports by name (`from testkit import ...`)."""

from testkit.net import LOOPBACK, free_port
from testkit.paths import ROOT, short_dir, short_tmp
from testkit.waiting import DEADLINE_S, wait_until

__all__ = ["DEADLINE_S", "LOOPBACK", "ROOT", "free_port", "short_dir", "short_tmp", "wait_until"]
