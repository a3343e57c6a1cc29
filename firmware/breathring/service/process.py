"""`breathring run`: the configuration, the saved settings and the hardware, then the loop.

Every check that can fail with a clear message (the config file, another service on the
socket) runs before the hardware is opened: a second service must not blank the ring.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping

from ..clock import Clock, SystemClock
from ..config import ConfigError, config_path_from, load_config
from ..control.protocol import ControlError, socket_path_from
from ..control.server import check_not_running
from ..engine import Engine
from ..history import HISTORY_FILE
from ..history_recorder import HistoryWorker, open_history
from ..hw import HardwareUnavailable
from ..hw.selection import open_hardware
from ..settings import Settings, SettingsFile, config_file_keys
from ..state import StateStore, state_dir_from
from ..systemd import Notifier
from .loop import Service
from .signals import install_signal_handlers, loop_signals_blocked

log = logging.getLogger("breathring.service")


def run(
    config_arg: str | None,
    hardware_mode: str,
    socket_arg: str | None = None,
    env: Mapping[str, str] = os.environ,
    clock: Clock | None = None,
) -> int:
    """Start the service; raises ConfigError (78) or HardwareUnavailable (69)."""
    clock = clock or SystemClock()
    config_path = config_path_from(config_arg, env)
    file_cfg = load_config(config_path)
    Engine(file_cfg)  # validate everything the engine derives (e.g. the schedule) before hardware
    state_dir = state_dir_from(env)
    settings = Settings(file_cfg, SettingsFile(state_dir), config_file_keys(config_path))
    cfg = settings.load()
    try:
        Engine(cfg)
    except ConfigError as exc:  # settings.toml and the config file do not fit together
        log.warning("ignoring the saved settings: %s; using the config file", exc)
        settings.overrides, settings.effective = {}, file_cfg
        cfg = file_cfg
    socket_path = socket_path_from(socket_arg, env)
    try:
        # Before the hardware: a second service must not blank the running one's ring.
        check_not_running(socket_path)
    except ControlError as exc:
        raise HardwareUnavailable(str(exc)) from None
    with loop_signals_blocked():  # the button's callback threads, too
        hardware = open_hardware(cfg, hardware_mode, clock, log)
    service = Service(
        cfg,
        hardware,
        clock,
        config_path=config_path,
        state=StateStore(state_dir),
        notifier=Notifier.from_env(env),
        socket_path=socket_path,
        settings=settings,
        history=HistoryWorker(open_history(state_dir / HISTORY_FILE)),
    )
    install_signal_handlers(service)
    try:
        return service.run()
    except ControlError as exc:  # e.g. another breathring answers on the socket: 69, one line
        raise HardwareUnavailable(str(exc)) from None
