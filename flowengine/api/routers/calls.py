"""Calls: simulated test calls driven by hand, live calls, traces and CDRs."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import yaml
from fastapi import APIRouter, Path, Query

from flowengine.api.cdr import build_cdr
from flowengine.api.deps import ServiceDep, SupervisorUser
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem, not_found
from flowengine.api.routers.recordings import recordings_of
from flowengine.api.schemas import (
    CallPublic,
    CdrPublic,
    DigitsRequest,
    RecordingPublic,
    SayRequest,
    TestCallCreate,
    TestCasePublic,
    TestCaseRequest,
    TracePublic,
)
from flowengine.api.service import Service
from flowengine.errors import UsageError
from flowengine.storage import Cdr
from flowengine.testing.harness import START_YEARS
from flowengine.testing.recorded import case_file_name, case_from_call
from flowengine.testing.script import CallerScript

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

CallId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
#: most events one trace page returns
TRACE_PAGE = 1000


def _live(service: Service, call_id: str) -> Any:
    found = service.live.get(call_id)
    if found is None:
        if service.events.call_events(call_id, limit=1):
            raise ApiProblem(409, f"call '{call_id}' has ended")
        raise not_found(f"live call '{call_id}'")
    return found[0]


def _public(call_id: str, cdr: dict[str, Any] | None, live: bool, call: Any = None) -> CallPublic:
    if cdr is None:  # started, its first event not written yet
        return CallPublic(call_id=call_id, live=live, caller=call.caller, called=call.called, line=call.line,
                          scenario_id="", scenario_version=0, route="", hangup_cause=None)
    return CallPublic(
        call_id=call_id, live=live, caller=cdr["caller"], called=cdr["called"], line=cdr["line"],
        scenario_id=cdr["scenario_id"], scenario_version=cdr["scenario_version"], route=cdr["route"],
        hangup_cause=cdr["hangup_cause"],
    )


@router.post("/calls", operation_id="startTestCall", tags=["calls"], response_model=CallPublic, status_code=201)
async def start_call(body: TestCallCreate, _user: SupervisorUser, service: ServiceDep) -> CallPublic:
    """A simulated call into the engine on the real clock, routed like a real
    one (the line's rules, the bindings). Drive it with digits, say, hangup."""
    if not service.accepting:
        raise ApiProblem(503, "the service is stopping and takes no new calls")
    tests = sum(1 for call, _task in service.live.values() if call.backend_name != "sip")  # SIP calls are real ones
    if tests >= service.settings.max_test_calls:
        raise ApiProblem(429, f"{tests} test calls are in flight, the most allowed (max_test_calls)")
    script = CallerScript(caller=body.caller, called=body.called, line=body.line, caller_name=body.caller_name)
    at = _start_time(service, body) if body.at is not None else None
    call, task = service.backend.place_call(script, at=at)
    call_id = task.get_name().removeprefix("call:")
    service.console.started(call_id, at.isoformat() if at is not None else None)
    service.live[call_id] = (call, task)
    task.add_done_callback(lambda _t: service.live.pop(call_id, None))
    await asyncio.sleep(0)  # the call starts: routed, its first event published
    await service.engine.flush_events()
    return _public(call_id, build_cdr(service.events.call_events(call_id, limit=5)), not task.done(), call)


def _start_time(service: Service, body: TestCallCreate) -> dt.datetime:
    """The call's `at`, with a zone: a time without one is in the zone of the
    scenario the call routes to (else the centre's)."""
    at = body.at
    assert at is not None
    if at.tzinfo is None:
        called, _caller = service.engine.routing.normalise(body.line, body.called, body.caller)
        scenario, _why = service.engine.resolve(called, body.line)
        at = at.replace(tzinfo=scenario.tz if scenario is not None else ZoneInfo(service.centre.timezone))
    if not START_YEARS[0] <= at.astimezone(dt.UTC).year <= START_YEARS[1]:
        raise ApiProblem(422, f"body.at: give a time in the years {START_YEARS[0]}..{START_YEARS[1]}",
                         errors=[FieldProblem(path="body.at", message="out of range")])
    return at


@router.get("/calls", operation_id="listLiveCalls", tags=["calls"], response_model=list[CallPublic])
async def list_calls(_user: SupervisorUser, service: ServiceDep) -> list[CallPublic]:
    """The calls in flight now."""
    await service.engine.flush_events()
    return [
        _public(call_id, build_cdr(service.events.call_events(call_id, limit=5)), True, call)
        for call_id, (call, _task) in list(service.live.items())
    ]


@router.get("/calls/{call_id}", operation_id="getCall", tags=["calls"], response_model=CallPublic)
async def get_call(call_id: CallId, _user: SupervisorUser, service: ServiceDep) -> CallPublic:
    await service.engine.flush_events()
    cdr = build_cdr(service.events.call_events(call_id, limit=100_000))
    live = service.live.get(call_id)
    if cdr is None and live is None:
        raise not_found(f"call '{call_id}'")
    return _public(call_id, cdr, live is not None, live[0] if live else None)


@router.post("/calls/{call_id}/digits", operation_id="pressDigits", tags=["calls"], response_model=CallPublic)
async def press(call_id: CallId, body: DigitsRequest, user: SupervisorUser, service: ServiceDep) -> CallPublic:
    """The caller presses these keys now (DTMF)."""
    call = _live(service, call_id)
    service.console.record(call_id, "press", body.digits)
    for digit in body.digits:
        call.dtmf_received(digit)
    await asyncio.sleep(0)
    return await get_call(call_id, user, service)


@router.post("/calls/{call_id}/say", operation_id="sayText", tags=["calls"], response_model=CallPublic)
async def say(call_id: CallId, body: SayRequest, user: SupervisorUser, service: ServiceDep) -> CallPublic:
    """The caller says this phrase now (heard by a listening Recognize or Record)."""
    call = _live(service, call_id)
    speak = getattr(call, "say", None)
    if speak is None:
        raise ApiProblem(409, "this call's backend cannot take speech from the API")
    service.console.record(call_id, "say", body.text)
    speak(body.text)
    await asyncio.sleep(0)
    return await get_call(call_id, user, service)


@router.post("/calls/{call_id}/hangup", operation_id="hangUpCall", tags=["calls"], response_model=CallPublic)
async def hangup(call_id: CallId, user: SupervisorUser, service: ServiceDep) -> CallPublic:
    """The caller hangs up; the scenario's after-hangup entry still runs."""
    call = _live(service, call_id)
    service.console.record(call_id, "hangup")
    call.remote_hangup("normal")
    task = service.live.get(call_id, (None, None))[1]
    if task is not None:
        await asyncio.wait([task], timeout=5)
    return await get_call(call_id, user, service)


@router.get("/calls/{call_id}/events", operation_id="getCallTrace", tags=["calls"], response_model=TracePublic)
async def trace(
    call_id: CallId,
    _user: SupervisorUser,
    service: ServiceDep,
    from_seq: Annotated[int, Query(ge=0, le=2**53, description="events after this seq")] = 0,
    limit: Annotated[int, Query(ge=1, le=TRACE_PAGE)] = TRACE_PAGE,
) -> TracePublic:
    """The call's event stream in `seq` order, resumable: pass the `next_seq` you got."""
    await service.engine.flush_events()
    events = service.events.call_events(call_id, after_seq=from_seq, limit=limit)
    if not events and from_seq == 0 and call_id not in service.live:
        raise not_found(f"call '{call_id}'")
    next_seq = int(events[-1]["seq"]) if events else from_seq
    ended = any(e.get("event") == "call_ended" for e in events) or (
        call_id not in service.live and not events
    )
    return TracePublic(call_id=call_id, events=events, next_seq=next_seq, ended=ended)


@router.post("/calls/{call_id}/test-case", operation_id="recordTestCase", tags=["calls"], response_model=TestCasePublic)
async def test_case(
    call_id: CallId, body: TestCaseRequest, _user: SupervisorUser, service: ServiceDep
) -> TestCasePublic:
    """An ended call as a scenario test case: what the caller did, on a
    timeline, and what happened (path, prompts, variables, hangup cause).
    409 while the call is live or when nothing routed it."""
    await service.engine.flush_events()
    events = service.events.call_events(call_id, limit=100_000)
    if not events:
        raise not_found(f"call '{call_id}'")
    if call_id in service.live:
        raise ApiProblem(409, f"call '{call_id}' is still live: hang up first, then save it as a test case")
    recorded = service.console.get(call_id)
    try:
        case_file = case_from_call(
            events,
            recorded.actions if recorded is not None else None,
            name=body.name,
            at=recorded.at if recorded is not None else None,
        )
    except UsageError as exc:
        raise ApiProblem(409, str(exc)) from None
    started = events[0]
    scenario_id = str(started.get("scenario_id") or "")
    return TestCasePublic(
        scenario_id=scenario_id,
        scenario_version=int(started.get("scenario_version") or 0),
        file_name=case_file_name(scenario_id),
        content=yaml.safe_dump(case_file, allow_unicode=True, sort_keys=False, width=100),
        case_file=case_file,
    )


def _cdr(found: Cdr, recordings: list[RecordingPublic] | None = None) -> CdrPublic:
    return CdrPublic(**found.to_row(), recordings=recordings or [])


@router.get("/calls/{call_id}/cdr", operation_id="getCdr", tags=["cdrs"], response_model=CdrPublic)
async def cdr(call_id: CallId, _user: SupervisorUser, service: ServiceDep) -> CdrPublic:
    """The call's detail record, written when the call ended (404 before)."""
    await service.engine.flush_events()
    found = service.events.cdr(call_id)
    if found is None:
        raise not_found(f"CDR of call '{call_id}' (a call has one once it has ended)")
    return _cdr(found, recordings_of(service, [call_id]).get(call_id))


@router.get("/cdrs", operation_id="listCdrs", tags=["cdrs"], response_model=list[CdrPublic])
async def list_cdrs(
    _user: SupervisorUser,
    service: ServiceDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    start: Annotated[float | None, Query(ge=0, le=1e11, description="calls started at or after (epoch s)")] = None,
    end: Annotated[float | None, Query(ge=0, le=1e11, description="calls started before (epoch s)")] = None,
    operator_id: Annotated[str | None, Query(max_length=100)] = None,
    result: Annotated[str | None, Query(max_length=40)] = None,
) -> list[CdrPublic]:
    """Ended calls, newest first."""
    await service.engine.flush_events()
    found = service.events.cdrs(start=start, end=end, operator_id=operator_id, result=result, limit=limit, offset=offset)
    recordings = recordings_of(service, [c.call_id for c in found])
    return [_cdr(c, recordings.get(c.call_id)) for c in found]
