"""Saved state: round trip, atomic writes, bad files, failing storage."""

from __future__ import annotations

import errno
import json
import logging
import os
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from breathring import state as state_mod
from breathring.state import (
    DEFAULT_STATE_DIR,
    STATE_FILE,
    TEMP_FILE,
    DeviceState,
    StateStore,
    state_dir_from,
)

LONDON = ZoneInfo("Europe/London")
PULSE = datetime(2026, 6, 15, 10, 0, tzinfo=LONDON)
FOLD_PULSE = datetime(2026, 10, 25, 1, 0, tzinfo=LONDON, fold=1)  # 01:00 GMT, the second one
LOGGER = "breathring.state"


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path)


def warnings(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == LOGGER and r.levelno == logging.WARNING]


def test_missing_file_gives_defaults_silently(store, caplog):
    caplog.set_level(logging.DEBUG, LOGGER)
    assert store.load() == DeviceState(reminders_enabled=None, last_pulse=None)
    assert caplog.records == []


@pytest.mark.parametrize("enabled", [True, False, None])
def test_round_trip(tmp_path, enabled):
    saved = DeviceState(reminders_enabled=enabled, last_pulse=PULSE)
    assert StateStore(tmp_path).save(saved) is True
    loaded = StateStore(tmp_path).load()
    assert loaded.reminders_enabled is enabled
    assert loaded.last_pulse == PULSE  # the same instant
    assert loaded.last_pulse.utcoffset() == PULSE.utcoffset()


def test_round_trip_of_the_second_0100_on_fall_back_day(store):
    # PEP 495: a fold=1 time never compares equal across zones, so compare in UTC.
    store.save(DeviceState(last_pulse=FOLD_PULSE))
    loaded = store.load().last_pulse
    assert loaded.astimezone(UTC) == datetime(2026, 10, 25, 1, 0, tzinfo=UTC)
    assert loaded.astimezone(UTC) != FOLD_PULSE.replace(fold=0).astimezone(UTC)


def test_round_trip_without_last_pulse(store):
    assert store.save(DeviceState(reminders_enabled=False))
    assert store.load() == DeviceState(reminders_enabled=False, last_pulse=None)


def test_file_is_versioned_json(store):
    store.save(DeviceState(reminders_enabled=True, last_pulse=PULSE))
    data = json.loads((store.directory / STATE_FILE).read_text())
    assert data == {
        "version": 1,
        "reminders_enabled": True,
        "last_pulse": "2026-06-15T10:00:00+01:00",
    }


def test_save_replaces_and_leaves_no_temp_file(store):
    store.save(DeviceState(reminders_enabled=True))
    store.save(DeviceState(reminders_enabled=False))
    assert sorted(p.name for p in store.directory.iterdir()) == [STATE_FILE]
    assert store.load().reminders_enabled is False


def test_save_creates_a_missing_directory(tmp_path):
    store = StateStore(tmp_path / "a" / "b")
    assert store.save(DeviceState(reminders_enabled=True))
    assert StateStore(tmp_path / "a" / "b").load().reminders_enabled is True


def test_save_fsyncs_file_and_directory(store, monkeypatch):
    synced: list[int] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real_fsync(fd)))
    store.save(DeviceState(reminders_enabled=True))
    assert len(synced) == 2  # the temporary file, then the directory


def test_crash_before_replace_keeps_the_old_file(store, monkeypatch):
    store.save(DeviceState(reminders_enabled=True, last_pulse=PULSE))
    before = (store.directory / STATE_FILE).read_bytes()

    def crash(src, dst):
        raise RuntimeError("power cut")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(RuntimeError):
        store.save(DeviceState(reminders_enabled=False))
    monkeypatch.undo()
    assert (store.directory / STATE_FILE).read_bytes() == before
    assert StateStore(store.directory).load() == DeviceState(True, PULSE)
    # The next save overwrites the leftover temporary file and cleans up.
    assert store.save(DeviceState(reminders_enabled=False))
    assert sorted(p.name for p in store.directory.iterdir()) == [STATE_FILE]


def test_failing_replace_keeps_the_old_file_and_removes_the_temp(store, monkeypatch, caplog):
    store.save(DeviceState(reminders_enabled=True))

    def fail(src, dst):
        raise OSError(errno.EIO, "I/O error")

    monkeypatch.setattr(os, "replace", fail)
    assert store.save(DeviceState(reminders_enabled=False)) is False
    assert sorted(p.name for p in store.directory.iterdir()) == [STATE_FILE]
    assert StateStore(store.directory).load().reminders_enabled is True
    assert store.state.reminders_enabled is False  # kept in memory
    assert len(warnings(caplog)) == 1


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"{not json", "not valid JSON"),
        (b"\x00\xff\xfe\x80garbage\x9c", "not valid JSON"),
        (b"", "empty file"),
        (b"  \n", "empty file"),
        (b"[1, 2]", "expected a JSON object"),
        (b"null", "expected a JSON object"),
        (b'{"reminders_enabled": true}', "version is None"),
        (b'{"version": 2, "reminders_enabled": true}', "version is 2"),
        (b'{"version": true, "reminders_enabled": true}', "version is True"),
        (b'{"version": "1", "reminders_enabled": true}', "version is '1'"),
    ],
)
def test_bad_file_gives_defaults_and_one_warning(store, caplog, content, reason):
    (store.directory / STATE_FILE).write_bytes(content)
    assert store.load() == DeviceState()
    [warning] = warnings(caplog)
    assert reason in warning.getMessage()
    assert str(store.directory / STATE_FILE) in warning.getMessage()


