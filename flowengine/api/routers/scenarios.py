"""Scenarios: drafts, validation, publication, versions, comparison, import/export."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response

from flowengine.api.deps import AdminUser, ServiceDep, SupervisorUser
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem
from flowengine.api.schemas import (
    NAME,
    Bundle,
    Comparison,
    DraftUpdate,
    Finding,
    ImportedScenario,
    ImportRequest,
    ImportResult,
    PublishRequest,
    RollbackRequest,
    ScenarioCreate,
    ScenarioPublic,
    ScenarioSummary,
    ValidationReport,
    VersionDocument,
    VersionPublic,
)
from flowengine.errors import Problem
from flowengine.scenario.store import VersionInfo
from flowengine.storage import Draft

router = APIRouter(prefix="/api/v1/scenarios", tags=["scenarios"], responses=PROBLEM_RESPONSES)

ScenarioId = Annotated[str, Path(pattern=NAME, description="the scenario's id")]
Version = Annotated[int, Path(ge=1, le=2**31)]


def _summary(d: Draft) -> dict[str, Any]:
    name = d.document.get("name")
    return {
        "id": d.scenario_id,
        "name": name if isinstance(name, str) else None,
        "revision": d.revision,
        "latest_version": d.latest_version,
        "updated_at": d.updated_at.timestamp(),
        "updated_by": d.updated_by,
    }


def _public(d: Draft) -> ScenarioPublic:
    return ScenarioPublic(**_summary(d), document=d.document)


def _version(m: VersionInfo) -> VersionPublic:
    return VersionPublic(
        scenario_id=m.scenario_id, version=m.version, published_at=m.published_at.timestamp(), author=m.author, comment=m.comment
    )


@router.get("", operation_id="listScenarios", response_model=list[ScenarioSummary])
async def list_scenarios(_user: SupervisorUser, service: ServiceDep) -> list[ScenarioSummary]:
    return [ScenarioSummary(**_summary(d)) for d in service.catalog.drafts()]


@router.post("", operation_id="createScenario", response_model=ScenarioPublic, status_code=201)
async def create_scenario(body: ScenarioCreate, user: AdminUser, service: ServiceDep) -> ScenarioPublic:
    """A new draft (revision 1). Its id is the document's `id`; 409 if taken."""
    sid = body.document.get("id")
    if not isinstance(sid, str) or not sid:
        raise ApiProblem(422, "document.id: a scenario needs a text id",
                         errors=[FieldProblem(path="body.document.id", message="required, text")])
    draft = service.catalog.save_draft(sid, body.document, revision=None, by=user.username)
    return _public(draft)


@router.post("/import", operation_id="importScenarios", response_model=ImportResult)
async def import_scenarios(body: ImportRequest, user: AdminUser, service: ServiceDep) -> ImportResult:
    """One or more scenario documents, all or nothing: a problem in any of
    them imports none and names its place (`scenarios[i]....`)."""
    done = service.catalog.import_bundle(body.scenarios, publish=body.publish, comment=body.comment, author=user.username)
    service.save_routing(user.username)
    return ImportResult(
        scenarios=[ImportedScenario(id=d.scenario_id, revision=d.revision, version=m.version if m else None) for d, m in done]
    )


@router.post("/validate", operation_id="validateDocument", response_model=ValidationReport)
async def validate_document(body: ScenarioCreate, _user: SupervisorUser, service: ServiceDep) -> ValidationReport:
    """Every finding about a document that is not saved (the editor's live
    check of the drawing), as for a draft; nothing is stored."""
    return _report(service.catalog.findings(body.document))


@router.get("/export", operation_id="exportScenarios", response_model=Bundle)
async def export_bundle(
    _user: SupervisorUser,
    service: ServiceDep,
    ids: Annotated[list[str] | None, Query(max_length=200, description="scenario ids; none: all")] = None,
) -> Bundle:
    """The latest published version of each scenario (its draft if never published)."""
    chosen = ids or [d.scenario_id for d in service.catalog.drafts()]
    return Bundle(scenarios=[service.catalog.latest_document(sid) for sid in chosen])


@router.get("/{scenario_id}", operation_id="getScenario", response_model=ScenarioPublic)
async def get_scenario(scenario_id: ScenarioId, _user: SupervisorUser, service: ServiceDep) -> ScenarioPublic:
    return _public(service.catalog.draft(scenario_id))


