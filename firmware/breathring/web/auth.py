"""The web token: reading it, checking it in constant time, and slowing down guessers."""

from __future__ import annotations

import math
import os
import stat
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from pathlib import Path

from ..clock import Clock

DEFAULT_TOKEN_FILE = Path("/etc/breathring/web.token")
#: The cookie set by opening /?token=TOKEN once.
COOKIE_NAME = "breathring_token"
#: Browsers cap cookie lifetimes at 400 days; the phone stays signed in that long.
COOKIE_MAX_AGE_S = 400 * 24 * 60 * 60
#: Weakest token accepted: 128 bits (32 hex digits, or 22 base64url characters).
MIN_TOKEN_BITS = 128
#: Bits one character carries, estimated from the token's alphabet (hex, else base64url).
HEX_BITS_PER_CHAR = 4
BASE64URL_BITS_PER_CHAR = 6
HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
#: Permission bits for "others" that make a token file unusable (it is a password).
OTHERS_ACCESS = stat.S_IROTH | stat.S_IWOTH
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
CHMOD_HINT = "sudo chmod 0640 {path}"


class TokenError(Exception):
    """The token file cannot be used; the message says why and what to do."""


def token_bits(token: str) -> int:
    """Estimated strength: 4 bits a character if all are hex digits, else 6 (base64url)."""
    per_char = HEX_BITS_PER_CHAR if set(token) <= HEX_DIGITS else BASE64URL_BITS_PER_CHAR
    return per_char * len(token)


def _read_private(path: Path) -> bytes:
    """The file's bytes; TokenError if others (not owner or group) may read or write it."""
    with path.open("rb") as file:
        mode = os.fstat(file.fileno()).st_mode
        if mode & OTHERS_ACCESS:
            what = "read" if mode & stat.S_IROTH else "write"
            raise TokenError(
                f"token file {path} is mode {stat.S_IMODE(mode):04o}: anyone on this machine "
                f"can {what} it; fix it with: {CHMOD_HINT.format(path=path)}"
            )
        return file.read()


def read_token(path: Path) -> str:
    """The token in `path` (surrounding whitespace stripped); TokenError if unusable.

    Unusable: missing, unreadable, readable or writable by others, not one line of
    letters, digits, '-' and '_', or weaker than MIN_TOKEN_BITS (see token_bits).
    """
    hint = MAKE_TOKEN_HINT.format(path=path)
    try:
        raw = _read_private(path)
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
    bits = token_bits(token)
    if bits < MIN_TOKEN_BITS:
        raise TokenError(
            f"token in {path} is too weak ({len(token)} characters, about {bits} bits; "
            f"at least {MIN_TOKEN_BITS} bits needed: 32 hex digits); {hint}"
        )
    return token


def token_matches(given: str | None, token: str) -> bool:
    """Constant-time comparison of a presented token with ours.

    Both are hashed first (SHA-256), so the time depends neither on how much of a
    guess is right nor on its length.
    """
    if given is None:
        return False
    # Imported here: every breathring command's parser imports this module (for the default
    # token file), and hashlib loads libcrypto (3.4 MB resident) that `breathring run` never needs.
    import hashlib
    import hmac

    ours = hashlib.sha256(token.encode("ascii")).digest()
    theirs = hashlib.sha256(given.encode("utf-8", "replace")).digest()
    return hmac.compare_digest(theirs, ours)


def any_matches(offered: list[str], token: str) -> bool:
    """Whether any offered token is ours; every one is compared (no early exit)."""
    results = [token_matches(given, token) for given in offered]
    return any(results)


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
    """Counts wrong tokens per client address in a sliding window, to answer guessers 429.

    A right token is always accepted, even from an address over the limit: the
    limit is per address, and any web page can make a phone's browser send wrong
    tokens from the phone's address (`<img src="http://breathring.local/?token=x">`),
    so refusing the right cookie then would hand every website a lock-out of the
    phone. Only wrong tokens are answered 429, and a missing token is never counted.

    What a guesser learns: each answer depends only on that request's own token:
    200 if it is right; if wrong, 401, or 429 once the address sent `max_failures`
    wrong ones in the window. Which of the two a wrong guess gets depends only on
    the address's earlier wrong guesses, which the guesser knows already, so a 429
    says no more than a 401: "this one was wrong". Every offered token is compared
    in constant time (token_matches, no early exit) before the limiter is asked, so
    the time of the comparison tells nothing either.

    What makes guessing hopeless is therefore the token's strength, not this limit:
    read_token refuses tokens under 128 bits; at a million guesses a second the
    search takes about 5e24 years on average. The limiter answers guessers cheaply
    and tells a client with a stale token when to try again (Retry-After).
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
