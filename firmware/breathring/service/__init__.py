"""The running device, split by job: the loop, its requests, reconfiguration, output, status."""

from .frames import ERROR_LOG_INTERVAL_S, RING_RETRY_S
from .loop import Service
from .process import run

__all__ = ["ERROR_LOG_INTERVAL_S", "RING_RETRY_S", "Service", "run"]
