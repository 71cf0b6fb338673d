"""Numbers and lines: bindings to scenarios, the default, normalisation rules, resolve."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from pydantic import ValidationError

from flowengine.api.deps import AdminUser, ServiceDep, SupervisorUser
from flowengine.api.problems import (
    PROBLEM_RESPONSES,
    ApiProblem,
    FieldProblem,
    from_problems,
    not_found,
)
from flowengine.api.schemas import (
    NAME,
    DefaultUpdate,
    LineUpdate,
    NumberBindingPublic,
    NumberBindingUpdate,
    ResolvePublic,
    RoutingPublic,
    RulesUpdate,
)
from flowengine.api.service import Service
from flowengine.scenario.loader import problems_from_validation
from flowengine.scenario.routing import LineConfig, RoutingError, RoutingTable, parse_routing

router = APIRouter(prefix="/api/v1/routing", tags=["routing"], responses=PROBLEM_RESPONSES)

Number = Annotated[str, Path(min_length=1, max_length=64, description="the number as normalised, e.g. +74951230001")]
Line = Annotated[str, Path(pattern=NAME)]


def _change(service: Service, by: str, change: object) -> RoutingTable:
    """Apply `change(table)` to a copy, check it, then make it the engine's."""
    table = service.routing_copy()
    try:
        change(table)  # type: ignore[operator]
        table = parse_routing(table.model_dump(mode="json", exclude_none=True, warnings=False))
    except RoutingError as exc:
        raise from_problems(exc.problems, "body", status=409 if any(p.code == "binding_conflict" for p in exc.problems) else 422) from None
    try:
        service.routing.save(table)
    except RoutingError as exc:
        raise from_problems(exc.problems, "body") from None
    service.engine.routing = table
    return table


def _published(service: Service, scenario_id: str | None, version: int | None, path: str = "body.scenario_id") -> None:
    if scenario_id is None:
        return
    history = service.catalog.store.versions(scenario_id)
    if not history:
        raise ApiProblem(422, f"scenario '{scenario_id}' is not published", errors=[FieldProblem(path=path, message="not published")])
    if version is not None and version > len(history):
        raise ApiProblem(422, f"scenario '{scenario_id}' has no version {version} (latest: {len(history)})",
                         errors=[FieldProblem(path="body.version", message="no such version")])


@router.get("", operation_id="getRouting", response_model=RoutingPublic)
async def get_routing(_user: SupervisorUser, service: ServiceDep) -> RoutingPublic:
    """The whole routing table (the routing file's form, docs/routing.md)."""
    return RoutingPublic(table=service.engine.routing.model_dump(mode="json", exclude_none=True))


@router.get("/numbers", operation_id="listNumbers", response_model=list[NumberBindingPublic])
async def list_numbers(_user: SupervisorUser, service: ServiceDep) -> list[NumberBindingPublic]:
    return [NumberBindingPublic(number=b.number, scenario_id=b.scenario_id, version=b.version) for b in service.engine.routing.numbers]


@router.put("/numbers/{number}", operation_id="bindNumber", response_model=NumberBindingPublic)
async def bind_number(number: Number, body: NumberBindingUpdate, user: AdminUser, service: ServiceDep) -> NumberBindingPublic:
    """Route calls to `number` to a scenario (a pinned version, or the latest)."""
    _published(service, body.scenario_id, body.version)
    _change(service, user.username, lambda t: t.bind_number(number, body.scenario_id, body.version, replace=body.replace))
    return NumberBindingPublic(number=number, scenario_id=body.scenario_id, version=body.version)


@router.delete("/numbers/{number}", operation_id="unbindNumber", status_code=204)
async def unbind_number(number: Number, user: AdminUser, service: ServiceDep) -> Response:
    if service.engine.routing.number_binding(number) is None:
        raise not_found(f"binding of number {number}")
    _change(service, user.username, lambda t: t.unbind_number(number))
    return Response(status_code=204)


@router.get("/lines", operation_id="listLines", response_model=list[dict[str, object]])
async def list_lines(_user: SupervisorUser, service: ServiceDep) -> list[dict[str, object]]:
    return [line.model_dump(mode="json", exclude_none=True) for line in service.engine.routing.lines]


@router.put("/lines/{line}", operation_id="configureLine", response_model=dict[str, object])
async def configure_line(line: Line, body: LineUpdate, user: AdminUser, service: ServiceDep) -> dict[str, object]:
    """A line as a whole: its number, its normalisation rules, its scenario."""
    _published(service, body.scenario_id, body.version)
    data = body.model_dump(exclude={"replace"}, exclude_none=True)
    try:
        config = LineConfig.model_validate({"name": line, **data})
    except ValidationError as exc:
        raise from_problems(problems_from_validation(exc), "body") from None
    _change(service, user.username, lambda t: t.configure_line(config, replace=body.replace))
    return config.model_dump(mode="json", exclude_none=True)


@router.delete("/lines/{line}", operation_id="deleteLine", status_code=204)
async def delete_line(line: Line, user: AdminUser, service: ServiceDep) -> Response:
    if service.engine.routing.line_config(line) is None:
        raise not_found(f"line '{line}'")

    def drop(t: RoutingTable) -> None:
        t.lines = [c for c in t.lines if c.name != line]

    _change(service, user.username, drop)
    return Response(status_code=204)


@router.put("/default", operation_id="setDefaultScenario", response_model=RoutingPublic)
async def set_default(body: DefaultUpdate, user: AdminUser, service: ServiceDep) -> RoutingPublic:
    """The scenario for calls nothing else routes (null: refuse them, cause no_route)."""
    _published(service, body.scenario_id, body.version)
    table = _change(service, user.username, lambda t: t.set_default(body.scenario_id, body.version))
    return RoutingPublic(table=table.model_dump(mode="json", exclude_none=True))


@router.put("/rules", operation_id="setNormalisationRules", response_model=RoutingPublic)
async def set_rules(body: RulesUpdate, user: AdminUser, service: ServiceDep) -> RoutingPublic:
    """The table's normalisation rules, for lines without their own."""

    data = service.engine.routing.model_dump(mode="json", exclude_none=True)
    data.update(called=body.called, caller=body.caller)
    try:
        table = parse_routing(data)
    except RoutingError as exc:
        raise from_problems(exc.problems, "body") from None
    table = _change(service, user.username, lambda t: _replace_rules(t, table))
    return RoutingPublic(table=table.model_dump(mode="json", exclude_none=True))


@router.get("/resolve", operation_id="resolveNumber", response_model=ResolvePublic)
async def resolve(
    _user: SupervisorUser,
    service: ServiceDep,
    called: Annotated[str, Query(max_length=64, description="the number as the line sends it")],
    line: Annotated[str | None, Query(pattern=NAME)] = None,
    caller: Annotated[str, Query(max_length=64)] = "+70000000000",
) -> ResolvePublic:
    """Where a call to `called` on `line` would go now, and why."""
    routing = service.engine.routing
    called_n, caller_n = routing.normalise(line, called, caller)
    found, resolution = service.engine.resolve(called_n, line)
    return ResolvePublic(
        called=called,
        caller=caller,
        line=line,
        called_normalised=called_n,
        caller_normalised=caller_n,
        routed=found is not None,
        scenario_id=resolution.scenario_id,
        version=found.version if found is not None else resolution.version,
        via=resolution.via,
        reason=resolution.reason,
    )


def _replace_rules(table: RoutingTable, new: RoutingTable) -> None:
    table.called = new.called
    table.caller = new.caller