@router.put("/{scenario_id}", operation_id="updateScenarioDraft", response_model=ScenarioPublic)
async def update_draft(scenario_id: ScenarioId, body: DraftUpdate, user: AdminUser, service: ServiceDep) -> ScenarioPublic:
    """Save the draft; `revision` must be the one you read, else 409 and nothing is saved."""
    draft = service.catalog.save_draft(scenario_id, body.document, revision=body.revision, by=user.username)
    return _public(draft)


@router.delete("/{scenario_id}", operation_id="deleteScenario", status_code=204)
async def delete_scenario(scenario_id: ScenarioId, _user: AdminUser, service: ServiceDep) -> Response:
    """The draft and every version; refused (409) while a number, line or the default routes to it."""
    service.catalog.delete(scenario_id)
    return Response(status_code=204)


@router.post("/{scenario_id}/validate", operation_id="validateScenario", response_model=ValidationReport)
async def validate_draft(scenario_id: ScenarioId, _user: SupervisorUser, service: ServiceDep) -> ValidationReport:
    """Every finding about the draft, each with its JSON path."""
    return _report(service.catalog.findings(service.catalog.draft(scenario_id).document))


def _report(findings: list[Problem]) -> ValidationReport:
    items = [Finding(**p.to_dict()) for p in findings]  # type: ignore[arg-type]
    errors = sum(1 for p in findings if p.severity == "error")
    return ValidationReport(valid=errors == 0, errors=errors, warnings=len(findings) - errors, findings=items)


@router.post("/{scenario_id}/publish", operation_id="publishScenario", response_model=VersionPublic, status_code=201)
async def publish(scenario_id: ScenarioId, body: PublishRequest, user: AdminUser, service: ServiceDep) -> VersionPublic:
    """The draft as a new immutable version (422 with the findings if it has errors)."""
    meta = service.catalog.publish(scenario_id, comment=body.comment, author=user.username, revision=body.revision)
    service.save_routing(user.username)
    return _version(meta)


@router.post("/{scenario_id}/rollback", operation_id="rollbackScenario", response_model=VersionPublic, status_code=201)
async def rollback(scenario_id: ScenarioId, body: RollbackRequest, user: AdminUser, service: ServiceDep) -> VersionPublic:
    """Publish an earlier version's content as a new version."""
    meta = service.catalog.rollback(scenario_id, body.version, comment=body.comment, author=user.username)
    service.save_routing(user.username)
    return _version(meta)


@router.get("/{scenario_id}/versions", operation_id="listVersions", response_model=list[VersionPublic])
async def list_versions(scenario_id: ScenarioId, _user: SupervisorUser, service: ServiceDep) -> list[VersionPublic]:
    return [_version(m) for m in service.catalog.versions(scenario_id)]


@router.get("/{scenario_id}/versions/{version}", operation_id="getVersion", response_model=VersionDocument)
async def get_version(scenario_id: ScenarioId, version: Version, _user: SupervisorUser, service: ServiceDep) -> VersionDocument:
    m = service.catalog.version(scenario_id, version)
    return VersionDocument(**_version(m).model_dump(), document=service.catalog.document(scenario_id, version))


@router.get("/{scenario_id}/compare", operation_id="compareVersions", response_model=Comparison)
async def compare(
    scenario_id: ScenarioId,
    _user: SupervisorUser,
    service: ServiceDep,
    from_version: Annotated[int, Query(alias="from", ge=1, le=2**31)],
    to_version: Annotated[int, Query(alias="to", ge=1, le=2**31)],
) -> Comparison:
    """Nodes and exits added, removed and changed from one version to another."""
    diff = service.catalog.compare(scenario_id, from_version, to_version)
    return Comparison(scenario_id=scenario_id, from_version=from_version, to_version=to_version, **diff)


@router.get("/{scenario_id}/export", operation_id="exportScenario", response_model=dict[str, Any])
async def export_one(
    scenario_id: ScenarioId,
    _user: SupervisorUser,
    service: ServiceDep,
    version: Annotated[int | None, Query(ge=1, le=2**31, description="default: the latest; the draft if none")] = None,
) -> dict[str, Any]:
    """One scenario document, ready to import elsewhere."""
    if version is not None:
        return service.catalog.document(scenario_id, version)
    return service.catalog.latest_document(scenario_id)
