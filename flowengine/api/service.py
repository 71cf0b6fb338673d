"""The running service behind the API: database, engine, simulator, ACD.

`Service.start()` opens the database, closes the calls an earlier process
left unfinished (cause ``engine_restart``), reloads the published versions,
the routing table and the centre, imports the examples into an empty
database, creates the first admin, and attaches the simulator backend and the
ACD to one engine whose events go to the database through the engine's
event writer. `Service.stop()` stops taking calls, ends the calls in flight,
lets the writer store every event and closes the database.
"""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from pathlib import Path
from typing import Any

from flowengine.acd.driver import AcdDriver
from flowengine.acd.model import Centre, CentreError, parse_centre
from flowengine.api.auth import LoginLimiter, Users, generate_password
from flowengine.api.catalog import Catalog
from flowengine.api.cdr import ENGINE_RESTART
from flowengine.api.localdb import LocalDB, LocalEventSink
from flowengine.api.problems import ApiProblem, from_problems
from flowengine.api.settings import ServeSettings
from flowengine.documents import DocumentError, load_document
from flowengine.errors import FlowEngineError
from flowengine.events import CallEnded, CallHungUp, StreamEvent
from flowengine.runtime.engine import Engine
from flowengine.scenario.routing import RoutingTable, load_routing_file, parse_routing
from flowengine.testing.harness import scripted_backend
from flowengine.testing.phones import virtual_operators

log = logging.getLogger("flowengine.api")

CENTRE = ("centre", "main")
ROUTING = ("routing", "main")


def default_examples_dir() -> Path | None:
    """The examples/ directory of a source checkout, when there is one."""
    candidate = Path(__file__).resolve().parents[2] / "examples"
    return candidate if candidate.is_dir() else None


def database_path(settings: ServeSettings) -> Path:
    """The SQLite file of `database_url` (default: flowengine.db in the data directory)."""
    url = settings.database_url
    if url is None:
        return settings.data_dir / "flowengine.db"
    for prefix in ("sqlite:///", "sqlite+pysqlite:///"):
        if url.startswith(prefix) and len(url) > len(prefix):
            return Path(url[len(prefix):])
    raise FlowEngineError(f"database_url: only sqlite:///FILE is supported by this version, got '{url.split(':')[0]}:...'")


