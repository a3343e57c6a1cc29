"""The control protocol: request lines parsed or refused with a message, the socket's path."""

from __future__ import annotations

from pathlib import Path

import pytest

from breathring.control.protocol import (
    DEFAULT_SOCKET,
    Request,
    RequestError,
    parse_request,
    socket_path_from,
)


def test_socket_arg_wins():
    assert socket_path_from("/tmp/x.sock", {"RUNTIME_DIRECTORY": "/run/b"}) == Path("/tmp/x.sock")


def test_socket_from_runtime_directory_takes_first():
    env = {"RUNTIME_DIRECTORY": "/run/breathring:/run/other"}
    assert socket_path_from(None, env) == Path("/run/breathring/control.sock")


def test_socket_default():
    assert socket_path_from(None, {}) == DEFAULT_SOCKET == Path("/run/breathring/control.sock")
    assert socket_path_from(None, {"RUNTIME_DIRECTORY": ""}) == DEFAULT_SOCKET


def test_socket_empty_arg_is_an_error():
    with pytest.raises(ValueError, match="--socket needs a path"):
        socket_path_from("", {})


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (b'{"cmd": "press"}\n', Request("press")),
        (b'{"cmd": "hold"}', Request("hold")),
        (b'{"cmd": "start"}\n', Request("start")),
        (b'{"cmd": "start", "pattern": "box"}\n', Request("start", pattern="box")),
        (b'{"cmd": "start", "pattern": null}\n', Request("start")),
        (b'{"cmd": "stop"}\r\n', Request("stop")),
        (b'  {"cmd": "status"}  \n', Request("status")),
        (b'{"cmd": "reminders", "value": "on"}\n', Request("reminders", value="on")),
        (b'{"value": "off", "cmd": "reminders"}\n', Request("reminders", value="off")),
        (b'{"cmd": "set", "key": "a.b", "value": 1}', Request("set", key="a.b", value=1)),
        (
            b'{"cmd": "set", "values": {"a.b": 1, "c.d": "x"}}',
            Request("set", values={"a.b": 1, "c.d": "x"}),
        ),
    ],
)
def test_parse_valid(line, expected):
    assert parse_request(line) == expected


@pytest.mark.parametrize(
    ("line", "fragment"),
    [
        (b"", "empty request"),
        (b"\n", "empty request"),
        (b"{not json", "not valid JSON"),
        (b'["cmd", "press"]', "must be a JSON object"),
        (b'"press"', "must be a JSON object"),
        (b"{}", 'has no "cmd"'),
        (b'{"cmd": "explode"}', 'unknown cmd "explode"; allowed: "press", "hold"'),
        (b'{"cmd": 3}', "unknown cmd 3"),
        (b'{"cmd": "press", "force": true}', 'unexpected key "force" for cmd "press"'),
        (b'{"cmd": "status", "value": "on"}', 'unexpected key "value"'),
        (b'{"cmd": "start", "pattern": "fast"}', 'unknown pattern "fast"; allowed:'),
        (b'{"cmd": "start", "pattern": 4}', "unknown pattern 4"),
        (b'{"cmd": "reminders"}', 'bad "value" null for cmd "reminders"; allowed: "on", "off"'),
        (b'{"cmd": "reminders", "value": "maybe"}', 'bad "value" "maybe"'),
        (b'{"cmd": "reminders", "value": true}', 'bad "value" true'),
        (b'{"cmd": "set", "key": "a.b"}', 'cmd "set" needs a "value" for "a.b"'),
        (
            b'{"cmd": "set", "key": "a.b", "value": 1, "values": {"a.b": 1}}',
            'cmd "set" takes "key" and "value", or "values"; not both',
        ),
        (b'{"cmd": "set", "values": {}}', 'bad "values" {} for cmd "set"; allowed: an object'),
        (b'{"cmd": "set", "values": [1]}', 'bad "values" [1] for cmd "set"'),
        (b'{"cmd": "set", "values": {"": 1}}', 'bad "values" {"": 1}'),
        (b'{"cmd": "pr\xffess"}', "not UTF-8"),
        (b"[" * 3000 + b"]" * 3000, "nested too deeply"),
    ],
)
def test_parse_invalid(line, fragment):
    with pytest.raises(RequestError) as info:
        parse_request(line)
    message = str(info.value)
    assert fragment in message
    assert "\n" not in message


def test_parse_lists_patterns_when_unknown():
    with pytest.raises(RequestError) as info:
        parse_request(b'{"cmd": "start", "pattern": "nope"}')
    assert '"custom"' in str(info.value)
