"""The reader against a pretend module on a pseudo-terminal: rates in, every fault survived.

The module's bytes are written out by hand from the vendors' documents (testkit/radar_frames.py
holds each one with the value it carries). The reader is the product's, with its retry and silence
times shortened; it hands plausible rates to a queue as it hands them to the service.
"""

from __future__ import annotations

import errno
import logging
import time

from testkit import DEADLINE_S, wait_until
from testkit.radar_frames import (
    C1001_0,
    C1001_14,
    C1001_14_BAD_SUM,
    C1001_20,
    C1001_200,
    C1001_MODE_FALL,
    C1001_MODE_SLEEP,
    C1001_QUERY_MODE,
    C1001_QUERY_RATE,
    C1001_SET_SLEEP,
    MR60_0,
    MR60_12_5,
    MR60_14,
    MR60_14_BAD_DATA_SUM,
    MR60_200,
)
from testkit.serial_module import PtyModule, reader_of

LOGGER = "breathring.breath_sensor"


def c1001(module: PtyModule, rate_reply: bytes = C1001_14, mode: bytes = C1001_MODE_SLEEP):
    module.answers = {C1001_QUERY_MODE: mode, C1001_QUERY_RATE: rate_reply}
    return module


def lines(caplog, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records if r.name == LOGGER)


def test_an_mr60bha2_reports_by_itself_in_split_frames_with_noise_between(module) -> None:
    with reader_of("mr60bha2", module.path) as (reader, readings):
        wait_until(lambda: reader.status().open, what="the port open")
        # Split across writes, garbage and false starts (01) in between.
        module.send(b"\xff\x01" + MR60_14[:5])
        module.send(MR60_14[5:] + b"\x01\x00")
        module.send(MR60_12_5[:9])
        module.send(MR60_12_5[9:])
        first, second = readings.get(timeout=DEADLINE_S), readings.get(timeout=DEADLINE_S)
    assert (first.per_min, first.source) == (14.0, "mr60bha2")
    assert (second.per_min, second.source) == (12.5, "mr60bha2")
    assert first.at <= second.at
    assert module.received() == b""  # it is never sent anything


def test_the_c1001_is_asked_for_its_mode_then_for_the_rate(module) -> None:
    c1001(module)
    with reader_of("c1001", module.path) as (_reader, readings):
        reading = readings.get(timeout=DEADLINE_S)
    assert (reading.per_min, reading.source) == (14.0, "c1001")
    sent = module.received()
    assert sent.startswith(C1001_QUERY_MODE + C1001_QUERY_RATE)
    assert C1001_SET_SLEEP not in sent


def test_a_c1001_in_fall_mode_is_switched_to_sleep_mode_once(module) -> None:
    c1001(module, mode=C1001_MODE_FALL)
    with reader_of("c1001", module.path) as (_reader, readings):
        readings.get(timeout=DEADLINE_S)
        wait_until(lambda: module.count(C1001_SET_SLEEP), what="the switch to sleep mode")
    assert module.count(C1001_SET_SLEEP) == 1


def test_checksum_errors_are_counted_and_the_frame_dropped(module, caplog) -> None:
    c1001(module, rate_reply=C1001_14_BAD_SUM)
    with reader_of("c1001", module.path) as (reader, readings):
        wait_until(lambda: reader.status().checksum_errors >= 2, what="two bad frames")
        module.answers[C1001_QUERY_RATE] = C1001_20
        assert readings.get(timeout=DEADLINE_S).per_min == 20.0
        assert readings.empty()


def test_mr60bha2_checksum_errors_are_counted(module) -> None:
    with reader_of("mr60bha2", module.path) as (reader, readings):
        wait_until(lambda: reader.status().open, what="the port open")
        module.send(MR60_14_BAD_DATA_SUM + MR60_12_5)
        assert readings.get(timeout=DEADLINE_S).per_min == 12.5
        assert reader.status().checksum_errors == 1


