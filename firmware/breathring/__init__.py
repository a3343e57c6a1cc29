"""breathring: a guided-breathing light for the Raspberry Pi."""

__version__ = "0.1.0"
