"""The operator's desk: what the operator panel of the web editor shows.

    GET /api/v1/statuses                       the statuses an operator may choose
    GET /api/v1/operators/{id}/call            the call offered to or talking with the operator now,
                                               with its screen pop (the scenario's variables, Notify
                                               screen messages, the caller's earlier calls)
    GET /api/v1/operators/{id}/calls           the operator's calls of a day (their CDRs)

    POST /api/v1/operators/{id}/call/hold      {"held": true|false}: put the caller on hold, or take them off
    POST /api/v1/operators/{id}/call/transfer  {"target": "905"}: hand the caller on

Everything read comes from the event streams (the wallboard's row says which
call the operator is on; the call's stream its variables), so it is the same
on the simulator and on real SIP. The two actions work on the operator's leg
of the conversation they are in, on any backend, as their phone's hold and
transfer buttons would (`Leg.hold_received`, `Leg.transfer_received`; see
`flowengine.acd.handover`). An operator reads and acts only on their own
desk; supervisors and admins on anyone's.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any, Literal, cast
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, Field

from flowengine.acd.handover import Kind, OperatorLeg, operator_leg
from flowengine.acd.model import BUILTIN_STATUSES
from flowengine.api.auth import Principal, at_least
from flowengine.api.deps import AnyUser, ServiceDep
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem, not_found
from flowengine.api.schemas import NAME, CdrPublic
from flowengine.api.service import Service
from flowengine.events.queue import is_private_queue

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

Id = Annotated[str, Path(pattern=NAME)]
#: earlier calls of the caller shown in a screen pop, at most
HISTORY = 20
#: the built-in statuses' display names
_BUILTIN_NAMES = {
    "available": ("Available", "Доступен"),
    "not_available": ("Not available", "Недоступен"),
    "break": ("Break", "Перерыв"),
    "available_on_demand": ("Available for one call", "Доступен на один звонок"),
}


class StatusOption(BaseModel):
    id: str
    name_en: str
    name_ru: str
    available: bool = Field(description="an operator in it may be offered calls")
    builtin: bool


class ScreenPop(BaseModel):
    message: str
    target: str | None
    node_id: str | None


class DeskCall(BaseModel):
    call_id: str
    caller: str
    called: str
    line: str | None
    scenario_id: str
    queue_id: str | None
    wait: float | None = Field(description="seconds the caller waited in the queue (once connected)")
    started_at: float | None
    variables: dict[str, Any] = Field(description="the scenario's variables as the call set them")
    screen: list[ScreenPop] = Field(description="Notify screen-pop messages of the call")
    history: list[CdrPublic] = Field(description="the caller's earlier calls, newest first")


class DeskState(BaseModel):
    operator_id: str
    state: str = Field(description="idle, ringing, talking or wrap_up")
    state_since: float | None
    call: DeskCall | None = Field(description="the call the operator is ringing for, talking to or wrapping up")
    held: bool = Field(default=False, description="the operator holds the caller of their conversation now")


def _own(user: Principal, operator_id: str, service: Service, may: str = "read only their own desk") -> None:
    if not at_least(user.role, "supervisor") and user.operator_id != operator_id:
        raise ApiProblem(403, f"an operator may {may} (you are operator {user.operator_id!r})")
    try:
        service.centre.operator(operator_id)
    except KeyError:
        raise not_found(f"operator '{operator_id}'") from None


@router.get("/statuses", operation_id="listStatuses", tags=["operators"], response_model=list[StatusOption])
async def list_statuses(_user: AnyUser, service: ServiceDep) -> list[StatusOption]:
    """The built-in statuses (available, not available, break with a reason) and the centre's own."""
    out = [
        StatusOption(id=sid, name_en=_BUILTIN_NAMES[sid][0], name_ru=_BUILTIN_NAMES[sid][1], available=ok, builtin=True)
        for sid, ok in BUILTIN_STATUSES.items()
        if sid in _BUILTIN_NAMES
    ]
    for s in service.centre.statuses:
        out.append(StatusOption(id=s.id, name_en=s.name.get("en") or s.id, name_ru=s.name.get("ru") or s.id,
                                available=s.available, builtin=False))
    return out


def _desk_call(service: Service, call_id: str) -> DeskCall | None:
    events = service.events.call_events(call_id, limit=10_000)
    if not events:
        return None
    first = events[0]
    variables: dict[str, Any] = {}
    screen: list[ScreenPop] = []
    queue_id: str | None = None
    wait: float | None = None
    for e in events:
        name = e.get("event")
        if name == "variable_changed":
            variables[str(e.get("variable"))] = e.get("value")
        elif name == "notified" and e.get("channel") == "screen":
            screen.append(ScreenPop(message=str(e.get("message") or ""), target=e.get("target"), node_id=e.get("node_id")))
        elif name in ("queue_entered", "queue_offered", "queue_connected"):
            # an operator's private queue (a hand-over to them) is no queue to show
            queue_id = _queue_shown(e.get("queue_id")) or queue_id
            if name == "queue_connected":
                wait = e.get("wait")
    caller = str(first.get("caller") or "")
    history = [
        CdrPublic(**c.to_row())
        for c in service.events.cdrs(caller=caller, limit=HISTORY + 1)
        if c.call_id != call_id
    ][:HISTORY] if caller else []
    return DeskCall(
        call_id=call_id, caller=caller, called=str(first.get("called") or ""), line=first.get("line"),
        scenario_id=str(first.get("scenario_id") or ""), queue_id=queue_id, wait=wait,
        started_at=first.get("ts"), variables=variables, screen=screen, history=history,
    )


