"""The call centre: the whole centre document, operators and queues, statuses.

Changes replace the centre in the running ACD (operators keep their
statuses); they are refused with 409 while calls are in the ACD.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from flowengine.api.auth import at_least
from flowengine.api.deps import AdminUser, AnyUser, ServiceDep, SupervisorUser
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem, not_found
from flowengine.api.schemas import (
    NAME,
    CentrePublic,
    CentreUpdate,
    OperatorPublic,
    QueuePublic,
    StatusChange,
    StatusEvent,
)
from flowengine.api.service import Service
from flowengine.errors import FlowEngineError

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)

Id = Annotated[str, Path(pattern=NAME)]


def _centre_data(service: Service) -> dict[str, Any]:
    return dict(service.centres.document())


#: an operator's SIP phone password: stored, never shown
SECRET = "sip_secret"


def _public(data: dict[str, Any]) -> dict[str, Any]:
    """The centre document without the operators' SIP secrets."""
    ops = data.get("operators")
    if isinstance(ops, list) and any(isinstance(o, dict) and SECRET in o for o in ops):
        data = {**data, "operators": [{k: v for k, v in o.items() if k != SECRET} if isinstance(o, dict) else o for o in ops]}
    return data


def _keep_secrets(service: Service, data: dict[str, Any]) -> dict[str, Any]:
    """An operator sent without `sip_secret` keeps the stored one (responses
    never show it, so a document read and sent back must not lose it);
    ``sip_secret: null`` removes it."""
    stored = {
        str(o.get("id")): o[SECRET]
        for o in _centre_data(service).get("operators") or []
        if isinstance(o, dict) and o.get(SECRET)
    }
    ops = data.get("operators")
    if stored and isinstance(ops, list):
        data = {
            **data,
            "operators": [
                {**o, SECRET: stored[str(o.get("id"))]}
                if isinstance(o, dict) and SECRET not in o and str(o.get("id")) in stored
                else o
                for o in ops
            ],
        }
    return data


async def _replace(service: Service, data: dict[str, Any], revision: int | None = None) -> int:
    return await service.set_centre(service.parse_centre(_keep_secrets(service, data)), revision=revision)


@router.get("/centre", operation_id="getCentre", tags=["centre"], response_model=CentrePublic)
async def get_centre(_user: SupervisorUser, service: ServiceDep) -> CentrePublic:
    """The centre document (docs/acd.md): operators, statuses, queues (departments), dial policy."""
    return CentrePublic(revision=service.centre_revision, centre=_public(_centre_data(service)))


@router.put("/centre", operation_id="replaceCentre", tags=["centre"], response_model=CentrePublic)
async def replace_centre(body: CentreUpdate, user: AdminUser, service: ServiceDep) -> CentrePublic:
    revision = await _replace(service, body.centre, body.revision)
    return CentrePublic(revision=revision, centre=_public(_centre_data(service)))


def _upsert(data: dict[str, Any], key: str, item_id: str, item: dict[str, Any] | None) -> dict[str, Any]:
    if key == "queues" and "departments" in data:
        data["queues"] = data.pop("departments")
    items = [x for x in data.get(key) or [] if not (isinstance(x, dict) and str(x.get("id")) == item_id)]
    if item is not None:
        items.append({**item, "id": item_id})
    data[key] = items
    return data


def _operator(service: Service, operator_id: str) -> OperatorPublic:
    try:
        spec = service.centre.operator(operator_id)
    except KeyError:
        raise not_found(f"operator '{operator_id}'") from None
    status, reason, state = service.acd.core.operator_status(operator_id) if service.acd else ("not_available", None, "idle")
    return OperatorPublic(
        id=spec.id, name=str(spec.name), extension=spec.extension, skills=dict(spec.skills),
        status=status, reason=reason, state=state,
    )


@router.get("/operators", operation_id="listOperators", tags=["operators"], response_model=list[OperatorPublic])
async def list_operators(_user: AnyUser, service: ServiceDep) -> list[OperatorPublic]:
    """Every operator with their status and state now."""
    return [_operator(service, op.id) for op in service.centre.operators]


