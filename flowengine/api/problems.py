"""Errors as RFC 9457 problem details (``application/problem+json``).

Every error the API returns has the same shape::

    {"type": "about:blank", "title": "Conflict", "status": 409,
     "detail": "draft 'hello' is at revision 4, you sent 3",
     "errors": [{"path": "revision", "message": "stale revision"}]}

`errors` names the JSON path of each problem in the request (a scenario's
``nodes[3].params.value``, a body field ``caller``, a query parameter
``query.from_seq``). Handlers raise `ApiProblem`; document errors of the core
(`ProblemsError`) and FastAPI's validation errors are turned into the same
format here, so no handler formats an error itself and no input reaches the
client as a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from flowengine.errors import FlowEngineError, Problem, ProblemsError, UsageError
from flowengine.storage import Conflict, DatabaseError, NotFound, Refused

log = logging.getLogger("flowengine.api")

MEDIA_TYPE = "application/problem+json"


class FieldProblem(BaseModel):
    """One problem in the request: where (JSON path) and what."""

    path: str
    message: str
    node_id: str | None = None
    code: str | None = None


class ProblemDetails(BaseModel):
    """RFC 9457 problem details, with `errors` naming each JSON path at fault."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str = ""
    errors: list[FieldProblem] = []


class ApiProblem(Exception):
    """Raised by handlers; becomes a problem+json response."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        errors: Iterable[FieldProblem] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = list(errors)
        self.headers = headers


def not_found(what: str) -> ApiProblem:
    return ApiProblem(404, f"{what} not found")


def conflict(detail: str, path: str = "") -> ApiProblem:
    return ApiProblem(409, detail, errors=[FieldProblem(path=path, message=detail)] if path else [])


def from_problems(problems: Sequence[Problem], prefix: str = "", status: int = 422, detail: str = "") -> ApiProblem:
    """A core document error as 422 with each problem's JSON path under `prefix`."""
    errors = [
        FieldProblem(
            path=_join(prefix, p.path),
            message=p.message,
            node_id=p.node_id,
            code=p.code,
        )
        for p in problems
    ]
    first = f"{errors[0].path}: {errors[0].message}" if errors and errors[0].path else (errors[0].message if errors else "")
    text = detail or (first if len(errors) == 1 else f"{len(errors)} problems, first: {first}")
    return ApiProblem(status, text, errors=errors)


def _join(prefix: str, path: str) -> str:
    if not prefix:
        return path
    if not path:
        return prefix
    return f"{prefix}{path}" if path.startswith("[") else f"{prefix}.{path}"


def _loc_path(loc: Sequence[Any]) -> str:
    """FastAPI's error location as a JSON path: ("body", "nodes", 3, "id") → body.nodes[3].id."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def response(status: int, detail: str, errors: Sequence[FieldProblem] = (), headers: dict[str, str] | None = None) -> JSONResponse:
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    body = ProblemDetails(title=title, status=status, detail=detail, errors=list(errors))
    return JSONResponse(body.model_dump(), status_code=status, media_type=MEDIA_TYPE, headers=headers)


def install(app: FastAPI) -> None:
    """Register the handlers that turn every error into problem+json."""

    @app.exception_handler(ApiProblem)
    async def _api(_request: Request, exc: ApiProblem) -> JSONResponse:
        return response(exc.status, exc.detail, exc.errors, exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [
            FieldProblem(path=_loc_path(e.get("loc", ())), message=str(e.get("msg", "invalid")), code=str(e.get("type", "")))
            for e in exc.errors()
        ]
        first = errors[0] if errors else None
        detail = f"{first.path}: {first.message}" if first else "invalid request"
        if len(errors) > 1:
            detail = f"{len(errors)} problems, first: {detail}"
        return response(422, detail, errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return response(exc.status_code, str(exc.detail), headers=getattr(exc, "headers", None))

    @app.exception_handler(ProblemsError)
    async def _document(_request: Request, exc: ProblemsError) -> JSONResponse:
        p = from_problems(exc.problems, "body")
        return response(p.status, p.detail, p.errors)

    @app.exception_handler(NotFound)
    async def _not_found(_request: Request, exc: NotFound) -> JSONResponse:
        return response(404, str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(_request: Request, exc: Conflict) -> JSONResponse:
        return response(409, str(exc))

    @app.exception_handler(Refused)
    async def _refused(_request: Request, exc: Refused) -> JSONResponse:
        return response(409, str(exc))

    @app.exception_handler(DatabaseError)
    async def _database(_request: Request, exc: DatabaseError) -> JSONResponse:
        log.error("database: %s", exc)
        return response(503, "the database is not available now; try again")

    @app.exception_handler(UsageError)
    async def _usage(_request: Request, exc: UsageError) -> JSONResponse:
        return response(400, str(exc))

    @app.exception_handler(FlowEngineError)
    async def _engine(_request: Request, exc: FlowEngineError) -> JSONResponse:
        return response(400, str(exc))

    @app.exception_handler(Exception)
    async def _bug(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error", exc_info=exc)
        return response(500, "internal error; the server log has the details")


#: the `responses=` entry documenting problem+json in OpenAPI
PROBLEM_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ProblemDetails, "content": {MEDIA_TYPE: {}}, "description": HTTPStatus(code).phrase}
    for code in (400, 401, 403, 404, 409, 422, 429)
}
