"""RateLimitedLog: one line per key per interval, the held-back count on the next one."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from breathring.clock import FakeClock
from breathring.rate_limited_log import RateLimitedLog

LOGGER = "breathring.test-rate-limited"


def _lines(caplog: pytest.LogCaptureFixture) -> list[tuple[int, str, bool]]:
    return [
        (r.levelno, r.getMessage(), r.exc_info is not None and r.exc_info[0] is not None)
        for r in caplog.records
        if r.name == LOGGER
    ]


def _fail(report: RateLimitedLog, mono: float, **kwargs: object) -> None:
    try:
        raise OSError(5, "Input/output error")
    except OSError:
        report.report("ring", mono, "writing to %s failed", "the ring", **kwargs)


def test_report_logs_once_per_interval_and_counts_what_it_held_back(caplog):
    caplog.set_level(logging.ERROR, LOGGER)
    report = RateLimitedLog(logging.getLogger(LOGGER), interval=30.0)
    for mono in (100.0, 101.0, 110.0, 129.9):
        _fail(report, mono)
    _fail(report, 130.0)
    _fail(report, 200.0)
    assert _lines(caplog) == [
        (logging.ERROR, "writing to the ring failed", True),
        (logging.ERROR, "writing to the ring failed (3 more since the last report)", True),
        (logging.ERROR, "writing to the ring failed", True),
    ]


def test_an_expected_fault_names_the_error_without_a_traceback(caplog):
    caplog.set_level(logging.ERROR, LOGGER)
    report = RateLimitedLog(logging.getLogger(LOGGER), interval=1.0)
    _fail(report, 0.0, expected=True)
    _fail(report, 0.5, expected=True)
    _fail(report, 1.0, expected=True)
    assert _lines(caplog) == [
        (logging.ERROR, "writing to the ring failed: [Errno 5] Input/output error", False),
        (
            logging.ERROR,
            "writing to the ring failed (1 more since the last report): "
            "[Errno 5] Input/output error",
            False,
        ),
    ]


def test_calling_the_object_is_report(caplog):
    caplog.set_level(logging.ERROR, LOGGER)
    report = RateLimitedLog(logging.getLogger(LOGGER), interval=30.0)
    try:
        raise ValueError("bad frame")
    except ValueError:
        report("frame", 5.0, "a frame failed; going on")
        report("frame", 6.0, "a frame failed; going on")
    assert _lines(caplog) == [(logging.ERROR, "a frame failed; going on", True)]


def test_keys_are_counted_apart(caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    clock = FakeClock(datetime(2026, 1, 15, 12, tzinfo=UTC))
    warn = RateLimitedLog(logging.getLogger(LOGGER), interval=60.0, clock=clock)
    warn.warning("broker", "cannot reach the broker at %s:%d; retrying", "localhost", 1883)
    warn.warning("service", "the service closed the watch connection")
    warn.warning("broker", "cannot reach the broker at %s:%d; retrying", "localhost", 1883)
    clock.advance(60.0)
    warn.warning("service", "the service closed the watch connection")
    warn.warning("broker", "cannot reach the broker at %s:%d; retrying", "localhost", 1883)
    assert [m for _, m, _ in _lines(caplog)] == [
        "cannot reach the broker at localhost:1883; retrying",
        "the service closed the watch connection",
        "the service closed the watch connection",
        "cannot reach the broker at localhost:1883; retrying (1 more since the last report)",
    ]


def test_reset_reports_the_next_one_at_once_and_forgets_the_count(caplog):
    caplog.set_level(logging.WARNING, LOGGER)
    clock = FakeClock(datetime(2026, 1, 15, 12, tzinfo=UTC))
    warn = RateLimitedLog(logging.getLogger(LOGGER), interval=60.0, clock=clock)
    warn.warning("broker", "lost the broker")
    warn.warning("broker", "lost the broker")
    warn.reset("broker")
    clock.advance(1.0)
    warn.warning("broker", "lost the broker")
    assert [m for _, m, _ in _lines(caplog)] == ["lost the broker", "lost the broker"]


def test_the_default_interval_is_a_minute():
    log = RateLimitedLog(logging.getLogger(LOGGER))
    assert log.interval == 60.0
