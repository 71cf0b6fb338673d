"""Call recordings and voicemail: listed per call (and in its CDR), downloaded as WAV.

Supervisors and admins reach every recording; an operator only those of
calls they talked to (the call's CDR names them as its operator): a
voicemail or a conversation can hold what a caller told only the centre.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import FileResponse

from flowengine.api.auth import Principal, at_least
from flowengine.api.deps import AnyUser, ServiceDep
from flowengine.api.media import RecordingFile
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, not_found
from flowengine.api.schemas import RecordingPublic
from flowengine.api.service import Service

router = APIRouter(prefix="/api/v1", tags=["recordings"], responses=PROBLEM_RESPONSES)

CallId = Annotated[str, Path(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.:\-]+$")]
RecordingId = Annotated[int, Path(ge=1, le=2**53)]


def _public(r: RecordingFile) -> RecordingPublic:
    return RecordingPublic(
        id=r.id, call_id=r.call_id, kind=r.kind, duration=r.duration, size=r.size, created_at=r.created_at,
        url=f"/api/v1/recordings/{r.id}",
    )  # fmt: skip


def recordings_of(service: Service, call_ids: list[str]) -> dict[str, list[RecordingPublic]]:
    """Each call's recordings as the API shows them (for CDRs)."""
    return {k: [_public(r) for r in v] for k, v in service.recordings.for_calls(call_ids).items()}


def _may_hear(user: Principal, service: Service, call_id: str) -> None:
    """Supervisors and admins: any call; an operator: the calls they talked to."""
    if at_least(user.role, "supervisor"):
        return
    cdr = service.events.cdr(call_id)
    if user.operator_id is None or cdr is None or cdr.operator_id != user.operator_id:
        raise ApiProblem(403, f"an operator hears only the recordings of their own calls; call '{call_id}' is not theirs")


@router.get("/calls/{call_id}/recordings", operation_id="listCallRecordings", response_model=list[RecordingPublic])
async def list_call_recordings(call_id: CallId, user: AnyUser, service: ServiceDep) -> list[RecordingPublic]:
    """The call's recordings and voicemail, oldest first."""
    await service.engine.flush_events()
    _may_hear(user, service, call_id)
    found = recordings_of(service, [call_id]).get(call_id, [])
    if not found and call_id not in service.live and not service.events.call_events(call_id, limit=1):
        raise not_found(f"call '{call_id}'")
    return found


@router.get(
    "/recordings/{recording_id}",
    operation_id="getRecording",
    response_class=FileResponse,
    responses={200: {"content": {"audio/wav": {}}}},
)
async def get_recording(recording_id: RecordingId, user: AnyUser, service: ServiceDep) -> FileResponse:
    """The recording's audio (WAV)."""
    found = service.recordings.get(recording_id)
    if found is None:
        raise not_found(f"recording {recording_id}")
    _may_hear(user, service, found.call_id)
    path = service.recordings.file(found)
    if path is None:
        raise not_found(f"the audio of recording {recording_id} (kept by the backend at {found.path!r}, not here)")
    return FileResponse(path, media_type="audio/wav", filename=f"{found.call_id}-{found.id}.wav")
