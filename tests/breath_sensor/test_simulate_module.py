"""`python -m breathring.hw.breath_sensor.simulate_module`: a pretend radar for hand tests.

It prints its pseudo-terminal's path and answers like the module; the product's reader gets the
rate it was given. Its frames come from its own encoders (written from the vendors' documents),
so this also checks the two sides against each other.
"""

from __future__ import annotations

import subprocess
import sys

import pytest
from testkit import DEADLINE_S
from testkit.process import product_env
from testkit.serial_module import reader_of


@pytest.mark.parametrize(("kind", "rate"), [("c1001", 14.0), ("mr60bha2", 12.5)])
def test_the_pretend_module_is_read_like_the_real_one(kind: str, rate: float, tmp_path) -> None:
    link = tmp_path / "serial0"
    argv = [sys.executable, "-m", "breathring.hw.breath_sensor.simulate_module"]
    module = subprocess.Popen(
        [*argv, "--kind", kind, "--rate", str(rate), "--link", str(link)],
        stdout=subprocess.PIPE,
        text=True,
        env=product_env(),
    )
    try:
        assert module.stdout is not None
        assert module.stdout.readline().strip() == str(link)
        with reader_of(kind, str(link)) as (_reader, readings):
            reading = readings.get(timeout=DEADLINE_S)
        assert (reading.per_min, reading.source) == (rate, kind)
    finally:
        module.terminate()
        assert module.wait(timeout=DEADLINE_S) == 0
    assert not link.exists()
