"""The web token file: what `breathring web` accepts, and what it refuses, word for word.

A token file is a password: others may neither read nor write it, it holds one line of
letters, digits, '-' and '_', at most 512 characters and at least 128 bits (32 hex digits,
or 22 base64url characters).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from breathring.web.auth import TokenError, read_token, token_bits

HEX_32 = "0123456789abcdef0123456789ABCDEF"


def hint(path: Path) -> str:
    return (
        "make one with: python3 -c 'import secrets; print(secrets.token_hex(32))' "
        f"| sudo install -m 0640 -g breathring /dev/stdin {path}"
    )


def token_file(tmp_path: Path, content: str | bytes, mode: int = 0o640) -> Path:
    path = tmp_path / "web.token"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    path.chmod(mode)
    return path


def refusal(path: Path) -> str:
    with pytest.raises(TokenError) as caught:
        read_token(path)
    return str(caught.value)


@pytest.mark.parametrize(
    ("content", "token"),
    [
        (f"  {HEX_32}\n", HEX_32),  # surrounding whitespace stripped; mixed-case hex
        ("a" * 512, "a" * 512),  # the longest accepted
        ("Zz-_" * 5 + "Qq", "Zz-_" * 5 + "Qq"),  # 22 base64url characters: 132 bits
    ],
)
def test_a_strong_private_token_is_read(tmp_path: Path, content: str, token: str) -> None:
    assert read_token(token_file(tmp_path, content)) == token


@pytest.mark.parametrize("mode", [0o600, 0o640, 0o660, 0o400])
def test_owner_and_group_may_have_it(tmp_path: Path, mode: int) -> None:
    assert read_token(token_file(tmp_path, HEX_32, mode)) == HEX_32


@pytest.mark.parametrize(
    ("mode", "what"),
    [
        (0o644, "0644: anyone on this machine can read"),
        (0o646, "0646: anyone on this machine can read"),
        (0o642, "0642: anyone on this machine can write"),
        (0o604, "0604: anyone on this machine can read"),
    ],
)
def test_a_file_others_may_read_or_write_is_refused(tmp_path: Path, mode: int, what: str) -> None:
    path = token_file(tmp_path, HEX_32, mode)
    assert (
        refusal(path) == f"token file {path} is mode {what} it; fix it with: sudo chmod 0640 {path}"
    )


def test_a_missing_file_says_how_to_make_one(tmp_path: Path) -> None:
    path = tmp_path / "missing.token"
    assert refusal(path) == f"token file {path} does not exist; {hint(path)}"


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert refusal(tmp_path) == f"token file {tmp_path} is a directory; {hint(tmp_path)}"


def test_an_unreadable_path_names_the_reason_and_the_group(tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    path = tmp_path / "plain" / "web.token"  # under a file: not a directory
    assert refusal(path) == (
        f"cannot read token file {path}: Not a directory; it must be readable by the "
        "breathring group (sudo chgrp breathring FILE; sudo chmod 0640 FILE)"
    )


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    path = token_file(tmp_path, " \n\t")
    assert refusal(path) == f"token file {path} is empty; {hint(path)}"


def test_a_file_that_is_not_ascii_is_refused(tmp_path: Path) -> None:
    path = token_file(tmp_path, HEX_32.encode() + b"\xc3\xa9")
    assert refusal(path) == (
        f"token file {path} is not ASCII; allowed: letters, digits, '-' and '_'; {hint(path)}"
    )


def test_a_token_over_512_characters_is_refused(tmp_path: Path) -> None:
    path = token_file(tmp_path, "a" * 513)
    assert refusal(path) == f"token in {path} is longer than 512 characters; {hint(path)}"


@pytest.mark.parametrize(
    ("content", "bad"), [(f"{HEX_32}\n{HEX_32}", "'\\n'"), (f"{HEX_32}.x", "'.'")]
)
def test_other_characters_are_named(tmp_path: Path, content: str, bad: str) -> None:
    path = token_file(tmp_path, content)
    assert refusal(path) == (
        f"token in {path} contains {bad}; allowed: letters, digits, '-' and '_' (one line); "
        f"{hint(path)}"
    )


@pytest.mark.parametrize(
    ("token", "chars", "bits"),
    [(HEX_32[:-1], 31, 124), ("Zz-_" * 5 + "Q", 21, 126), ("ab12", 4, 16)],
)
def test_a_weak_token_is_refused_with_its_strength(
    tmp_path: Path, token: str, chars: int, bits: int
) -> None:
    path = token_file(tmp_path, token)
    assert refusal(path) == (
        f"token in {path} is too weak ({chars} characters, about {bits} bits; "
        f"at least 128 bits needed: 32 hex digits); {hint(path)}"
    )


def test_strength_is_four_bits_a_hex_digit_else_six() -> None:
    assert token_bits(HEX_32) == 128
    assert token_bits("0" * 40) == 160
    assert token_bits("g" * 22) == 132
    assert token_bits("abcdeg") == 36
    assert token_bits("") == 0
