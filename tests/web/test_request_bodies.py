"""Request bodies: JSON only (415 otherwise), at most 16384 bytes (413), strict JSON (400 naming
what is wrong, word for word), numbers JSON can carry on and at most 8 levels of nesting; a
refused body never reaches the service."""

from __future__ import annotations

from typing import Any

import pytest
from testkit.fake_service import FakeService
from testkit.web import AUTH, run_async, web_client

JSON_AUTH = {**AUTH, "Content-Type": "application/json"}
#: The end of a refused number's message.
NUMBERS = "is not allowed; numbers must be finite and at most 9007199254740991 in size"


async def error(response: Any, status: int = 400) -> dict[str, Any]:
    assert response.status == status
    body = await response.json()
    assert body["ok"] is False
    return body


# -- Content-Type ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"],
)
@run_async
async def test_a_body_that_is_not_json_is_refused_415(fake: FakeService, content_type: str) -> None:
    """What a cross-origin form or no-cors fetch can send without asking first."""
    plain = content_type.split(";")[0]
    async with web_client(fake.path) as client:
        response = await client.post(
            "/api/session", headers={**AUTH, "Content-Type": content_type}, data=b"{}"
        )
        body = await error(response, 415)
    assert body["error"] == (
        f"Content-Type '{plain}' is not allowed for a body; send Content-Type: application/json"
    )
    assert fake.commands() == []


@run_async
async def test_json_with_a_charset_is_json(fake: FakeService) -> None:
    headers = {**AUTH, "Content-Type": "application/json; charset=utf-8"}
    async with web_client(fake.path) as client:
        response = await client.put("/api/reminders", headers=headers, data=b'{"enabled": false}')
        assert response.status == 200
    assert fake.commands() == [{"cmd": "reminders", "value": "off"}]


# -- size ----------------------------------------------------------------------------------------

TOO_LARGE = "request body too large; allowed: at most 16384 bytes"


def padded(size: int) -> bytes:
    """{"enabled": true} padded with spaces to `size` bytes."""
    core = b'{"enabled": true}'
    return core + b" " * (size - len(core))


@run_async
async def test_a_body_of_16384_bytes_is_read(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.put("/api/reminders", headers=JSON_AUTH, data=padded(16384))
        assert response.status == 200
    assert fake.commands() == [{"cmd": "reminders", "value": "on"}]


@run_async
async def test_a_larger_body_is_refused_413_with_or_without_its_length(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        sized = await client.put("/api/reminders", headers=JSON_AUTH, data=padded(16385))
        assert (await error(sized, 413))["error"] == TOO_LARGE

        async def chunks():  # no Content-Length: the cap applies while reading
            yield padded(16385)

        chunked = await client.put("/api/reminders", headers=JSON_AUTH, data=chunks())
        assert (await error(chunked, 413))["error"] == TOO_LARGE
        page = await client.post("/", headers=JSON_AUTH, data=padded(16385))  # not the API
        assert page.status == 413
        assert await page.text() == TOO_LARGE + "\n"
    assert fake.commands() == []


# -- empty, not UTF-8, not JSON ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "request body is empty; send a JSON object"),
        (b" \n\t", "request body is empty; send a JSON object"),
        (b'{"enabled": "\xff"}', "request body is not UTF-8; send a JSON object"),
        (
            b'{"enabled": ',
            "request body is not valid JSON (Expecting value at line 1 column 13); "
            "send a JSON object",
        ),
        (
            b'{\n "enabled": tru\n}',
            "request body is not valid JSON (Expecting value at line 2 column 13); "
            "send a JSON object",
        ),
        (
            b"[" * 16000,
            "request body is not valid JSON (maximum recursion depth exceeded while decoding "
            "a JSON array from a unicode string); send a JSON object",
        ),
        (b"[true]", 'request body must be a JSON object such as {"enabled": true}'),
        (b'"enabled"', 'request body must be a JSON object such as {"enabled": true}'),
    ],
    ids=["empty", "blank", "latin-1", "cut", "two-lines", "deep", "array", "string"],
)
@run_async
async def test_a_body_that_is_no_json_object_is_refused_saying_why(
    fake: FakeService, data: bytes, message: str
) -> None:
    async with web_client(fake.path) as client:
        response = await client.put("/api/reminders", headers=JSON_AUTH, data=data)
        assert await error(response) == {"ok": False, "error": message}
    assert fake.commands() == []


@run_async
async def test_a_blank_body_where_it_is_optional_is_no_body(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=JSON_AUTH, data=b" \n")
        assert response.status == 200
    assert fake.commands() == [{"cmd": "start", "trigger": "remote"}]


@pytest.mark.parametrize(
    ("data", "key", "allowed"),
    [
        (b'{"zeta": 1, "alpha": 2, "pattern": "box"}', "alpha", '"pattern"'),
        (b'{"pattern": "box", "breaths": 9}', "breaths", '"pattern"'),
    ],
)
@run_async
async def test_an_unexpected_key_is_named_with_the_allowed_ones(
    fake: FakeService, data: bytes, key: str, allowed: str
) -> None:
    async with web_client(fake.path) as client:
        response = await client.post("/api/session", headers=JSON_AUTH, data=data)
        assert await error(response) == {
            "ok": False,
            "error": f'unexpected key "{key}"; allowed: {allowed}',
            "key": key,
        }
    assert fake.commands() == []


