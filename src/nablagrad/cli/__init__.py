"""The ``nablagrad`` command (also ``python -m nablagrad``)."""

from .main import main

__all__ = ["main"]
