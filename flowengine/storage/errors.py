"""Errors of the storage package: who is at fault, and what to do.

`Conflict` is a stale revision or a refused change the user can retry after
reloading (the API answers 409); `NotFound` names what is missing (404);
`Refused` is a change the data forbids (a scenario still bound to a number;
409 too); `SchemaTooNew` stops start-up against a database written by a newer
flowengine.
"""

from __future__ import annotations

from flowengine.errors import FlowEngineError, UsageError


class StorageError(FlowEngineError):
    """Base of every storage error."""


class DatabaseError(StorageError):
    """The database cannot be opened or migrated (the message says why)."""


class SchemaTooNew(DatabaseError):
    """The database was migrated by a newer flowengine than this one."""


class NotFound(StorageError, UsageError):
    """The scenario, version, operator, queue... does not exist."""


class Conflict(StorageError, UsageError):
    """The change was made against a stale revision; nothing was written.

    `current` is the revision now stored (None if the thing was deleted)."""

    def __init__(self, message: str, *, current: int | None = None) -> None:
        super().__init__(message)
        self.current = current


class Refused(StorageError, UsageError):
    """The stored data forbids the change (e.g. deleting a bound scenario)."""
