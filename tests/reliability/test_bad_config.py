"""The bad-configuration corpus: every file makes `config check` and `run` exit 78, one line.

Each file in tests/data/bad-config/ starts with `# expect: <fragment>`: a piece of
the one-line message that names the key (or the line) at fault. Files that
cannot be committed are generated here: a 10 MB file, deeply nested arrays and
inline tables, and unreadable paths. (`chmod 000` does not stop root, so
"unreadable" is a directory, a FIFO, a device, a dangling symlink and a symlink loop.)

`config check` runs as a real process for every case (in parallel); `run` runs
in-process for every case (with the loop replaced by a failure, so a config that
wrongly passes cannot hang the test) and as a real process for the generated ones.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from testkit.rig import ROOT

from breathring import cli
from breathring.config import MAX_CONFIG_BYTES

CORPUS = ROOT / "tests" / "data" / "bad-config"
EXPECT_PREFIX = "# expect: "
EXIT_CONFIG = 78
#: A process gets this long; a FIFO that blocked the reader would hit it.
PROCESS_TIMEOUT_S = 20.0
TEN_MB = 10 * 1024 * 1024
#: Far deeper than Python's recursion limit (tomllib recurses per level).
DEEP = 100_000


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    expect: str


def corpus_cases() -> list[Case]:
    cases = []
    for path in sorted(CORPUS.glob("*.toml")):
        first = path.read_bytes().split(b"\n", 1)[0].decode("utf-8")
        assert first.startswith(EXPECT_PREFIX), f"{path.name}: no '{EXPECT_PREFIX}' first line"
        cases.append(Case(path.stem, path, first.removeprefix(EXPECT_PREFIX)))
    return cases


def generated_cases(base: Path) -> list[Case]:
    base.mkdir(parents=True, exist_ok=True)
    big = base / "ten-megabytes.toml"
    with big.open("wb") as f:
        f.write(b"[ring]\n" + b"# padding\n" * (TEN_MB // 10))
    deep_arrays = base / "deep-arrays.toml"
    deep_arrays.write_text("[ring]\nx = " + "[" * DEEP + "]" * DEEP + "\n")
    deep_tables = base / "deep-inline-tables.toml"
    deep_tables.write_text("[ring]\nx = " + "{a = " * DEEP + "1" + "}" * DEEP + "\n")
    directory = base / "a-directory.toml"
    directory.mkdir(exist_ok=True)
    fifo = base / "a-fifo.toml"
    if not fifo.exists():
        os.mkfifo(fifo)
    dangling = base / "dangling.toml"
    if not dangling.is_symlink():
        dangling.symlink_to(base / "nowhere.toml")
    loop = base / "loop.toml"
    if not loop.is_symlink():
        loop.symlink_to(loop)
    return [
        Case("ten-megabytes", big, f"at most {MAX_CONFIG_BYTES} bytes"),
        Case("deep-arrays", deep_arrays, "nested too deeply"),
        Case("deep-inline-tables", deep_tables, "nested too deeply"),
        Case("directory", directory, "Is a directory"),
        Case("fifo", fifo, "not a regular file"),
        Case("device", Path("/dev/zero"), "not a regular file"),
        Case("dangling-symlink", dangling, "No such file or directory"),
        Case("symlink-loop", loop, "Too many levels of symbolic links"),
    ]


CORPUS_CASES = corpus_cases()


def _env(tmp: Path) -> dict[str, str]:
    (tmp / "run").mkdir(exist_ok=True)
    return dict(
        os.environ,
        PYTHONPATH=str(ROOT / "firmware"),
        RUNTIME_DIRECTORY=str(tmp / "run"),
        STATE_DIRECTORY=str(tmp / "state"),
    )


def _process(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    try:
        result = subprocess.run(
            [sys.executable, "-m", "breathring.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=PROCESS_TIMEOUT_S,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        return -1, f"timed out after {PROCESS_TIMEOUT_S} s"
    return result.returncode, result.stderr + result.stdout


def _assert_one_clear_line(case: Case, code: int, output: str) -> None:
    lines = [line for line in output.splitlines() if line.strip()]
    assert code == EXIT_CONFIG, f"{case.name}: exit {code}: {output[-2000:]}"
    assert "Traceback" not in output, f"{case.name}: {output[-2000:]}"
    assert len(lines) == 1, f"{case.name}: {lines}"
    assert case.expect in lines[0], f"{case.name}: {case.expect!r} not in {lines[0]!r}"


@pytest.fixture(scope="module")
def checked(tmp_path_factory) -> dict[str, tuple[int, str]]:
    """`breathring config check --config F` for every case, as real processes in parallel."""
    tmp = tmp_path_factory.mktemp("bad-config")
    cases = CORPUS_CASES + generated_cases(tmp / "generated")
    env = _env(tmp)
    with ThreadPoolExecutor(max_workers=(os.cpu_count() or 2) * 2) as pool:
        futures = {
            c.name: pool.submit(_process, ["config", "check", "--config", str(c.path)], env)
            for c in cases
        }
        return {name: f.result() for name, f in futures.items()}


def test_the_corpus_is_big_enough():
    assert len(CORPUS_CASES) >= 30
    assert len({c.expect for c in CORPUS_CASES}) >= 25  # not thirty copies of one mistake


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: c.name)
def test_config_check_refuses(case, checked):
    _assert_one_clear_line(case, *checked[case.name])


@pytest.mark.parametrize("case", CORPUS_CASES, ids=lambda c: c.name)
def test_run_refuses(case, capsys, monkeypatch, tmp_path):
    from breathring import service

    def must_not_start(self):  # pragma: no cover - only reached by a config that wrongly passes
        raise AssertionError(f"{case.name}: the service started with a bad config")

    monkeypatch.setattr(service.Service, "run", must_not_start)
    for key, value in _env(tmp_path).items():
        monkeypatch.setenv(key, value)
    code = cli.main(["run", "--hardware", "mock", "--config", str(case.path)])
    captured = capsys.readouterr()
    _assert_one_clear_line(case, code, captured.err + captured.out)


GENERATED_NAMES = [
    "ten-megabytes",
    "deep-arrays",
    "deep-inline-tables",
    "directory",
    "fifo",
    "device",
    "dangling-symlink",
    "symlink-loop",
]


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> dict[str, Case]:
    return {c.name: c for c in generated_cases(tmp_path_factory.mktemp("generated"))}


@pytest.mark.parametrize("name", GENERATED_NAMES)
def test_generated_cases_refused_by_check_and_by_the_service(name, checked, generated, tmp_path):
    case = generated[name]
    _assert_one_clear_line(case, *checked[name])
    args = ["run", "--hardware", "mock", "--config", str(case.path)]
    code, output = _process(args, _env(tmp_path))
    _assert_one_clear_line(case, code, output)


@pytest.mark.parametrize(
    "text", ["", "\n\n", "# only a comment\n", "\ufeff"], ids=["empty", "blank", "comment", "bom"]
)
def test_an_empty_file_is_the_default_config(text, tmp_path):
    """Not part of the corpus: an empty file is valid (every key has a default)."""
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    code, output = _process(["config", "check", "--config", str(path)], _env(tmp_path))
    assert code == 0, output
    assert "OK (24 pixels" in output