class Service:
    def __init__(self, settings: ServeSettings) -> None:
        self.settings = settings
        self.accepting = False
        self.ready = False
        self.started_at = time.time()
        self.limiter = LoginLimiter(settings.login_attempts, settings.login_window)
        self.first_password: str | None = None
        self.recovered_calls: list[str] = []
        # set by start()
        self.db: LocalDB
        self.users: Users
        self.engine: Engine
        self.catalog: Catalog
        self.sink: LocalEventSink
        self.backend: Any
        self.acd: AcdDriver | None = None
        self.centre: Centre = Centre()
        self.centre_revision = 0
        #: call id -> (call, task) of the test calls in flight
        self.live: dict[str, tuple[Any, asyncio.Task[Any]]] = {}
        self._listeners: list[Any] = []

    # ---- start and stop --------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = LocalDB(database_path(s))
        self.users = Users(self.db, session_ttl=s.session_ttl)
        self.recovered_calls = self._close_interrupted_calls()
        self.engine = Engine()
        self.sink = LocalEventSink(self.db)
        self.engine.add_sink(self.sink)
        for listener in self._listeners:
            self.engine.add_listener(listener)
        self.catalog = Catalog(self.db, self.engine)
        empty = self.db.is_empty()
        examples = (s.examples_dir or default_examples_dir()) if empty and s.import_examples else None
        if examples is not None:
            self._import_example_centre(examples)
        self.catalog.load()
        stored = self.db.get_doc(*ROUTING)
        if stored is not None:
            self.engine.routing = parse_routing(stored.body, "stored routing table")
        centre = self.db.get_doc(*CENTRE)
        if centre is not None:
            self.centre = parse_centre(centre.body, "stored centre")
            self.centre_revision = centre.revision
        self.backend = scripted_backend(self.engine, directory={})
        self._attach_centre(self.centre, statuses={})
        if examples is not None:
            self._import_example_scenarios(examples)
        self._first_admin()
        self.accepting = True
        self.ready = True

    async def stop(self) -> None:
        """Stop taking calls, end the ones in flight, store every event."""
        self.accepting = False
        self.ready = False
        if self.acd is not None:
            await self.acd.shutdown()
        await self.engine.shutdown()
        self.db.close()

    def add_listener(self, listener: Any) -> None:
        """An engine event listener (metrics), attached when the engine is made."""
        self._listeners.append(listener)

    # ---- recovery ------------------------------------------------------------------------
    def _close_interrupted_calls(self) -> list[str]:
        """Calls whose stream has a start but no end were cut off by a crash:
        end them now with cause `engine_restart` (hung up by the engine)."""
        closed = []
        for call_id in self.db.unfinished_calls():
            events = self.db.stream("call", call_id, 0, 1_000_000)
            if not events:
                continue
            last = events[-1]
            started = events[0]
            now = time.time()
            seq = int(last.get("seq", len(events)))
            t = float(last.get("t", 0.0) or 0.0)
            node_id = next((e.get("node_id") for e in reversed(events) if e.get("event") == "node_entered"), None)
            scenario_id = str(started.get("scenario_id", ""))
            version = int(started.get("scenario_version", 0) or 0)
            batch: list[StreamEvent] = []
            if not any(e.get("event") == "call_hung_up" for e in events):
                batch.append(
                    CallHungUp(
                        seq=seq + 1, ts=now, call_id=call_id, t=t, scenario_id=scenario_id,
                        scenario_version=version, cause=ENGINE_RESTART, by="engine", node_id=node_id,
                    )
                )
            batch.append(
                CallEnded(
                    seq=seq + len(batch) + 1, ts=now, call_id=call_id, t=t, duration=t,
                    steps=sum(1 for e in events if e.get("event") == "node_entered"),
                    hangup_cause=ENGINE_RESTART,
                )
            )
            self.db.write_events(batch)
            closed.append(call_id)
        if closed:
            log.warning("closed %d call(s) interrupted by the last stop, cause %s", len(closed), ENGINE_RESTART)
        return closed

    # ---- first start ------------------------------------------------------------------------
    def _first_admin(self) -> None:
        if self.users.count():
            return
        given = self.settings.admin_password
        password = given.get_secret_value() if given is not None else generate_password()
        self.users.create("admin", password, "admin")
        if given is None:
            self.first_password = password
            print(
                f"flowengine: created user 'admin' with the one-time password: {password}\n"
                "flowengine: it is not shown again; log in and change it (PUT /api/v1/users/admin/password)",
                file=sys.stderr,
                flush=True,
            )

    def _import_example_centre(self, folder: Path) -> None:
        centre_file = folder / "centre.yaml"
        if not centre_file.is_file():
            return
        try:
            data = load_document(centre_file, yaml_unless_json=True)
            parse_centre(data, str(centre_file))
        except FlowEngineError as exc:
            log.error("example centre not imported: %s", exc)
            return
        self.db.put_doc(*CENTRE, data, expect=-1, by="examples")

    def _import_example_scenarios(self, folder: Path) -> None:
        """The example scenarios, published, and their routing table."""
        try:
            routing_file = folder / "routing.yaml"
            if routing_file.is_file():
                self.engine.routing = load_routing_file(routing_file)
            documents = [load_document(path) for path in sorted(folder.glob("*.json"))]
            self.catalog.import_bundle(documents, publish=True, comment="example", author="examples")
            self.save_routing("examples")
            log.info("imported %d example scenario(s) from %s", len(documents), folder)
        except (FlowEngineError, ApiProblem) as exc:
            log.error("examples not imported: %s", exc)

    # ---- routing ----------------------------------------------------------------------------
    def save_routing(self, by: str) -> None:
        self.db.put_doc(*ROUTING, self.engine.routing.model_dump(mode="json", exclude_none=True), expect=-1, by=by)

    def routing_copy(self) -> RoutingTable:
        return self.engine.routing.model_copy(deep=True)

    # ---- centre --------------------------------------------------------------------------------
    def _attach_centre(self, centre: Centre, statuses: dict[str, tuple[str, str | None]]) -> None:
        driver = AcdDriver(
            centre,
            operator_seq=self.db.last_seq("operator"),
            queue_seq=self.db.last_seq("queue"),
        )
        for operator_id, (status, reason) in statuses.items():
            if operator_id in driver.core.operator_ids():
                try:
                    driver.core.set_status(driver.loop.time(), operator_id, status, reason)
                except FlowEngineError:
                    pass  # a custom status the new centre no longer has
        driver.attach(self.engine)
        self.acd = driver
        self.centre = centre
        self.backend.directory.clear()
        self.backend.directory.update(
            virtual_operators(
                centre,
                answer_after=self.settings.operator_answer_after,
                talk_time=self.settings.operator_talk_time,
            )
        )
        known = {"queue": {q.id for q in centre.queues}, "operator": {o.id for o in centre.operators}}
        self.catalog.known_extra = known
        self.catalog.dial_policy = centre.dial_rules

    async def set_centre(self, centre: Centre, data: Any, *, by: str, revision: int | None = -1) -> int:
        """Replace the centre in the running ACD. While calls are queued or
        talking to operators the change is refused (409): the ACD carries its
        state over only between calls."""
        busy = len(self.acd._sessions) if self.acd is not None else 0  # noqa: SLF001
        if busy:
            raise ApiProblem(409, f"{busy} call(s) are in the ACD now; change the centre when they have ended")
        new = self.db.put_doc(*CENTRE, data, expect=revision, by=by)
        if new is None:
            current = self.db.get_doc(*CENTRE)
            raise ApiProblem(
                409, f"the centre is at revision {current.revision if current else 0}, not {revision}: reload it"
            )
        statuses: dict[str, tuple[str, str | None]] = {}
        if self.acd is not None:
            for operator_id in self.acd.core.operator_ids():
                status, reason, _state = self.acd.core.operator_status(operator_id)
                statuses[operator_id] = (status, reason)
            old = self.acd
            self.acd = None
            await old.shutdown()
        self._attach_centre(centre, statuses)
        self.centre_revision = new
        return new

    def parse_centre(self, data: Any) -> Centre:
        try:
            return parse_centre(data, None)
        except CentreError as exc:
            raise from_problems(exc.problems, "body") from None
        except DocumentError as exc:
            raise from_problems(exc.problems, "body") from None
