"""Errors that the engine raises for a transform defined above it: a module below every one that raises them,
so that none imports its importer (:mod:`.jit` raises :class:`JitError`, and so do the tensor and the tape walk
when a hook would be skipped by a compiled program); and :class:`InputError`, shared with ``nn``'s losses."""

from __future__ import annotations


class JitError(RuntimeError):
    """A function cannot be compiled by :func:`~nablagrad.autodiff.jit` (the message names the fix)."""


class InputError(ValueError, RuntimeError):
    """An input PyTorch refuses with a ``RuntimeError`` (a shape, a size, a repeated dim, a label out of range): a
    ``ValueError`` too here, as the library's other refusals of values."""