def test_absurd_rates_are_dropped_with_one_log_line(module, caplog) -> None:
    c1001(module, rate_reply=C1001_0)
    with (
        caplog.at_level(logging.WARNING, LOGGER),
        reader_of("c1001", module.path) as (reader, readings),
    ):
        wait_until(lambda: reader.status().dropped >= 2, what="0 dropped twice")
        module.answers[C1001_QUERY_RATE] = C1001_200
        switched = reader.status().dropped
        # At most one 0 was still on its way: two more dropped include a 200.
        wait_until(lambda: reader.status().dropped >= switched + 3, what="200 dropped")
        assert readings.empty()
        module.answers[C1001_QUERY_RATE] = C1001_14
        assert readings.get(timeout=DEADLINE_S).per_min == 14.0
    assert lines(caplog, "dropped a rate") == 1


def test_absurd_mr60bha2_rates_are_dropped(module) -> None:
    with reader_of("mr60bha2", module.path) as (reader, readings):
        wait_until(lambda: reader.status().open, what="the port open")
        module.send(MR60_200 + MR60_0 + MR60_12_5)
        assert readings.get(timeout=DEADLINE_S).per_min == 12.5
        assert reader.status().dropped == 2


def test_a_module_that_stops_and_comes_back_is_read_again(module, caplog) -> None:
    c1001(module)
    with (
        caplog.at_level(logging.INFO, LOGGER),
        reader_of("c1001", module.path, silence_s=0.6) as (reader, readings),
    ):
        readings.get(timeout=DEADLINE_S)
        module.silent = True
        # Each silence closes the port and opens it again (a new mode query each time).
        wait_until(lambda: module.count(C1001_QUERY_MODE) >= 4, what="three reopenings")
        assert "nothing from" in (reader.status().trouble or "")
        while not readings.empty():
            readings.get_nowait()
        module.silent = False
        assert readings.get(timeout=DEADLINE_S).per_min == 14.0
    assert lines(caplog, "nothing from") == 1
    assert lines(caplog, "readings from") == 1


def test_a_pulled_cable_is_survived_and_the_module_read_again(module, caplog) -> None:
    c1001(module)
    with (
        caplog.at_level(logging.INFO, LOGGER),
        reader_of("c1001", module.path) as (reader, readings),
    ):
        readings.get(timeout=DEADLINE_S)
        module.unplug()
        wait_until(
            lambda: reader.status().open_errno == errno.ENOENT,
            what="the device gone after the hang-up",
        )
        plugged = time.monotonic()
        module.plug_in()
        while readings.get(timeout=DEADLINE_S).at < plugged:
            pass
        assert reader.status().trouble is None
    assert lines(caplog, "(unplugged?)") == 1
    assert lines(caplog, "cannot open") == 1
    assert lines(caplog, "readings from") == 1


def test_a_missing_device_is_retried_until_it_appears(tmp_path, caplog) -> None:
    link = tmp_path / "serial0"
    with (
        caplog.at_level(logging.WARNING, LOGGER),
        reader_of("mr60bha2", str(link)) as (reader, readings),
    ):
        wait_until(lambda: reader.status().open_errno == errno.ENOENT, what="ENOENT")
        module = PtyModule(link=link)
        try:
            wait_until(lambda: reader.status().open, what="the port opened")
            module.send(MR60_14)
            assert readings.get(timeout=DEADLINE_S).per_min == 14.0
        finally:
            module.close()
    assert lines(caplog, "No such file or directory") == 1


def test_close_is_immediate_while_the_reader_waits(module) -> None:
    c1001(module)
    module.silent = True
    with reader_of("c1001", module.path) as (reader, _readings):
        wait_until(lambda: module.count(C1001_QUERY_RATE), what="the first query")
        started = time.monotonic()
        reader.close()
        took = time.monotonic() - started
    assert took < 0.5
