"""The FastAPI application: one `Service`, the routers, problem+json errors."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from flowengine.api import problems
from flowengine.api.metrics import Metrics
from flowengine.api.routers import auth, calls, centre, health, routing, scenarios
from flowengine.api.service import Service
from flowengine.api.settings import ServeSettings

#: the largest request body accepted (a bundle of big scenarios fits)
MAX_BODY = 8 * 1024 * 1024

TAGS = [
    {"name": "auth", "description": "login and the current user"},
    {"name": "users", "description": "users and their roles (admin)"},
    {"name": "tokens", "description": "long-lived API tokens"},
    {"name": "scenarios", "description": "drafts, validation, versions, comparison, import/export"},
    {"name": "routing", "description": "numbers and lines bound to scenarios"},
    {"name": "centre", "description": "the call centre document"},
    {"name": "operators", "description": "operators and their statuses"},
    {"name": "queues", "description": "queues (departments)"},
    {"name": "calls", "description": "simulated test calls and their traces"},
    {"name": "cdrs", "description": "call detail records"},
    {"name": "health", "description": "probes and metrics"},
]


def create_app(settings: ServeSettings | None = None, service: Service | None = None) -> FastAPI:
    service = service or Service(settings or ServeSettings())

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await service.start()
        try:
            yield
        finally:
            await service.stop()

    app = FastAPI(
        title="flowengine",
        version="1",
        description="Call scenarios, routing, the call centre and test calls. "
        "Errors are RFC 9457 problem details naming the JSON path at fault.",
        lifespan=lifespan,
        openapi_tags=TAGS,
    )
    app.state.service = service
    app.state.metrics = metrics = Metrics(service)
    problems.install(app)

    @app.middleware("http")
    async def limit_body(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > MAX_BODY):
            return problems.response(413, f"the request body is larger than {MAX_BODY} bytes")
        return await metrics.middleware(request, call_next)

    for module in (health, auth, scenarios, routing, centre, calls):
        app.include_router(module.router)
    return app
