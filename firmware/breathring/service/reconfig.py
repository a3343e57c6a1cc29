"""Changing the running configuration: SIGHUP's reload, `set` and `unset`, and the audio reopen.

Keys that need the hardware re-opened (settings.RESTART_KEYS) keep their old values on a
reload and are refused by `set`; everything else applies at once.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import fields, replace
from typing import TYPE_CHECKING

from ..clock import Now
from ..config import Config, ConfigError, load_config
from ..control.protocol import ErrorCode, Reply, ok_reply
from ..gestures import GestureDecoder
from ..settings import RESTART_KEYS, SettingError, config_file_keys, wire_value

if TYPE_CHECKING:
    from .loop import Service

log = logging.getLogger("breathring.service")

#: [audio] keys applied by closing and reopening the audio (the mixer); the others
#: (volume, guide_tone) are read at every cue and apply at once. Of these, only
#: audio.enabled changes while running: the rest are restart keys (settings.RESTART_KEYS).
AUDIO_REOPEN_KEYS = ("enabled", "driver", "device", "cues_dir", "buffer_samples")
#: [button] keys of the gesture decoder: a reload or set keeps the decoder (and a
#: press or hold in progress) unless one of these changes.
DECODER_KEYS = ("hold_seconds", "double_seconds", "bounce_seconds")


def restart_keys_changed(old: Config, new: Config) -> list[str]:
    """The restart keys ("section.name") whose value differs between `old` and `new`."""
    changed = []
    for key in RESTART_KEYS:
        section, _, name = key.partition(".")
        if getattr(getattr(old, section), name) != getattr(getattr(new, section), name):
            changed.append(key)
    return changed


def keep_restart_keys(old: Config, new: Config, keys: list[str]) -> Config:
    """`new` with `keys` (restart keys) set back to their values in `old`."""
    for key in keys:
        section, _, name = key.partition(".")
        part = replace(getattr(new, section), **{name: getattr(getattr(old, section), name)})
        new = replace(new, **{section: part})
    return new


def decoder_for(cfg: Config) -> GestureDecoder:
    """The button's gesture decoder for `cfg`."""
    b = cfg.button
    return GestureDecoder(b.hold_seconds, b.double_seconds, b.bounce_seconds)


class Reconfigurer:
    """Reload, set and unset on a running service; a refused change leaves everything as it was."""

    def __init__(self, service: Service) -> None:
        self.service = service

    def reload(self) -> bool:
        """SIGHUP: re-read the config and settings.toml; a bad file leaves the old one in force."""
        svc = self.service
        try:
            new = load_config(svc.config_path)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            return False
        kept = restart_keys_changed(svc.cfg, new)
        if kept:
            log.warning("%s take effect after a restart", ", ".join(kept))
            new = keep_restart_keys(svc.cfg, new, kept)
        old_settings = (svc.settings.base, svc.settings.config_keys)
        new = svc.settings.rebase(new, config_file_keys(svc.config_path))
        try:
            svc.engine.reconfigure(new)
        except ConfigError as exc:
            log.error("reload failed, keeping the old configuration: %s", exc)
            svc.settings.rebase(*old_settings)
            return False
        self.apply(new)
        log.info("configuration reloaded from %s", svc.config_path or "defaults")
        svc.feed.publish({"kind": "settings"})
        return True

    def set(self, changes: Mapping[str, object], now: Now) -> dict[str, object]:
        """`set`: one key, or several at once (all or none); checked like the config file,
        applied, kept in settings.toml. Returns each key's value as the service now has it."""
        svc = self.service
        keys, new = svc.settings.proposed_set(changes)
        shown = ", ".join(f"{k} = {v!r}" for k, v in changes.items())
        self._reconfigure_checked(keys[0], new, shown)
        try:
            svc.settings.commit_set(keys, new)
        except OSError as exc:
            svc.engine.reconfigure(svc.cfg)  # back to what is saved
            raise self._storage_error(keys[0], exc, ", ".join(keys)) from None
        enabled = new.reminder.enabled
        if "reminder.enabled" in keys and isinstance(enabled, bool):
            # A remote switch: a running session goes on to its end.
            if enabled != svc.engine.controller.reminders_enabled:
                svc.engine.controller.set_reminders(enabled, now, keep_session=True)
            svc.records.save()
        self.apply(new)
        values = {key: wire_value(new, key) for key in keys}
        log.info("setting %s", ", ".join(f"{k} = {v!r}" for k, v in values.items()))
        svc.feed.publish({"kind": "settings"})
        return values

    def unset(self, key: str | None) -> Reply:
        """`unset KEY`: back to the config file's value (a restart key: nothing changes now)."""
        svc = self.service
        key, new, overrides = svc.settings.proposed_unset(key)
        if key in RESTART_KEYS:
            return ok_reply(key=key, value=wire_value(svc.cfg, key))
        self._reconfigure_checked(key, new, f"unset {key}")
        try:
            svc.settings.commit_unset(new, overrides)
        except OSError as exc:
            svc.engine.reconfigure(svc.cfg)
            raise self._storage_error(key, exc, "settings") from None
        self.apply(new)
        log.info("setting %s unset (now %r)", key, wire_value(new, key))
        svc.feed.publish({"kind": "settings"})
        return ok_reply(key=key, value=wire_value(new, key))

    def apply(self, new: Config) -> None:
        """Make `new` the running config (the engine has taken it already)."""
        svc = self.service
        old = svc.cfg
        svc.cfg = new
        if any(getattr(old.button, k) != getattr(new.button, k) for k in DECODER_KEYS):
            svc.decoder = decoder_for(new)  # else: keep a press or hold in progress
        self._apply_audio(old, new)

    def _reconfigure_checked(self, key: str, new: Config, what: str) -> None:
        """Hand `new` to the engine; a config it refuses (e.g. no pulse slot) is invalid."""
        svc = self.service
        changed = restart_keys_changed(svc.cfg, new)
        if changed:
            raise SettingError(
                f"{what} would change {changed[0]}, which needs a restart", key, ErrorCode.RESTART
            )
        try:
            svc.engine.reconfigure(new)
        except ConfigError as exc:
            svc.engine.reconfigure(svc.cfg)
            raise SettingError(f"{key}: {exc}", key, ErrorCode.INVALID) from None

    def _storage_error(self, key: str, exc: OSError, what: str) -> SettingError:
        store = self.service.settings.store
        path = str(store.path) if store is not None else "settings.toml"
        return SettingError(
            f"cannot save {what} to {path}: {exc.strerror or exc}; nothing changed",
            key,
            ErrorCode.STORAGE,
        )

    def _apply_audio(self, old: Config, new: Config) -> None:
        """Log what changed in [audio]; reopen the audio when the device settings changed."""
        changed = [
            f.name
            for f in fields(new.audio)
            if getattr(old.audio, f.name) != getattr(new.audio, f.name)
        ]
        if not changed:
            return
        log.info(
            "audio: %s",
            ", ".join(
                f"audio.{k} {getattr(old.audio, k)!r} -> {getattr(new.audio, k)!r}" for k in changed
            ),
        )
        if not any(k in AUDIO_REOPEN_KEYS for k in changed):
            return
        hw = self.service.hw
        try:
            hw.audio.stop()
            hw.audio.close()
        except Exception:  # the old device may be gone already
            log.exception("closing the audio failed")
        hw.audio = self.service.open_audio(new.audio)
        svc = self.service
        svc.frames.audio_idle(svc.clock.monotonic(), new.audio.idle_close_seconds)
        log.info("audio reopened: %s", "on" if hw.audio.available else "off (silent)")
