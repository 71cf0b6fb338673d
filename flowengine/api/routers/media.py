"""Prompt audio: upload (WAV, converted to 8 kHz mono), list, download, replace, delete;
and a text spoken as the phones would hear it (the editor's test console)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import FileResponse
from pydantic import BaseModel

from flowengine.api.app_limits import MAX_BODY
from flowengine.api.deps import AdminUser, AnyUser, ServiceDep
from flowengine.api.media import MediaError, MediaFile
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem, not_found
from flowengine.api.schemas import NAME
from flowengine.speech.tts import MAX_TEXT, TtsUnavailable, UnknownVoice, default_tts

router = APIRouter(prefix="/api/v1/media", tags=["media"], responses=PROBLEM_RESPONSES)

Language = Annotated[str, Path(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="e.g. ru, en")]
Name = Annotated[str, Path(pattern=NAME)]


class MediaPublic(BaseModel):
    name: str
    language: str
    file: str
    size: int
    duration: float
    created_at: float


def _public(m: MediaFile) -> MediaPublic:
    return MediaPublic(name=m.name, language=m.language, file=m.path, size=m.size, duration=m.duration, created_at=m.created_at)


@router.get("", operation_id="listMedia", response_model=list[MediaPublic])
async def list_media(
    _user: AnyUser,
    service: ServiceDep,
    language: Annotated[str | None, Query(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")] = None,
) -> list[MediaPublic]:
    """Prompt files; `file` is how a Play node or a prompt names it."""
    return [_public(m) for m in service.media.list(language)]


@router.get("/speech", operation_id="getSpeech", response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}})
async def get_speech(
    _user: AnyUser,
    service: ServiceDep,
    text: Annotated[str, Query(min_length=1, max_length=MAX_TEXT, description="what to say")],
    lang: Annotated[str, Query(pattern=r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$", description="e.g. ru, en")] = "en",
    voice: Annotated[str | None, Query(pattern=r"^[A-Za-z0-9_/+-]{1,64}$", description="an espeak-ng voice")] = None,
) -> FileResponse:
    """`text` spoken by the voice a Say prompt in `lang` gets on the phone
    (8 kHz mono WAV, cached in the data directory)."""
    tts = default_tts(service.settings.data_dir / "cache")
    try:
        path = await tts.speak_async(text, language=lang, voice=voice)
    except ValueError as exc:
        raise ApiProblem(422, str(exc), errors=[FieldProblem(path="query.text", message=str(exc))]) from None
    except UnknownVoice as exc:
        where = "query.voice" if voice else "query.lang"
        raise ApiProblem(422, str(exc), errors=[FieldProblem(path=where, message=str(exc))]) from None
    except TtsUnavailable as exc:
        raise ApiProblem(503, str(exc)) from None
    return FileResponse(path, media_type="audio/wav", filename="speech.wav")


@router.put(
    "/{language}/{name}",
    operation_id="putMedia",
    response_model=MediaPublic,
    openapi_extra={"requestBody": {"required": True, "content": {"audio/wav": {"schema": {"type": "string", "format": "binary"}}}}},
)
async def put_media(language: Language, name: Name, request: Request, _user: AdminUser, service: ServiceDep) -> MediaPublic:
    """Upload or replace a prompt (the body is the WAV file)."""
    data = await request.body()
    if len(data) > MAX_BODY:
        raise ApiProblem(413, f"the file is larger than {MAX_BODY} bytes")
    try:
        return _public(service.media.put(language, name, data))
    except MediaError as exc:
        raise ApiProblem(422, str(exc), errors=[FieldProblem(path="body", message=str(exc))]) from None


@router.get("/{language}/{name}", operation_id="getMedia", response_class=FileResponse,
            responses={200: {"content": {"audio/wav": {}}}})
async def get_media(language: Language, name: Name, _user: AnyUser, service: ServiceDep) -> FileResponse:
    found = service.media.get(language, name)
    if found is None or not found[1].is_file():
        raise not_found(f"prompt '{language}/{name}'")
    return FileResponse(found[1], media_type="audio/wav", filename=f"{name}.wav")


@router.delete("/{language}/{name}", operation_id="deleteMedia", status_code=204)
async def delete_media(language: Language, name: Name, _user: AdminUser, service: ServiceDep) -> Response:
    if not service.media.delete(language, name):
        raise not_found(f"prompt '{language}/{name}'")
    return Response(status_code=204)
