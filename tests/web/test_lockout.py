"""Guessers are slowed down: wrong tokens per address in a sliding window, the right one
always accepted; the header and the comparison that decide what a request offered."""

from __future__ import annotations

from datetime import UTC, datetime

from testkit.web import TOKEN, WRONG

from breathring.clock import FakeClock
from breathring.web.auth import FailureLimiter, any_matches, bearer_token, token_matches

PHONE = "192.0.2.10"
LAPTOP = "192.0.2.11"


def limiter(**kwargs: float) -> tuple[FailureLimiter, FakeClock]:
    clock = FakeClock(datetime(2025, 3, 14, 12, 0, tzinfo=UTC), mono=100.0)
    return FailureLimiter(clock, **kwargs), clock


def fail(lim: FailureLimiter, clock: FakeClock, client: str, times: int) -> None:
    """`times` wrong tokens from `client`, one a second."""
    for _ in range(times):
        lim.failed(client)
        clock.advance(1.0)


def test_ten_wrong_tokens_in_a_minute_lock_the_address_out() -> None:
    lim, clock = limiter()
    assert lim.retry_after(PHONE) is None
    fail(lim, clock, PHONE, 9)  # at 100..108 s
    assert lim.retry_after(PHONE) is None
    fail(lim, clock, PHONE, 1)  # the tenth at 109 s; now 110 s
    assert lim.retry_after(PHONE) == 50  # the first leaves the window at 160 s
    clock.advance(0.5)
    assert lim.retry_after(PHONE) == 50  # whole seconds, rounded up
    clock.advance(49.0)  # 159.5 s
    assert lim.retry_after(PHONE) == 1
    clock.advance(0.5)  # 160 s: the first failure is out of the window
    assert lim.retry_after(PHONE) is None


def test_the_wait_is_at_least_a_second() -> None:
    lim, clock = limiter(window_s=5.0, max_failures=2)
    fail(lim, clock, PHONE, 2)  # at 100 and 101 s; now 102 s
    assert lim.retry_after(PHONE) == 3
    clock.advance(2.75)  # 104.75 s: a quarter second left
    assert lim.retry_after(PHONE) == 1


def test_only_the_last_failures_count() -> None:
    lim, clock = limiter()
    fail(lim, clock, PHONE, 15)  # at 100..114 s; now 115 s
    assert lim.retry_after(PHONE) == 50  # the tenth-last, at 105 s, leaves at 165 s


def test_addresses_are_counted_apart() -> None:
    lim, clock = limiter()
    fail(lim, clock, PHONE, 10)
    assert lim.retry_after(LAPTOP) is None
    fail(lim, clock, LAPTOP, 9)
    assert lim.retry_after(LAPTOP) is None
    assert lim.retry_after(PHONE) == 41  # first at 100 s, now 119 s


def test_the_window_and_the_limit_can_be_set() -> None:
    lim, clock = limiter(window_s=10.0, max_failures=3)
    fail(lim, clock, PHONE, 2)
    assert lim.retry_after(PHONE) is None
    fail(lim, clock, PHONE, 1)  # at 100, 101, 102 s; now 103 s
    assert lim.retry_after(PHONE) == 7


def test_the_oldest_address_is_forgotten_first() -> None:
    lim, clock = limiter(max_clients=2)
    fail(lim, clock, "a", 10)
    fail(lim, clock, "b", 10)
    fail(lim, clock, "c", 1)  # three addresses: "a" is forgotten
    assert lim.retry_after("a") is None
    assert lim.retry_after("b") == 49  # first at 110 s, now 121 s


def test_a_new_failure_makes_an_address_the_newest() -> None:
    lim, clock = limiter(max_clients=2)
    fail(lim, clock, "a", 9)
    fail(lim, clock, "b", 10)
    fail(lim, clock, "a", 1)  # "a" is the newest again, with ten failures
    fail(lim, clock, "c", 1)  # so "b" is forgotten
    assert lim.retry_after("b") is None
    assert lim.retry_after("a") == 39  # first at 100 s, now 121 s


def test_an_address_whose_failures_expired_starts_again() -> None:
    lim, clock = limiter()
    fail(lim, clock, PHONE, 10)
    clock.advance(60.0)
    assert lim.retry_after(PHONE) is None
    fail(lim, clock, PHONE, 9)
    assert lim.retry_after(PHONE) is None
    fail(lim, clock, PHONE, 1)
    assert lim.retry_after(PHONE) == 50


def test_bearer_header() -> None:
    assert bearer_token(f"Bearer {TOKEN}") == TOKEN
    assert bearer_token(f"BEARER {TOKEN}") == TOKEN
    assert bearer_token(f"  bearer   {TOKEN}  ") == TOKEN
    assert bearer_token("Bearer a b") == "a b"
    for header in (None, "", "Bearer", "Bearer    ", f"Basic {TOKEN}", f"Token {TOKEN}", TOKEN):
        assert bearer_token(header) is None, header


def test_any_offered_token_may_be_the_right_one() -> None:
    assert any_matches([WRONG, TOKEN], TOKEN)
    assert any_matches([TOKEN, WRONG], TOKEN)
    assert not any_matches([WRONG, WRONG], TOKEN)
    assert not any_matches([], TOKEN)


def test_a_token_that_is_not_text_is_simply_wrong() -> None:
    assert not token_matches("\udcff" + TOKEN, TOKEN)  # an undecodable byte from a header