@pytest.mark.parametrize(
    ("fields", "expected", "reason"),
    [
        ({"reminders_enabled": 1}, DeviceState(None, PULSE), "reminders_enabled is 1"),
        ({"reminders_enabled": "no"}, DeviceState(None, PULSE), "allowed: true, false or null"),
        ({"last_pulse": 1700000000}, DeviceState(True, None), "last_pulse is 1700000000"),
        ({"last_pulse": "yesterday"}, DeviceState(True, None), "ISO 8601"),
        ({"last_pulse": "2026-10-25T01:00:00"}, DeviceState(True, None), "with UTC offset"),
        ({"last_pulse": ["2026"]}, DeviceState(True, None), "last_pulse is ['2026']"),
    ],
)
def test_wrong_typed_fields_fall_back_with_one_warning(store, caplog, fields, expected, reason):
    data = {"version": 1, "reminders_enabled": True, "last_pulse": PULSE.isoformat(), **fields}
    (store.directory / STATE_FILE).write_text(json.dumps(data))
    assert store.load() == expected
    [warning] = warnings(caplog)
    assert reason in warning.getMessage()


def test_unknown_keys_are_ignored_silently(store, caplog):
    data = {"version": 1, "reminders_enabled": False, "last_pulse": None, "future": 1}
    (store.directory / STATE_FILE).write_text(json.dumps(data))
    assert store.load() == DeviceState(reminders_enabled=False)
    assert warnings(caplog) == []


def test_unreadable_file_gives_defaults_and_one_warning(store, caplog):
    (store.directory / STATE_FILE).mkdir()  # reading a directory raises IsADirectoryError
    assert store.load() == DeviceState()
    assert len(warnings(caplog)) == 1


@pytest.mark.parametrize(
    "error",
    [
        PermissionError(errno.EACCES, "Permission denied"),
        OSError(errno.ENOSPC, "No space left on device"),
        OSError(errno.EROFS, "Read-only file system"),
    ],
)
def test_failing_storage_warns_once_then_recovers(store, monkeypatch, caplog, error):
    caplog.set_level(logging.DEBUG, LOGGER)
    real_open = os.open

    def failing_open(path, flags, *args, **kwargs):
        if Path(path).name == TEMP_FILE:
            raise error
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", failing_open)
    results = [store.save(DeviceState(reminders_enabled=i % 2 == 0)) for i in range(5)]
    assert results == [False] * 5
    assert len(warnings(caplog)) == 1
    assert error.strerror in warnings(caplog)[0].getMessage()
    assert store.state == DeviceState(reminders_enabled=True)  # the latest, in memory
    assert not (store.directory / STATE_FILE).exists()

    monkeypatch.setattr(os, "open", real_open)
    caplog.clear()
    assert store.save(DeviceState(reminders_enabled=False)) is True
    infos = [r for r in caplog.records if r.levelno == logging.INFO]
    assert len(infos) == 1 and "works again" in infos[0].getMessage()
    assert store.save(DeviceState(reminders_enabled=True)) is True
    assert len([r for r in caplog.records if r.levelno >= logging.INFO]) == 1


def test_full_disk_during_write_leaves_no_temp_file(store, monkeypatch, caplog):
    store.save(DeviceState(reminders_enabled=True))

    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", full)
    assert store.save(DeviceState(reminders_enabled=False)) is False
    monkeypatch.undo()
    assert sorted(p.name for p in store.directory.iterdir()) == [STATE_FILE]
    assert StateStore(store.directory).load().reminders_enabled is True
    assert len(warnings(caplog)) == 1


def test_directory_fsync_failure_is_not_an_error(store, monkeypatch, caplog):
    real_fsync = os.fsync
    calls = []

    def fsync(fd):
        calls.append(fd)
        if len(calls) == 2:  # the directory
            raise OSError(errno.EINVAL, "Invalid argument")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync)
    assert store.save(DeviceState(reminders_enabled=True)) is True
    assert warnings(caplog) == []


def test_load_returns_a_copy(store):
    store.save(DeviceState(reminders_enabled=True))
    loaded = store.load()
    loaded.reminders_enabled = False
    assert store.state.reminders_enabled is True


def test_last_pulse_written_in_utc_reads_back_equal(store):
    utc = datetime(2026, 6, 15, 9, tzinfo=UTC)
    store.save(DeviceState(last_pulse=utc))
    assert store.load().last_pulse == datetime(2026, 6, 15, 10, tzinfo=LONDON)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, DEFAULT_STATE_DIR),
        ({"STATE_DIRECTORY": ""}, DEFAULT_STATE_DIR),
        ({"STATE_DIRECTORY": "/var/lib/breathring"}, Path("/var/lib/breathring")),
        ({"STATE_DIRECTORY": "/srv/a:/srv/b"}, Path("/srv/a")),
        ({"STATE_DIRECTORY": "/tmp/x/"}, Path("/tmp/x")),
    ],
)
def test_state_dir_from(env, expected):
    assert state_dir_from(env) == expected


def test_state_dir_from_reads_the_environment_by_default(monkeypatch, tmp_path):
    monkeypatch.setenv("STATE_DIRECTORY", f"{tmp_path}:/elsewhere")
    assert state_dir_from() == tmp_path
    monkeypatch.delenv("STATE_DIRECTORY")
    assert state_dir_from() == state_mod.DEFAULT_STATE_DIR
