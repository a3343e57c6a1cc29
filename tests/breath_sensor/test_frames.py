"""Both radars' frames, as their vendors document them, through our parsers (pure: bytes in).

Every frame is written out by hand from the vendor's document (testkit/radar_frames.py),
with the value it carries; none is built by the code under test.
"""

from __future__ import annotations

from testkit.radar_frames import (
    C1001_14,
    C1001_14_BAD_END,
    C1001_14_BAD_SUM,
    C1001_20,
    C1001_MODE_FALL,
    C1001_MODE_SLEEP,
    C1001_QUERY_MODE,
    C1001_QUERY_RATE,
    C1001_REPORT_16,
    C1001_SET_SLEEP,
    MR60_12_5,
    MR60_14,
    MR60_14_BAD_DATA_SUM,
    MR60_14_BAD_HEAD_SUM,
    MR60_HEART_72,
)

from breathring.hw.breath_sensor.c1001 import C1001Module
from breathring.hw.breath_sensor.mr60bha2 import Mr60bha2


def rates(module, data: bytes, pieces: int = 1) -> list[float]:
    """The rates in `data`, fed in `pieces` parts of (almost) equal size."""
    step = max(len(data) // pieces, 1)
    out = []
    for at in range(0, len(data), step):
        for frame in module.parser.feed(data[at : at + step]):
            rate = module.rate(frame)
            if rate is not None:
                out.append(rate)
    return out


def test_an_mr60bha2_breath_frame_carries_a_float_rate() -> None:
    assert rates(Mr60bha2(), MR60_14 + MR60_12_5) == [14.0, 12.5]


def test_an_mr60bha2_frame_split_byte_by_byte_is_read_whole() -> None:
    module = Mr60bha2()
    assert rates(module, MR60_14 + MR60_12_5, pieces=len(MR60_14) * 2) == [14.0, 12.5]
    assert module.parser.counts.frames == 2


def test_garbage_between_mr60bha2_frames_is_skipped_and_counted() -> None:
    garbage = bytes.fromhex("FF 01 00 7E 01 01 00")  # holds false starts (01)
    module = Mr60bha2()
    assert rates(module, garbage + MR60_14 + garbage + MR60_12_5) == [14.0, 12.5]
    assert module.parser.counts.skipped_bytes >= 2 * len(garbage)


def test_mr60bha2_checksum_errors_are_counted_and_the_next_frame_still_read() -> None:
    module = Mr60bha2()
    data = MR60_14_BAD_DATA_SUM + MR60_14_BAD_HEAD_SUM + MR60_12_5
    assert rates(module, data) == [12.5]
    assert module.parser.counts.checksum_errors == 2


def test_an_mr60bha2_heart_rate_is_not_a_breathing_rate() -> None:
    assert rates(Mr60bha2(), MR60_HEART_72 + MR60_14) == [14.0]


def test_the_mr60bha2_is_never_sent_anything() -> None:
    module = Mr60bha2()
    assert (module.greeting(), module.query(), module.query_interval_s) == (b"", b"", None)


def test_a_c1001_rate_is_one_byte_asked_for_or_reported() -> None:
    assert rates(C1001Module(), C1001_14 + C1001_REPORT_16 + C1001_20) == [14.0, 16.0, 20.0]


def test_a_c1001_frame_split_anywhere_is_read_whole() -> None:
    for pieces in range(2, len(C1001_14) + 1):
        assert rates(C1001Module(), C1001_14 + C1001_20, pieces) == [14.0, 20.0], pieces


def test_garbage_and_false_starts_between_c1001_frames_are_skipped() -> None:
    garbage = bytes.fromhex("53 00 59 53 53 59")  # a lone 53, and a start cut short
    module = C1001Module()
    assert rates(module, garbage + C1001_14 + b"\x00\xff" + C1001_20) == [14.0, 20.0]
    assert module.parser.counts.skipped_bytes >= len(garbage) + 2


def test_c1001_checksum_and_end_errors_are_dropped_and_the_next_frame_read() -> None:
    module = C1001Module()
    assert rates(module, C1001_14_BAD_SUM + C1001_14_BAD_END + C1001_20) == [20.0]
    assert module.parser.counts.checksum_errors == 1
    assert module.parser.counts.frames == 1


def test_the_c1001_is_asked_its_mode_then_its_rate_as_documented() -> None:
    module = C1001Module()
    assert module.greeting() == C1001_QUERY_MODE
    assert module.query() == C1001_QUERY_RATE
    assert module.query_interval_s is not None and 1.0 <= module.query_interval_s <= 5.0


def test_a_c1001_out_of_sleep_mode_is_switched_to_it_once() -> None:
    module = C1001Module()
    (fall,) = module.parser.feed(C1001_MODE_FALL)
    assert module.answer(fall) == C1001_SET_SLEEP
    assert module.answer(fall) == b""  # once per opening
    (sleep,) = C1001Module().parser.feed(C1001_MODE_SLEEP)
    assert C1001Module().answer(sleep) == b""
