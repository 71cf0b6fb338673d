"""Storage: scenarios, routing, centre data, users, media, events and CDRs
in SQLite (the default, one file) or PostgreSQL, through SQLAlchemy Core.

How to use::

    from flowengine.storage import open_database, SqlScenarioStore

    db = open_database("sqlite:///data/flowengine.db")   # or a path, or postgresql://...
    # migrations are applied here; a database newer than the code -> SchemaTooNew

    store = SqlScenarioStore(db)          # a ScenarioStore: Engine(store=store) runs from it
    draft = store.create_draft(doc_dict, author="anna")          # revision 1
    draft = store.save_draft("ivr", doc_dict, revision=1)        # -> 2; stale -> Conflict
    result = store.publish_draft("ivr", comment="first", author="anna")  # version N+1
    store.rollback("ivr", 1, author="anna")                      # v1's content as N+1
    store.versions("ivr"); store.get("ivr", 2); store.delete("ivr")  # Refused while bound

    db.close()

Each repository method is one transaction; errors are `NotFound`, `Conflict`
(stale revision, with `.current`), `Refused` (the data forbids it),
`SchemaTooNew`, `DatabaseError`, all `StorageError`s. Repositories return
plain dataclasses or the domain types (`Scenario`, `RoutingTable`,
`Centre`...), never rows. `Database.begin()` gives a transaction on the
engine for anything else (users, api_tokens, media tables: `schema`).
"""

from flowengine.storage.database import Database, create_engine, database_url, open_database
from flowengine.storage.errors import (
    Conflict,
    DatabaseError,
    NotFound,
    Refused,
    SchemaTooNew,
    StorageError,
)
from flowengine.storage.scenarios import Draft, SqlScenarioStore

__all__ = [
    "Conflict",
    "Database",
    "DatabaseError",
    "Draft",
    "NotFound",
    "Refused",
    "SchemaTooNew",
    "SqlScenarioStore",
    "StorageError",
    "create_engine",
    "database_url",
    "open_database",
]