# -- numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        ("NaN", "NaN"),
        ("Infinity", "Infinity"),
        ("-Infinity", "-Infinity"),
        ("1e999", "1e999"),
        ("-1e999", "-1e999"),
        ("9007199254740992", "9007199254740992"),
        ("-9007199254740992", "-9007199254740992"),
        ("12345678901234567890", "12345678901234567890"),
        ("1" * 40, "1" * 40),
        ("1" * 41, "1" * 39 + "…"),
        ("9" * 5000, "9" * 39 + "…"),
    ],
    ids=[
        "nan",
        "inf",
        "-inf",
        "1e999",
        "-1e999",
        "2**53",
        "-2**53",
        "20-digits",
        "40-digits",
        "41-digits",
        "5000-digits",
    ],
)
@run_async
async def test_a_number_json_cannot_carry_on_is_refused_naming_its_key(
    fake: FakeService, value: str, shown: str
) -> None:
    async with web_client(fake.path) as client:
        data = b'{"ring.brightness": 0.5, "audio.volume": ' + value.encode() + b"}"
        response = await client.patch("/api/settings", headers=JSON_AUTH, data=data)
        assert await error(response) == {
            "ok": False,
            "error": f"audio.volume: {shown} {NUMBERS}",
            "key": "audio.volume",
        }
    assert fake.commands() == []


@pytest.mark.parametrize(
    ("data", "body"),
    [
        (b'{"night.hours": {"from": [1, NaN]}}', {"error": f"night.hours: NaN {NUMBERS}"}),
        (b"NaN", {"error": f"NaN {NUMBERS}"}),
        (b"[1, 2, Infinity]", {"error": f"Infinity {NUMBERS}"}),
    ],
    ids=["nested", "alone", "in-a-list"],
)
@run_async
async def test_a_bad_number_deeper_down_is_named_by_its_top_key_if_any(
    fake: FakeService, data: bytes, body: dict[str, str]
) -> None:
    async with web_client(fake.path) as client:
        response = await client.patch("/api/settings", headers=JSON_AUTH, data=data)
        expected: dict[str, Any] = {"ok": False, **body}
        if data.startswith(b"{"):
            expected["key"] = "night.hours"
        assert await error(response) == expected
    assert fake.commands() == []


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9007199254740991", 9007199254740991),
        ("-9007199254740991", -9007199254740991),
        ("1234567890123456", 1234567890123456),
        ("1.5e308", 1.5e308),
        ("-0.5", -0.5),
    ],
)
@run_async
async def test_numbers_json_can_carry_reach_the_service(
    fake: FakeService, text: str, value: float
) -> None:
    async with web_client(fake.path) as client:
        data = b'{"session.breaths": ' + text.encode() + b"}"
        response = await client.patch("/api/settings", headers=JSON_AUTH, data=data)
        assert response.status == 400  # the fake service's own range check: 1-20
        assert (await response.json())["code"] == "invalid"
    assert fake.commands() == [
        {"cmd": "settings"},
        {"cmd": "set", "values": {"session.breaths": value}},
    ]


# -- nesting -------------------------------------------------------------------------------------


def nested(levels: int) -> bytes:
    return b"[" * levels + b"1" + b"]" * levels


@run_async
async def test_values_nested_deeper_than_8_levels_are_refused(fake: FakeService) -> None:
    async with web_client(fake.path) as client:
        seven = await client.patch(
            "/api/settings", headers=JSON_AUTH, data=b'{"night.hours": ' + nested(7) + b"}"
        )
        assert await error(seven) == {  # through the nesting check, refused as no scalar
            "ok": False,
            "error": "night.hours: [[[[[[[1]]]]]]] is not allowed; send a number, true/false or "
            "a string",
            "key": "night.hours",
        }
        eight = await client.patch(
            "/api/settings", headers=JSON_AUTH, data=b'{"night.hours": ' + nested(8) + b"}"
        )
        assert await error(eight) == {
            "ok": False,
            "error": "night.hours: nested deeper than 8 levels; not allowed",
            "key": "night.hours",
        }
        objects = await client.patch(
            "/api/settings",
            headers=JSON_AUTH,
            data=b'{"a": {"b": {"c": {"d": {"e": {"f": {"g": {"h": {"i": 1}}}}}}}}}',
        )
        assert await error(objects) == {
            "ok": False,
            "error": "a: nested deeper than 8 levels; not allowed",
            "key": "a",
        }
        top_eight = await client.patch("/api/settings", headers=JSON_AUTH, data=nested(8))
        assert (await error(top_eight))["error"] == (
            'request body must be a JSON object such as {"ring.brightness": 0.3}'
        )
        top_nine = await client.patch("/api/settings", headers=JSON_AUTH, data=nested(9))
        assert await error(top_nine) == {
            "ok": False,
            "error": "nested deeper than 8 levels; not allowed",
        }
    assert fake.commands() == []
