"""The `mqtt` subcommand: `add_mqtt_parser(subparsers)` and `cmd_mqtt(args) -> int`."""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from types import FrameType

from ..cli_common import missing_extra
from ..config import ConfigError, config_path_from
from ..exitcodes import EXIT_CONFIG, EXIT_UNAVAILABLE, EXIT_USAGE

log = logging.getLogger("breathring.mqtt")

HELP = "bridge the device to an MQTT broker for Home Assistant"
DESCRIPTION = (
    "Connect to the running service's control socket and to the MQTT broker of the [mqtt] "
    "config section; announce the device to Home Assistant (MQTT discovery), publish its "
    "state as it changes, and pass commands from Home Assistant to the service. Runs until "
    "SIGTERM or Ctrl-C; reconnects to either side when it goes away. Needs the 'mqtt' extra "
    "(paho-mqtt). See docs/home-assistant.md."
)


def add_mqtt_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Add `mqtt` to the CLI's subcommands; returns its parser."""
    p = subparsers.add_parser("mqtt", help=HELP, description=DESCRIPTION)
    p.add_argument(
        "--config", metavar="FILE", help="configuration file (TOML; the bridge uses [mqtt])"
    )
    p.add_argument(
        "--socket",
        metavar="PATH",
        help="control socket of the service (default: $RUNTIME_DIRECTORY/control.sock, "
        "else /run/breathring/control.sock)",
    )
    return p


def cmd_mqtt(args: argparse.Namespace) -> int:
    """Run the bridge until SIGTERM/SIGINT; 78: bad config or password file; 69: no paho."""
    # paho.mqtt.enums: paho-mqtt 2 (the extra's version), which the bridge needs.
    missing = missing_extra("mqtt", "paho.mqtt.enums") or missing_extra("mqtt", "paho.mqtt.client")
    if missing is not None:
        print(missing, file=sys.stderr)
        return EXIT_UNAVAILABLE
    from ..control.protocol import socket_path_from
    from .settings import load_mqtt_settings

    try:
        settings = load_mqtt_settings(config_path_from(args.config, os.environ))
    except ConfigError as exc:
        print(f"breathring: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    try:
        socket_path = socket_path_from(args.socket, os.environ)
    except ValueError as exc:
        print(f"breathring: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from .. import __version__
    from ..patterns import PRESETS
    from .bridge import Bridge

    bridge = Bridge(settings, socket_path, sw_version=__version__, pattern_names=tuple(PRESETS))

    def stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping", signal.Signals(signum).name)
        bridge.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    return bridge.run()
