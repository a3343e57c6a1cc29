"""`python -m breathring.mqtt [--config F] [--socket PATH]`: the bridge without the main CLI."""

from __future__ import annotations

import argparse
import logging
import os
import sys

from .cli import add_mqtt_parser, cmd_mqtt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m breathring.mqtt")
    sub = parser.add_subparsers(dest="command")
    add_mqtt_parser(sub).add_argument("-v", "--verbose", action="store_true", help="debug logs")
    args = parser.parse_args(["mqtt", *(sys.argv[1:] if argv is None else argv)])
    fmt = "%(levelname)s %(name)s: %(message)s"
    if not os.environ.get("JOURNAL_STREAM"):
        fmt = "%(asctime)s " + fmt
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format=fmt)
    return cmd_mqtt(args)


if __name__ == "__main__":
    sys.exit(main())
