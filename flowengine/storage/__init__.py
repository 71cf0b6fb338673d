"""Storage: scenarios, routing, centre data, users, media, events and CDRs
in SQLite (the default, one file) or PostgreSQL, through SQLAlchemy Core.

How to use::

    from flowengine.storage import (open_database, SqlScenarioStore, RoutingRepository,
                                    CentreRepository, SqlEventSink, EventStore,
                                    close_interrupted_calls)

    db = open_database("sqlite:///data/flowengine.db")   # or a path, or postgresql://...
    # migrations are applied here; a database newer than the code -> SchemaTooNew

    # scenarios: a ScenarioStore, so Engine(store=store) runs calls from it
    store = SqlScenarioStore(db)
    draft = store.create_draft(doc_dict, author="anna")          # revision 1
    draft = store.save_draft("ivr", doc_dict, revision=1)        # -> 2; stale -> Conflict
    result = store.publish_draft("ivr", comment="first", author="anna")  # version N+1
    store.rollback("ivr", 1, author="anna")                      # v1's content as N+1
    store.versions("ivr"); store.get("ivr", 2); store.delete("ivr")  # Refused while bound

    # routing: a RoutingTable in, a RoutingTable out (engine.routing = routing.load())
    routing = RoutingRepository(db)
    routing.bind_number("+74951230001", "ivr")                   # version=N pins it
    routing.resolve("84951230001", line="trunk-1").reason

    # centre: Centre in and out, per-entity changes validated as a whole
    centre = CentreRepository(db)
    centre.save(load_centre("centre.yaml")); centre.put_operator({...}); centre.revision()

    # events: at start-up, then attach the sink to the engine's writer
    close_interrupted_calls(db)                  # cause engine_restart, CDRs say so
    engine.add_sink(SqlEventSink(db))            # one transaction per writer batch
    EventStore(db).call_events(call_id, after_seq=10); EventStore(db).cdrs(start=...)
    EventStore(db).purge(before=time.time() - 90 * 86400)

    db.close()

Each repository method is one transaction; errors are `NotFound`, `Conflict`
(stale revision, with `.current`), `Refused` (the data forbids it),
`SchemaTooNew`, `DatabaseError`, all `StorageError`s; invalid routing or
centre data raises the domain's `RoutingError` / `CentreError` with the
place. Repositories return plain dataclasses (`Draft`, `Cdr`, `Schedule`) or
the domain types (`Scenario`, `RoutingTable`, `Centre`), never rows. The
users, api_tokens and media tables (`schema`) have no repository yet:
`db.begin()` gives a transaction for them.
"""

from flowengine.storage.cdr import ENGINE_RESTART, Cdr
from flowengine.storage.centre import CentreRepository, Schedule
from flowengine.storage.database import Database, create_engine, database_url, open_database
from flowengine.storage.errors import (
    Conflict,
    DatabaseError,
    NotFound,
    Refused,
    SchemaTooNew,
    StorageError,
)
from flowengine.storage.events import EventStore, PurgeResult, SqlEventSink, close_interrupted_calls
from flowengine.storage.routing import RoutingRepository
from flowengine.storage.scenarios import Draft, SqlScenarioStore

__all__ = [
    "ENGINE_RESTART",
    "Cdr",
    "CentreRepository",
    "Conflict",
    "Database",
    "DatabaseError",
    "Draft",
    "EventStore",
    "NotFound",
    "PurgeResult",
    "Refused",
    "RoutingRepository",
    "Schedule",
    "SchemaTooNew",
    "SqlEventSink",
    "SqlScenarioStore",
    "StorageError",
    "close_interrupted_calls",
    "create_engine",
    "database_url",
    "open_database",
]
