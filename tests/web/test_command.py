"""`breathring web`: arguments, token file errors, --url, serving and stopping on SIGTERM."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from testkit import free_port
from testkit.fake_service import FakeService
from testkit.web import START_TIMEOUT_S, TOKEN, start_web, wait_ready

from breathring.web.cli import Listen, lan_address, main, page_url, parse_listen


@pytest.fixture
def token_file(tmp_path: Path) -> Path:
    path = tmp_path / "web.token"
    path.write_text(TOKEN + "\n")
    path.chmod(0o640)  # as install.sh makes it; others may not read it
    return path


def test_parse_listen() -> None:
    assert parse_listen("0.0.0.0:8080") == Listen("0.0.0.0", 8080)
    assert parse_listen("127.0.0.1:9") == Listen("127.0.0.1", 9)
    assert parse_listen("[::]:8080") == Listen("::", 8080)
    assert parse_listen(":8081") == Listen("0.0.0.0", 8081)
    assert parse_listen("breathpi.local:80") == Listen("breathpi.local", 80)
    for bad, words in (
        ("8080", "no port"),
        ("host:http", "not a number"),
        ("host:0", "out of range 1-65535"),
        ("host:70000", "out of range"),
        ("::1:8080", "brackets"),
        ("[nope]:8080", "not an IPv6 address"),
    ):
        with pytest.raises(ValueError, match=words):
            parse_listen(bad)


@pytest.mark.parametrize("content", [None, "", "\n"])
def test_missing_or_empty_token_file_exits_78(
    tmp_path: Path, content: str | None, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "web.token"
    if content is not None:
        path.write_text(content)
        path.chmod(0o640)
    assert main(["--token-file", str(path), "--listen", "127.0.0.1:1"]) == 78
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert str(path) in err
    assert "does not exist" in err if content is None else "is empty" in err
    assert "token_hex(32)" in err


@pytest.fixture
def busy_listen() -> Iterator[str]:
    """--listen on a port already taken: were the token accepted, serving would fail with 69."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        yield f"127.0.0.1:{taken.getsockname()[1]}"


