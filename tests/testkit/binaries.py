"""Real programs the tests need (mosquitto, openssl, systemd-analyze): skip, or fail under CI."""

from __future__ import annotations

import os
import shutil

import pytest


def need_binary(name: str, package: str) -> str:
    """A binary's path; skip without it, except under CI (CI=true), where that is a failure."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/usr/bin")
    if found is None:
        message = f"{name} not installed (apt-get install {package})"
        if os.environ.get("CI"):
            pytest.fail(f"{message}; under CI it must be installed", pytrace=False)
        pytest.skip(message)
    return found