@router.get("/operators/{operator_id}", operation_id="getOperator", tags=["operators"], response_model=OperatorPublic)
async def get_operator(operator_id: Id, _user: AnyUser, service: ServiceDep) -> OperatorPublic:
    return _operator(service, operator_id)


@router.put("/operators/{operator_id}", operation_id="putOperator", tags=["operators"], response_model=OperatorPublic)
async def put_operator(operator_id: Id, body: dict[str, Any], user: AdminUser, service: ServiceDep) -> OperatorPublic:
    """Add or replace an operator (the centre file's operator form); the ACD uses it at once."""
    await _replace(service, _upsert(_centre_data(service), "operators", operator_id, body))
    return _operator(service, operator_id)


@router.delete("/operators/{operator_id}", operation_id="deleteOperator", tags=["operators"], status_code=204)
async def delete_operator(operator_id: Id, user: AdminUser, service: ServiceDep) -> Response:
    _operator(service, operator_id)
    await _replace(service, _upsert(_centre_data(service), "operators", operator_id, None))
    return Response(status_code=204)


@router.put("/operators/{operator_id}/status", operation_id="setOperatorStatus", tags=["operators"], response_model=OperatorPublic)
async def set_status(operator_id: Id, body: StatusChange, user: AnyUser, service: ServiceDep) -> OperatorPublic:
    """Operators change only their own status; supervisors and admins anyone's."""
    if not at_least(user.role, "supervisor") and user.operator_id != operator_id:
        raise ApiProblem(403, f"an operator may change only their own status (you are operator {user.operator_id!r})")
    _operator(service, operator_id)
    assert service.acd is not None
    try:
        service.acd.set_status(operator_id, body.status, body.reason, by=user.role)
    except FlowEngineError as exc:
        raise ApiProblem(422, str(exc), errors=[FieldProblem(path="body.status", message=str(exc))]) from None
    return _operator(service, operator_id)


@router.get("/operators/{operator_id}/history", operation_id="getOperatorHistory", tags=["operators"], response_model=list[StatusEvent])
async def history(
    operator_id: Id,
    user: AnyUser,
    service: ServiceDep,
    from_seq: Annotated[int, Query(ge=0, le=2**53)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> list[StatusEvent]:
    """The operator's stream (statuses, states, wrap-up) after `from_seq`."""
    if not at_least(user.role, "supervisor") and user.operator_id != operator_id:
        raise ApiProblem(403, "an operator may read only their own history")
    _operator(service, operator_id)
    await service.engine.flush_events()
    fields = set(StatusEvent.model_fields)
    return [
        StatusEvent(**{k: v for k, v in e.items() if k in fields})
        for e in service.events.stream_events("operator", operator_id, after_seq=from_seq, limit=limit)
    ]


@router.get("/queues", operation_id="listQueues", tags=["queues"], response_model=list[QueuePublic])
async def list_queues(_user: AnyUser, service: ServiceDep) -> list[QueuePublic]:
    """Every queue (department) with the calls waiting and operators available now."""
    out = []
    for q in service.centre.queues:
        acd = service.acd
        out.append(
            QueuePublic(
                id=q.id, name=q.name.get() or q.id, strategy=str(q.strategy),
                waiting=acd.core.waiting_count(q.id) if acd else 0,
                available=acd.core.available_count(q.id) if acd else 0,
            )
        )
    return out


@router.put("/queues/{queue_id}", operation_id="putQueue", tags=["queues"], response_model=QueuePublic)
async def put_queue(queue_id: Id, body: dict[str, Any], user: AdminUser, service: ServiceDep) -> QueuePublic:
    """Add or replace a queue (every ACD setting, docs/acd.md); the ACD uses it at once."""
    await _replace(service, _upsert(_centre_data(service), "queues", queue_id, body))
    return next(q for q in await list_queues(user, service) if q.id == queue_id)


@router.delete("/queues/{queue_id}", operation_id="deleteQueue", tags=["queues"], status_code=204)
async def delete_queue(queue_id: Id, user: AdminUser, service: ServiceDep) -> Response:
    if not any(q.id == queue_id for q in service.centre.queues):
        raise not_found(f"queue '{queue_id}'")
    await _replace(service, _upsert(_centre_data(service), "queues", queue_id, None))
    return Response(status_code=204)
