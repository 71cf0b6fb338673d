"""The running service behind the API: database, engine, simulator, ACD.

`Service.start()` opens the database (`flowengine.storage`: SQLite by
default, PostgreSQL by URL, migrations applied), closes the calls an earlier
process left unfinished (cause ``engine_restart``), takes the published
versions, the routing table and the centre from it, imports the examples
into an empty database, creates the first admin, and attaches the simulator
backend and the ACD to one engine whose events go to the database through
the engine's event writer (`SqlEventSink`). `Service.stop()` stops taking calls, ends the calls in flight,
lets the writer store every event and closes the database.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import sys
import time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flowengine.acd.driver import AcdDriver
from flowengine.acd.model import Centre, CentreError, parse_centre
from flowengine.api.auth import LoginLimiter, Users, generate_password
from flowengine.api.catalog import Catalog
from flowengine.api.console import ConsoleLog
from flowengine.api.media import MediaStore, Recordings
from flowengine.api.problems import ApiProblem, from_problems
from flowengine.api.settings import ServeSettings
from flowengine.api.sip_service import start_sip
from flowengine.documents import DocumentError, load_document
from flowengine.errors import FlowEngineError
from flowengine.events import event_from_dict
from flowengine.monitor import MonitorHub, Wallboard, queue_infos
from flowengine.monitor.alerts import AlertMonitor
from flowengine.runtime.engine import Engine
from flowengine.scenario.routing import RoutingTable, load_routing_file
from flowengine.storage import (
    CentreRepository,
    Database,
    EventStore,
    RoutingRepository,
    SqlEventSink,
    SqlScenarioStore,
    close_interrupted_calls,
    open_database,
)
from flowengine.testing.harness import scripted_backend
from flowengine.testing.phones import virtual_operators

log = logging.getLogger("flowengine.api")

def default_examples_dir() -> Path | None:
    """The examples/ directory of a source checkout, when there is one."""
    candidate = Path(__file__).resolve().parents[2] / "examples"
    return candidate if candidate.is_dir() else None


#: the events the wallboard counts, replayed from storage at start
_BOARD_EVENTS = (
    "call_started", "call_ended", "queue_entered", "queue_connected", "queue_completed", "queue_abandoned",
    "queue_timeout", "queue_no_operators", "queue_no_answer", "queue_overflow", "queue_callback_requested",
)  # fmt: skip
_REPLAY_LIMIT = 500_000


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
        self.db: Database
        self.users: Users
        self.engine: Engine
        self.catalog: Catalog
        self.events: EventStore
        self.routing: RoutingRepository
        self.centres: CentreRepository
        self.sink: SqlEventSink
        self.media: MediaStore
        self.recordings: Recordings
        self.monitor: MonitorHub
        self.alerts: AlertMonitor | None = None
        self._http: Any = None
        self.backend: Any
        self.acd: AcdDriver | None = None
        self.centre: Centre = Centre()
        self.centre_revision = 0
        #: call id -> (call, task) of the test calls in flight
        self.live: dict[str, tuple[Any, asyncio.Task[Any]]] = {}
        #: what the test console did to each test call (for "save as test case")
        self.console = ConsoleLog()
        self._listeners: list[Any] = []
        self._purge_task: asyncio.Task[None] | None = None
        self._report_task: asyncio.Task[None] | None = None
        #: the SIP backend, when `settings.sip` asks for one
        self.sip: Any = None

    # ---- start and stop --------------------------------------------------------------
    async def start(self) -> None:
        s = self.settings
        s.data_dir.mkdir(parents=True, exist_ok=True)
        self.db = open_database(s.db_url)
        self.users = Users(self.db, session_ttl=s.session_ttl)
        self.events = EventStore(self.db)
        self.routing = RoutingRepository(self.db)
        self.centres = CentreRepository(self.db)
        self.recovered_calls = [c.call_id for c in close_interrupted_calls(self.db)]
        store = SqlScenarioStore(self.db)
        empty = not store.list_drafts() and self.centres.revision() == 0
        examples = (s.examples_dir or default_examples_dir()) if empty and s.import_examples else None
        if examples is not None:
            self._import_example_centre(examples)
        # uploaded prompts are played from the data directory's media folder
        self.engine = Engine(store=store, routing=self.routing.load(), media_dirs=[s.data_dir / "media"])
        self.sink = SqlEventSink(self.db, files_root=s.data_dir)
        self.engine.add_sink(self.sink)
        self.centre = self.centres.load()
        #: the live wallboard and call traces (the WebSocket endpoints)
        self.monitor = MonitorHub(Wallboard.for_centre(self.centre))
        self._replay_today(self.monitor.board)
        self.engine.add_listener(self.monitor.publish)
        # line silence, service level and long waits: to the viewers, /metrics and the webhook
        import httpx

        self._http = httpx.AsyncClient()
        self.alerts = AlertMonitor(
            self.centre.alerts, self.monitor.board, self.monitor.alert, tz=self.centre.timezone,
            now=time.time, interval=s.alert_interval, post=self._http.post,
        )  # fmt: skip
        self.engine.add_listener(self.alerts.observe)
        for listener in self._listeners:
            self.engine.add_listener(listener)
        self.catalog = Catalog(store, self.engine)
        self.centre_revision = self.centres.revision()
        self.media = MediaStore(self.db, s.data_dir / "media")
        self.recordings = Recordings(self.db, s.data_dir)
        # the simulator leaves each Record node's recording as a WAV file here
        self.backend = scripted_backend(self.engine, directory={}, recordings_dir=s.data_dir / "recordings")
        self._attach_centre(self.centre, statuses={})
        if examples is not None:
            self._import_example_scenarios(examples)
        self._first_admin()
        self.sip = await start_sip(self)
        if s.event_retention_days is not None or s.recording_retention_days is not None:
            self._purge_task = asyncio.get_running_loop().create_task(self._purge_loop(), name="retention-purge")
        if s.report_interval is not None:
            self._report_task = asyncio.get_running_loop().create_task(self._report_loop(), name="report-tables")
        self.alerts.start()
        self.accepting = True
        self.ready = True

    async def stop(self) -> None:
        """Stop taking calls, end the ones in flight, store every event."""
        self.accepting = False
        self.ready = False
        for task in (self._purge_task, self._report_task):
            if task is not None:
                task.cancel()
                await asyncio.wait([task], timeout=10)
        if self.sip is not None:
            await self.sip.stop()
        if self.alerts is not None:
            await self.alerts.stop()
        if self.acd is not None:
            await self.acd.shutdown()
        await self.engine.shutdown()
        if self._http is not None:
            await self._http.aclose()
        self.db.close()

    def _replay_today(self, board: Wallboard) -> None:
        """Today's stored call and queue events into the wallboard, so its
        counts survive a restart (statuses come from the ACD's start)."""
        tz = ZoneInfo(self.centre.timezone)
        midnight = dt.datetime.now(tz).replace(hour=0, minute=0, second=0, microsecond=0).timestamp()
        rows = self.events.events_between(midnight, time.time() + 1, names=_BOARD_EVENTS, limit=_REPLAY_LIMIT)
        for row in rows:
            try:
                board.apply(event_from_dict(row))
            except (FlowEngineError, TypeError, ValueError):  # one bad stored event does not stop the board
                log.warning("wallboard: a stored %s event could not be read", row.get("event"))
        if len(rows) == _REPLAY_LIMIT:
            log.warning("wallboard: today's counts start from the first %d events only", _REPLAY_LIMIT)

    def operator_seq(self, stream: str) -> dict[str, int]:
        """The last stored `seq` of each operator's or queue's stream."""
        return self.events.last_seqs(stream)

    # ---- retention ---------------------------------------------------------------------
    async def purge_once(self) -> None:
        """Delete events and CDRs older than `event_retention_days`, with
        the report-table rows they gave, and recordings older than
        `recording_retention_days` (by default the same), in a worker
        thread: a large purge must not hold up calls."""
        from flowengine.reports.sql.retention import purge_report_rows

        days = self.settings.event_retention_days
        if days is not None:
            before = time.time() - days * 86400
            result = await asyncio.to_thread(self.events.purge, before)
            if result.events or result.cdrs:
                log.info("retention: purged %d events and %d CDRs older than %g days", result.events, result.cdrs, days)
            reported = await asyncio.to_thread(purge_report_rows, self.db, before)
            if reported:
                log.info("retention: purged the report rows of %d calls older than %g days", reported, days)
        kept = self.settings.recording_retention_days or days  # recordings follow the events unless set
        if kept is not None:
            gone = await asyncio.to_thread(self.recordings.purge, time.time() - kept * 86400)
            if gone:
                log.info("retention: deleted %d recordings older than %g days", gone, kept)

    async def _purge_loop(self) -> None:
        while True:
            try:
                await self.purge_once()
            except Exception:  # the next round tries again; the service goes on
                log.exception("retention purge failed")
            await asyncio.sleep(self.settings.purge_interval)

    async def _report_loop(self) -> None:
        """Fold ended calls into the report tables in the background (the
        first round catches up a whole database after an upgrade or import),
        so a report asked for through the API only folds the last minute."""
        from flowengine.reports.sql.refresh import refresh

        while True:
            try:
                added = await asyncio.to_thread(refresh, self.db)
                if added:
                    log.debug("report tables: %d calls folded", added)
            except Exception:  # the next round tries again; the service goes on
                log.exception("folding calls into the report tables failed")
            assert self.settings.report_interval is not None
            await asyncio.sleep(self.settings.report_interval)

    def add_listener(self, listener: Any) -> None:
        """An engine event listener (metrics), attached when the engine is made."""
        self._listeners.append(listener)

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
            self.centres.save(parse_centre(data, str(centre_file)))
        except FlowEngineError as exc:
            log.error("example centre not imported: %s", exc)

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
    def save_routing(self, by: str = "") -> None:
        """Store the engine's routing table (publishing may have bound numbers)."""
        self.routing.save(self.engine.routing)

    def routing_copy(self) -> RoutingTable:
        return self.engine.routing.model_copy(deep=True)

    # ---- centre --------------------------------------------------------------------------------
    def _attach_centre(self, centre: Centre, statuses: dict[str, tuple[str, str | None]]) -> None:
        driver = AcdDriver(
            centre,
            operator_seq=self.operator_seq("operator"),
            queue_seq=self.operator_seq("queue"),
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
        # the board follows the centre's queues and thresholds, the alerts its settings
        self.monitor.board.configure(queue_infos(centre))
        if self.alerts is not None:
            self.alerts.configure(centre.alerts, tz=centre.timezone)
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

    async def set_centre(self, centre: Centre, *, revision: int | None = None) -> int:
        """Store `centre` and put it in the running ACD. While calls are
        queued or talking to operators the change is refused (409): the ACD
        carries operators' statuses over, not calls. `revision`, when given,
        must be the stored one (409 otherwise)."""
        busy = len(self.acd._sessions) if self.acd is not None else 0  # noqa: SLF001
        if busy:
            raise ApiProblem(409, f"{busy} call(s) are in the ACD now; change the centre when they have ended")
        current = self.centres.revision()
        if revision is not None and revision != current:
            raise ApiProblem(409, f"the centre is at revision {current}, not {revision}: reload it")
        self.centres.save(centre)
        statuses: dict[str, tuple[str, str | None]] = {}
        if self.acd is not None:
            for operator_id in self.acd.core.operator_ids():
                status, reason, _state = self.acd.core.operator_status(operator_id)
                statuses[operator_id] = (status, reason)
            old = self.acd
            self.acd = None
            await old.shutdown()
        self._attach_centre(centre, statuses)
        self.centre_revision = self.centres.revision()
        return self.centre_revision

    def parse_centre(self, data: Any) -> Centre:
        try:
            return parse_centre(data, None)
        except CentreError as exc:
            raise from_problems(exc.problems, "body") from None
        except DocumentError as exc:
            raise from_problems(exc.problems, "body") from None