def _queue_shown(queue_id: Any) -> str | None:
    return None if not isinstance(queue_id, str) or is_private_queue(queue_id) else queue_id


@router.get("/operators/{operator_id}/call", operation_id="getOperatorCall", tags=["operators"], response_model=DeskState)
async def current_call(operator_id: Id, user: AnyUser, service: ServiceDep) -> DeskState:
    """The operator's state now and the call it is about, with the caller's data."""
    _own(user, operator_id, service)
    await service.engine.flush_events()
    try:
        row = service.monitor.board.operator_view(operator_id)
    except KeyError:  # no event about this operator yet
        return DeskState(operator_id=operator_id, state="idle", state_since=None, call=None)
    call_id = row.get("call_id")
    call = _desk_call(service, call_id) if call_id else None
    talking = operator_leg(service.engine, operator_id)
    held = talking is not None and talking.leg.held
    return DeskState(operator_id=operator_id, state=row["state"], state_since=row["state_since"], call=call, held=held)


@router.get("/operators/{operator_id}/calls", operation_id="listOperatorCalls", tags=["operators"], response_model=list[CdrPublic])
async def calls_of_day(
    operator_id: Id,
    user: AnyUser,
    service: ServiceDep,
    day: Annotated[str | None, Query(max_length=10, description="YYYY-MM-DD in the centre's time zone; default today")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 200,
) -> list[CdrPublic]:
    """The ended calls the operator answered on that day, newest first."""
    _own(user, operator_id, service)
    tz = ZoneInfo(service.centre.timezone)
    try:
        date = dt.date.fromisoformat(day) if day else dt.datetime.now(tz).date()
    except ValueError:
        raise ApiProblem(422, f"query.day: '{day}' is not a date (2026-11-23)",
                         errors=[FieldProblem(path="query.day", message="not a date (YYYY-MM-DD)")]) from None
    start = dt.datetime.combine(date, dt.time(), tz)
    end = start + dt.timedelta(days=1)
    await service.engine.flush_events()
    found = service.events.cdrs(start=start.timestamp(), end=end.timestamp(), operator_id=operator_id, limit=limit)
    return [CdrPublic(**c.to_row()) for c in found]


# ---- acting on the call ---------------------------------------------------------------------
#: seconds the desk waits for the engine to take or refuse a transfer request
TRANSFER_ANSWER = 5.0
#: refusals that are the request's fault (422) rather than the call's state (409)
_BAD_TARGET = {
    "unknown_target": "is no operator, queue or number of this centre",
    "dial_blocked": "is a number the centre's dial policy does not allow",
}


class HoldBody(BaseModel):
    held: bool = Field(description="true: put the caller on hold; false: take them off")


class TransferBody(BaseModel):
    target: str = Field(
        min_length=1, max_length=64, description="an operator's id or extension, a queue id, or a number"
    )


class HoldState(BaseModel):
    operator_id: str
    call_id: str
    held: bool = Field(description="the caller is on hold now")


class TransferState(BaseModel):
    operator_id: str
    call_id: str
    target: str
    kind: Literal["operator", "queue", "number"] = Field(description="what the target is")
    state: Literal["accepted"] = Field(
        description="the engine took the request: the operator's leg is released and the target rings; "
        "operator_transfer_ended in the call's stream says how it went"
    )


def _conversation(service: Service, operator_id: str) -> OperatorLeg:
    found = operator_leg(service.engine, operator_id)
    if found is None:
        raise ApiProblem(
            409,
            f"operator '{operator_id}' is in no conversation now",
            errors=[FieldProblem(path="operator_id", message="no current call", code="no_call")],
        )
    return found


@router.post(
    "/operators/{operator_id}/call/hold", operation_id="holdOperatorCall", tags=["operators"],
    response_model=HoldState, status_code=202,
)
async def hold_call(operator_id: Id, body: HoldBody, user: AnyUser, service: ServiceDep) -> HoldState:
    """Put the caller of the operator's conversation on hold (they hear music) or take them off."""
    _own(user, operator_id, service, "act only on their own call")
    found = _conversation(service, operator_id)
    found.leg.hold_received(body.held)
    return HoldState(operator_id=operator_id, call_id=found.call_id, held=found.leg.held)


@router.post(
    "/operators/{operator_id}/call/transfer", operation_id="transferOperatorCall", tags=["operators"],
    response_model=TransferState, status_code=202,
)
async def transfer_call(operator_id: Id, body: TransferBody, user: AnyUser, service: ServiceDep) -> TransferState:
    """Hand the caller on to an operator, a queue or a number (docs/acd.md,
    "Operators hand callers on"): 202 once the engine took the request."""
    _own(user, operator_id, service, "act only on their own call")
    found = _conversation(service, operator_id)
    target = body.target.strip()
    request = found.leg.transfer_received(target)
    try:
        taken = await asyncio.wait_for(asyncio.shield(request.accepted()), TRANSFER_ANSWER)
    except TimeoutError:
        raise ApiProblem(409, "the call did not take the transfer request in time; try again") from None
    if not taken:
        reason = request.refusal or "refused"
        if reason in _BAD_TARGET:
            raise ApiProblem(
                422,
                f"body.target: '{target}' {_BAD_TARGET[reason]}",
                errors=[FieldProblem(path="body.target", message=_BAD_TARGET[reason], code=reason)],
            )
        raise ApiProblem(
            409,
            f"the transfer was refused: {reason}",
            errors=[FieldProblem(path="operator_id", message=reason, code=reason)],
        )
    kind = cast(Kind, request.kind or "number")  # (the engine accepts with the kind it resolved)
    return TransferState(operator_id=operator_id, call_id=found.call_id, target=target, kind=kind, state="accepted")