@pytest.mark.parametrize(
    ("token", "bits"),
    [
        ("x", 6),
        ("0123456789abcdef0123456789abcde", 124),  # 31 hex digits
        ("AbCdEfGhIjKlMnOpQrStU", 126),  # 21 base64url characters
    ],
)
def test_weak_token_exits_78_naming_the_file_and_the_fix(
    tmp_path: Path, token: str, bits: int, busy_listen: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "web.token"
    path.write_text(token + "\n")
    path.chmod(0o640)
    for extra in (["--listen", busy_listen], ["--url"]):
        assert main(["--token-file", str(path), *extra]) == 78
        captured = capsys.readouterr()
        assert captured.out == ""  # --url prints no link to a weak token
        err = captured.err
        assert len(err.strip().splitlines()) == 1
        assert f"token in {path} is too weak" in err
        assert f"about {bits} bits" in err
        assert "at least 128 bits" in err
        fix = f"token_hex(32))' | sudo install -m 0640 -g breathring /dev/stdin {path}"
        assert fix in err


@pytest.mark.parametrize(
    ("token", "mode"),
    [
        ("0123456789abcdef0123456789abcdef", 0o600),  # 32 hex digits: 128 bits
        ("AbCdEfGhIjKlMnOpQrStUv", 0o640),  # 22 base64url characters: 132 bits
        (TOKEN, 0o400),
    ],
)
def test_strong_private_token_is_accepted(
    tmp_path: Path, token: str, mode: int, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "web.token"
    path.write_text(token + "\n")
    path.chmod(mode)
    assert main(["--token-file", str(path), "--listen", "127.0.0.1:8123", "--url"]) == 0
    assert capsys.readouterr().out.startswith(f"http://127.0.0.1:8123/?token={token}\n")


@pytest.mark.parametrize(("mode", "what"), [(0o644, "read"), (0o604, "read"), (0o662, "write")])
def test_token_file_others_can_use_exits_78_naming_the_fix(
    token_file: Path, mode: int, what: str, busy_listen: str, capsys: pytest.CaptureFixture[str]
) -> None:
    token_file.chmod(mode)
    for extra in (["--listen", busy_listen], ["--url"]):
        assert main(["--token-file", str(token_file), *extra]) == 78
        captured = capsys.readouterr()
        assert captured.out == ""
        err = captured.err
        assert len(err.strip().splitlines()) == 1
        assert f"token file {token_file} is mode {mode:04o}" in err
        assert f"anyone on this machine can {what} it" in err
        assert f"fix it with: sudo chmod 0640 {token_file}" in err


def test_unreadable_token_file_exits_78(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--token-file", str(tmp_path), "--url"]) == 78  # a directory cannot be read
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert "is a directory" in err


def test_bad_listen_exits_2(token_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--token-file", str(token_file), "--listen", "nowhere"]) == 2
    assert "--listen 'nowhere' has no port" in capsys.readouterr().err


def test_url_prints_link_and_qr(token_file: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--token-file", str(token_file), "--listen", "127.0.0.1:8123", "--url"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"http://127.0.0.1:8123/?token={TOKEN}"
    qr = [line for line in out[1:] if "█" in line or "▀" in line or "▄" in line]
    assert len(qr) >= 15  # a QR code of a ~90-character URL is at least 29 modules high


IP_JSON = [
    {
        "ifname": "lo",
        "flags": ["LOOPBACK", "UP"],
        "addr_info": [{"family": "inet", "local": "127.0.0.1", "scope": "host"}],
    },
    {
        "ifname": "docker0",
        "flags": ["UP"],
        "addr_info": [{"family": "inet", "local": "172.17.0.1", "scope": "global"}],
    },
    {
        "ifname": "wlan0",
        "flags": ["UP", "LOWER_UP"],
        "addr_info": [
            {"family": "inet6", "local": "fe80::1", "scope": "link"},
            {"family": "inet", "local": "192.168.1.42", "scope": "global"},
        ],
    },
]


def _ip(stdout: str, returncode: int = 0):
    def run(cmd, **_kwargs):
        assert cmd[:2] == ["ip", "-j"]
        return subprocess.CompletedProcess(cmd, returncode, stdout, "")

    return run


def _no_ip(cmd, **_kwargs):
    raise FileNotFoundError("ip")


def test_lan_address_from_ip_json() -> None:
    assert lan_address(run=_ip(json.dumps(IP_JSON))) == "192.168.1.42"


def test_lan_address_falls_back_to_the_host_name() -> None:
    def resolve(name, *_args):
        assert name == "breathpi"
        return [
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.1.1", 0)),
            (socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.0.0.7", 0)),
        ]

    assert lan_address(run=_no_ip, hostname=lambda: "breathpi", resolve=resolve) == "10.0.0.7"

    def unresolvable(name, *_args):
        raise socket.gaierror("no such name")

    assert lan_address(run=_ip("", 1), hostname=lambda: "breathpi", resolve=unresolvable) == (
        "breathpi.local"
    )


def test_page_url() -> None:
    assert page_url(Listen("0.0.0.0", 8080), "t0k", lan=lambda: "192.168.1.42") == (
        "http://192.168.1.42:8080/?token=t0k"
    )
    assert (
        page_url(Listen("::", 80), "t0k", lan=lambda: "fd00::2") == "http://[fd00::2]:80/?token=t0k"
    )
    assert page_url(Listen("10.1.2.3", 9000), "t0k", lan=lambda: "unused") == (
        "http://10.1.2.3:9000/?token=t0k"
    )


def get(url: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serves_and_stops_on_sigterm(fake: FakeService, token_file: Path) -> None:
    port = free_port()
    proc = start_web(port, token_file, fake.path)
    try:
        wait_ready(proc)
        status, body = get(
            f"http://127.0.0.1:{port}/api/status", {"Authorization": f"Bearer {TOKEN}"}
        )
        assert status == 200
        assert json.loads(body)["phase"] == "idle"
        assert get(f"http://127.0.0.1:{port}/api/status")[0] == 401
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(START_TIMEOUT_S) == 0
        assert proc.stderr is not None
        log = proc.stderr.read()
        assert TOKEN not in log  # no access log: it would write ?token=... to the journal
    finally:
        proc.kill()
        proc.wait()


def test_port_in_use_exits_69(fake: FakeService, token_file: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        proc = start_web(port, token_file, fake.path)
        _out, err = proc.communicate(timeout=START_TIMEOUT_S)
    assert proc.returncode == 69
    assert f"cannot listen on 127.0.0.1:{port}" in err
