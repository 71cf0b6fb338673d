"""Migrations between scenario schema versions.

Documents carry `schema`; on load, `migrate` applies each step from the
document's version up to `CURRENT_SCHEMA`. A step is a pure function on the
raw dict, registered with `@migration(from_version)`. Schema 1 is the first
version, so there are no steps yet; the machinery is here so that the first
change of format ships with its migration and old files keep loading.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flowengine.errors import Problem
from flowengine.scenario.model import CURRENT_SCHEMA

Migration = Callable[[dict[str, Any]], dict[str, Any]]
_STEPS: dict[int, Migration] = {}


def migration(from_version: int) -> Callable[[Migration], Migration]:
    def register(fn: Migration) -> Migration:
        if from_version in _STEPS:
            raise ValueError(f"migration from schema {from_version} defined twice")
        _STEPS[from_version] = fn
        return fn

    return register


def migrate(doc: dict[str, Any]) -> tuple[dict[str, Any], list[Problem]]:
    version = doc.get("schema")
    if version is None:
        return doc, [Problem("missing 'schema' (the document format version, e.g. 1)", path="schema")]
    if not isinstance(version, int) or isinstance(version, bool) or version < 1:
        return doc, [Problem(f"'schema' must be a positive integer, got {version!r}", path="schema")]
    if version > CURRENT_SCHEMA:
        return doc, [
            Problem(
                f"schema {version} is newer than this flowengine understands "
                f"(up to {CURRENT_SCHEMA}); upgrade flowengine",
                path="schema",
            )
        ]
    while version < CURRENT_SCHEMA:
        step = _STEPS.get(version)
        if step is None:
            return doc, [Problem(f"no migration from schema {version}", path="schema")]
        doc = step(dict(doc))
        version += 1
        doc["schema"] = version
    return doc, []
