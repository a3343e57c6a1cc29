"""The web token: reading it, checking it in constant time, and slowing down guessers."""

from __future__ import annotations

import hmac
import math
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import Clock

DEFAULT_TOKEN_FILE = Path("/etc/breathring/web.token")
#: The cookie set by opening /?token=TOKEN once.
COOKIE_NAME = "breathring_token"
#: Browsers cap cookie lifetimes at 400 days; the phone stays signed in that long.
COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60
#: A token made by install.sh is 32 random bytes (64 hex digits); shorter ones are warned about.
RECOMMENDED_TOKEN_CHARS = 32
#: Longest token accepted (it travels in a URL and a header).
MAX_TOKEN_CHARS = 512
#: Wrong tokens allowed per client address in one window, and the window.
MAX_FAILURES = 10
FAILURE_WINDOW_S = 60.0
#: Addresses remembered at once (the oldest is forgotten first), so memory stays bounded.
MAX_TRACKED_CLIENTS = 1024

MAKE_TOKEN_HINT = (
    "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))' "
    "| sudo install -m 0640 -g breathring /dev/stdin {path}"
)


class TokenError(Exception):
    """The token file cannot be used; the message says why and what to do."""


def read_token(path: Path) -> str:
    """The token in `path` (surrounding whitespace stripped); TokenError if unusable."""
    hint = MAKE_TOKEN_HINT.format(path=path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise TokenError(f"token file {path} does not exist; {hint}") from None
    except IsADirectoryError:
        raise TokenError(f"token file {path} is a directory; {hint}") from None
    except OSError as exc:
        raise TokenError(
            f"cannot read token file {path}: {exc.strerror or exc}; it must be readable by "
            "the breathring group (sudo chgrp breathring FILE; sudo chmod 0640 FILE)"
        ) from None
    try:
        token = raw.decode("ascii").strip()
    except UnicodeDecodeError:
        raise TokenError(
            f"token file {path} is not ASCII; allowed: letters, digits, '-' and '_'; {hint}"
        ) from None
    if not token:
        raise TokenError(f"token file {path} is empty; {hint}")
    if len(token) > MAX_TOKEN_CHARS:
        raise TokenError(f"token in {path} is longer than {MAX_TOKEN_CHARS} characters; {hint}")
    bad = next((c for c in token if not (c.isalnum() or c in "-_")), None)
    if bad is not None:
        raise TokenError(
            f"token in {path} contains {bad!r}; allowed: letters, digits, '-' and '_' "
            f"(one line); {hint}"
        )
    return token


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison (for equal lengths) of a presented token with ours."""
    if given is None:
        return False
    return hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("ascii"))


def bearer_token(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        return None
    return value.strip()


@dataclass
class FailureLimiter:
    """Counts wrong tokens per client address in a sliding window.

    A client with MAX_FAILURES failures inside the window is refused (429) until
    the oldest one leaves the window, even with the right token: otherwise the
    answer would still tell a guesser when it guessed right.
    """

    clock: Clock
    max_failures: int = MAX_FAILURES
    window_s: float = FAILURE_WINDOW_S
    max_clients: int = MAX_TRACKED_CLIENTS
    _failures: OrderedDict[str, deque[float]] = field(default_factory=OrderedDict)

    def _recent(self, client: str) -> deque[float] | None:
        times = self._failures.get(client)
        if times is None:
            return None
        cutoff = self.clock.monotonic() - self.window_s
        while times and times[0] <= cutoff:
            times.popleft()
        if not times:
            del self._failures[client]
            return None
        return times

    def retry_after(self, client: str) -> int | None:
        """Whole seconds until `client` may try again, or None if it may now."""
        times = self._recent(client)
        if times is None or len(times) < self.max_failures:
            return None
        wait = times[-self.max_failures] + self.window_s - self.clock.monotonic()
        return max(1, math.ceil(wait))

    def failed(self, client: str) -> None:
        """Record one wrong token from `client`."""
        times = self._recent(client)
        if times is None:
            times = self._failures[client] = deque(maxlen=self.max_failures)
            while len(self._failures) > self.max_clients:
                self._failures.popitem(last=False)
        self._failures.move_to_end(client)
        times.append(self.clock.monotonic())
