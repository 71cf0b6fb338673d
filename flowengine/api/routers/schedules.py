"""Schedules and holidays of the centre: weekly hours in a time zone,
holidays, exception dates (the Schedule component's parameters, stored by
name so several scenarios can share them)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Response
from pydantic import BaseModel, Field, ValidationError

from flowengine.api.deps import AdminUser, AnyUser, ServiceDep
from flowengine.api.problems import PROBLEM_RESPONSES, from_problems
from flowengine.api.schemas import NAME
from flowengine.components.registry import builtin_registry
from flowengine.scenario.loader import problems_from_validation
from flowengine.storage import Schedule

router = APIRouter(prefix="/api/v1/schedules", tags=["schedules"], responses=PROBLEM_RESPONSES)

Id = Annotated[str, Path(pattern=NAME)]


class ScheduleUpdate(BaseModel):
    name: str = Field(default="", max_length=200)
    spec: dict[str, Any] = Field(description="timezone, weekly, holidays, exceptions (docs/components.md, Schedule)")


class SchedulePublic(BaseModel):
    id: str
    name: str
    spec: dict[str, Any]
    updated_at: float


def _public(s: Schedule) -> SchedulePublic:
    return SchedulePublic(id=s.schedule_id, name=s.name, spec=s.spec, updated_at=s.updated_at.timestamp())


def _checked(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec as the Schedule component reads it; problems name body.spec.<path>."""
    params = builtin_registry()["schedule"].Params
    try:
        checked = params.model_validate(spec)
    except ValidationError as exc:
        raise from_problems(problems_from_validation(exc), "body.spec") from None
    return checked.model_dump(mode="json", exclude_unset=True)


@router.get("", operation_id="listSchedules", response_model=list[SchedulePublic])
async def list_schedules(_user: AnyUser, service: ServiceDep) -> list[SchedulePublic]:
    return [_public(s) for s in service.centres.schedules()]


@router.get("/{schedule_id}", operation_id="getSchedule", response_model=SchedulePublic)
async def get_schedule(schedule_id: Id, _user: AnyUser, service: ServiceDep) -> SchedulePublic:
    return _public(service.centres.get_schedule(schedule_id))


@router.put("/{schedule_id}", operation_id="putSchedule", response_model=SchedulePublic)
async def put_schedule(schedule_id: Id, body: ScheduleUpdate, _user: AdminUser, service: ServiceDep) -> SchedulePublic:
    return _public(service.centres.put_schedule(schedule_id, _checked(body.spec), name=body.name))


@router.delete("/{schedule_id}", operation_id="deleteSchedule", status_code=204)
async def delete_schedule(schedule_id: Id, _user: AdminUser, service: ServiceDep) -> Response:
    service.centres.delete_schedule(schedule_id)
    return Response(status_code=204)
