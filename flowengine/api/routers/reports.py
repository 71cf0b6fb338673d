"""Reports over any period, and the CDR export (supervisors and admins).

`GET /api/v1/reports/{kind}` for every kind of `flowengine.reports.catalogue`
(queues, operators, statuses, load, lost, transfers, history, paths), as JSON
or as a CSV download; `GET /api/v1/cdr/export` gives the period's CDRs as CSV
or as an Asterisk queue_log. The figures are computed in the database
(`flowengine.reports.sql`) from the stored events, on a worker thread.
"""


import asyncio
import datetime as dt
from collections.abc import Callable
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from flowengine.api.deps import ServiceDep, SupervisorUser
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem
from flowengine.api.report_schemas import REPORT_MODELS
from flowengine.api.service import Service
from flowengine.reports.catalogue import KINDS, ReportFilter
from flowengine.reports.output import report_csv
from flowengine.reports.period import Period

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

FormatQuery = Annotated[Literal["json", "csv"], Query(description="json, or csv as a download")]
_ID = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,99}$"


def _bad(param: str, message: str) -> ApiProblem:
    return ApiProblem(422, f"query.{param}: {message}", errors=[FieldProblem(path=f"query.{param}", message=message)])


def _instant(text: str, param: str, tz: dt.tzinfo) -> tuple[dt.datetime, bool]:
    """The local time `text` names (a date, or an ISO time in `tz` or with its
    own zone), and whether it was a bare date."""
    try:
        if len(text) == 10:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tz), True
        when = dt.datetime.fromisoformat(text)
    except ValueError:
        raise _bad(param, f"'{text}' is not a date (2026-11-23) or an ISO time (2026-11-23T09:00, 2026-11-23T09:00:00+03:00)") from None
    return (when.replace(tzinfo=tz) if when.tzinfo is None else when.astimezone(tz)), False


class PeriodQuery:
    """The period and filters every report takes, checked; errors name the parameter."""

    def __init__(
        self,
        service: ServiceDep,
        start: Annotated[str | None, Query(alias="from", max_length=40, description="start (included): 2026-11-23 or an ISO time; default today 00:00")] = None,
        end: Annotated[str | None, Query(alias="to", max_length=40, description="end (not included); default the day after `from`'s date")] = None,
        tz: Annotated[str | None, Query(max_length=64, description="time zone of dates, hours and weekdays; default the centre's")] = None,
        queue: Annotated[list[str] | None, Query(max_length=50, description="only calls of this queue (repeat for several)")] = None,
        department: Annotated[list[str] | None, Query(max_length=50, description="a department (queue): its calls, or its member operators")] = None,
        operator: Annotated[list[str] | None, Query(max_length=200, description="only this operator (repeat for several)")] = None,
    ) -> None:
        centre = service.centre
        zone_name = tz or centre.timezone
        try:
            zone: dt.tzinfo = ZoneInfo(zone_name)
        except (ZoneInfoNotFoundError, ValueError):
            raise _bad("tz", f"'{zone_name}' is not a time zone name (e.g. Europe/Moscow, UTC)") from None
        if start is None:
            begin = dt.datetime.now(zone).replace(hour=0, minute=0, second=0, microsecond=0)
        else:
            begin, _ = _instant(start, "from", zone)
        if end is None:
            finish = dt.datetime.combine(begin.date() + dt.timedelta(days=1), dt.time(), zone)
        else:
            finish, _ = _instant(end, "to", zone)
        if finish <= begin:
            raise _bad("to", f"'{finish.isoformat()}' is not after from '{begin.isoformat()}'")
        for param, values in (("queue", queue), ("department", department), ("operator", operator)):
            for v in values or ():
                if not _valid_id(v):
                    raise _bad(param, f"'{v[:100]}' is not an id (letters, digits, _ . -)")
        queues_known = {q.id: q for q in centre.queues}
        members: set[str] = set()
        for d in department or ():
            if d not in queues_known:
                raise _bad("department", f"no department (queue) '{d}'; the centre has: {', '.join(queues_known) or 'none'}")
            members.update(m.operator for m in queues_known[d].members)
        self.zone_name = zone_name
        self.period = Period(begin.timestamp(), finish.timestamp(), zone)
        self.begin, self.finish = begin, finish
        self.queues = list(queue or [])
        self.department = list(department or [])
        self.operators = list(operator or [])
        self.members = members
        self.thresholds = {q.id: float(q.service_level) for q in centre.queues}

    def filt(self, kind: str, **extra: Any) -> ReportFilter:
        """The filter for `kind`: a department is its queue for call reports,
        its members for operator reports."""
        by_operator = kind in ("operators", "statuses", "transfers")
        queues = set(self.queues)
        operators = set(self.operators)
        if self.department:
            if by_operator:
                operators = operators & self.members if operators else set(self.members)
            else:
                queues |= set(self.department)
        return ReportFilter(
            queues=frozenset(queues) if queues else None,
            operators=frozenset(operators) if (operators or (self.department and by_operator)) else None,
            thresholds=self.thresholds,
            **extra,
        )


