"""Errors the load stage raises on purpose (children of the project's one error root)."""

from __future__ import annotations

from statenotes.extractors.errors import StatenotesError


class WarehouseError(StatenotesError):
    """Root of the warehouse's own errors."""


class LakeLockedError(WarehouseError):
    """Another process held the lake's lock for longer than we were willing to wait."""


class LakeUnusableError(WarehouseError):
    """The lake's folder cannot be opened for writing (read-only, not a directory, no permission)."""


class LakeCorruptError(WarehouseError):
    """The lake is in a state the commit protocol cannot produce (e.g. a journal names a file that
    exists neither staged nor in place); needs a human."""
