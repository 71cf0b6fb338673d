"""The FastAPI application: one `Service`, the routers, problem+json errors."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi.responses import ORJSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.types import ASGIApp, Receive, Scope, Send

from flowengine.api import problems
from flowengine.api.app_limits import MAX_BODY
from flowengine.api.metrics import Metrics
from flowengine.api.routers import (
    auth,
    calls,
    centre,
    components,
    desk,
    health,
    media,
    monitor,
    recordings,
    reports,
    routing,
    scenarios,
    schedules,
)
from flowengine.api.service import Service
from flowengine.api.settings import ServeSettings
from flowengine.web import DIST

TAGS = [
    {"name": "auth", "description": "login and the current user"},
    {"name": "users", "description": "users and their roles (admin)"},
    {"name": "tokens", "description": "long-lived API tokens"},
    {"name": "scenarios", "description": "drafts, validation, versions, comparison, import/export"},
    {"name": "routing", "description": "numbers and lines bound to scenarios"},
    {"name": "centre", "description": "the call centre document"},
    {"name": "operators", "description": "operators and their statuses"},
    {"name": "queues", "description": "queues (departments)"},
    {"name": "schedules", "description": "working hours, holidays and exception dates"},
    {"name": "calls", "description": "simulated test calls and their traces"},
    {"name": "cdrs", "description": "call detail records"},
    {"name": "reports", "description": "reports over any period (JSON or CSV) and the CDR export"},
    {"name": "media", "description": "prompt audio files"},
    {"name": "health", "description": "probes and metrics"},
    {"name": "components", "description": "node types for the editor, expression checks"},
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
        default_response_class=ORJSONResponse,
    )
    app.state.service = service
    app.state.metrics = metrics = Metrics(service)
    problems.install(app)

    app.add_middleware(HttpMiddleware, metrics=metrics)

    routers = (health, auth, scenarios, routing, centre, schedules, calls, media, recordings, monitor, components, reports, desk)
    for module in routers:
        app.include_router(module.router)
    # The web editor, last so that every API route is matched before it.
    if (DIST / "index.html").is_file():
        app.mount("/", StaticFiles(directory=DIST, html=True), name="editor")
    return app


class HttpMiddleware:
    """Refuses bodies over `MAX_BODY` (413) and times every request for
    /metrics. Plain ASGI: Starlette's BaseHTTPMiddleware costs more than a
    scenario read."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length" and (not value.isdigit() or int(value) > MAX_BODY):
                reply = problems.response(413, f"the request body is larger than {MAX_BODY} bytes")
                await reply(scope, receive, send)
                return
        status = 500

        async def sending(message: MutableMapping[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", "unmatched")
            self.metrics.observe(scope["method"], route, status, time.perf_counter() - started)