def _valid_id(v: str) -> bool:
    import re

    return re.fullmatch(_ID, v) is not None


async def _compute(service: Service, kind: str, q: PeriodQuery, filt: ReportFilter) -> dict[str, Any]:
    from flowengine.reports.sql import db_report

    await service.engine.flush_events()
    return await asyncio.to_thread(db_report, service.db, kind, q.period, filt)


def _reply(kind: str, q: PeriodQuery, filt: ReportFilter, body: dict[str, Any], fmt: str) -> Any:
    if fmt == "csv":
        name = f"{kind}_{q.begin.date().isoformat()}_{q.finish.date().isoformat()}.csv"
        return Response(
            report_csv(kind, body),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
    return {
        "kind": kind,
        "period": {"from": q.begin.isoformat(), "to": q.finish.isoformat(), "tz": q.zone_name},
        "filters": {
            "queues": sorted(filt.queues) if filt.queues is not None else None,
            "operators": sorted(filt.operators) if filt.operators is not None else None,
            "caller": filt.caller,
            "scenario": filt.scenario,
        },
        "columns": [c.name for c in KINDS[kind].columns],
        **body,
    }


_CSV = {200: {"content": {"text/csv": {"schema": {"type": "string"}}}, "description": "the report (format=csv: a CSV download)"}}


def _route(kind: str) -> Callable[..., Any]:
    model = REPORT_MODELS[kind]
    spec = KINDS[kind]
    options: dict[str, Any] = {
        "operation_id": f"get{kind.capitalize()}Report",
        "tags": ["reports"],
        "response_model": model,
        "responses": _CSV,
        "summary": spec.title,
    }
    if kind == "history":

        async def history(
            q: Annotated[PeriodQuery, Depends()],
            caller: Annotated[str, Query(min_length=1, max_length=64, description="the caller's number, as recorded")],
            _user: SupervisorUser,
            service: ServiceDep,
            format: FormatQuery = "json",  # noqa: A002
        ) -> Any:
            filt = q.filt(kind, caller=caller)
            return _reply(kind, q, filt, await _compute(service, kind, q, filt), format)

        return router.get(f"/reports/{kind}", **options)(history)
    if kind == "paths":

        async def paths(
            q: Annotated[PeriodQuery, Depends()],
            _user: SupervisorUser,
            service: ServiceDep,
            scenario: Annotated[str | None, Query(max_length=100, pattern=_ID, description="only this scenario")] = None,
            format: FormatQuery = "json",  # noqa: A002
        ) -> Any:
            filt = q.filt(kind, scenario=scenario)
            return _reply(kind, q, filt, await _compute(service, kind, q, filt), format)

        return router.get(f"/reports/{kind}", **options)(paths)

    async def report(
        q: Annotated[PeriodQuery, Depends()], _user: SupervisorUser, service: ServiceDep, format: FormatQuery = "json"  # noqa: A002
    ) -> Any:
        filt = q.filt(kind)
        return _reply(kind, q, filt, await _compute(service, kind, q, filt), format)

    report.__name__ = f"{kind}_report"
    return router.get(f"/reports/{kind}", **options)(report)


for _kind in KINDS:
    _route(_kind)


@router.get(
    "/cdr/export",
    operation_id="exportCdrs",
    tags=["reports"],
    response_class=Response,
    responses={200: {"content": {"text/csv": {}, "text/plain": {}}, "description": "CSV, or queue_log lines"}},
)
async def export_cdrs(
    q: Annotated[PeriodQuery, Depends()],
    _user: SupervisorUser,
    service: ServiceDep,
    format: Annotated[Literal["csv", "queue_log"], Query(description="csv: one row per call; queue_log: Asterisk's")] = "csv",  # noqa: A002
) -> Response:
    """The calls that started in the period: their CDRs as CSV, or the ACD's
    events as Asterisk queue_log lines (epoch|call|queue|agent|EVENT|data...)."""
    from flowengine.reports.sql.export import cdr_csv, queue_log

    await service.engine.flush_events()
    day = f"{q.begin.date().isoformat()}_{q.finish.date().isoformat()}"
    if format == "csv":
        text = await asyncio.to_thread(cdr_csv, service.db, q.period)
        return Response(text, media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="cdr_{day}.csv"'})
    text = await asyncio.to_thread(queue_log, service.db, q.period)
    return Response(text, media_type="text/plain; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="queue_log_{day}"'})
