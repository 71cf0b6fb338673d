"""Liveness, readiness and Prometheus metrics (no credentials: for probes and scrapers)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from flowengine.api.deps import ServiceDep
from flowengine.api.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", operation_id="healthz", response_model=Health)
async def healthz() -> Health:
    """The process answers."""
    return Health(status="ok")


@router.get("/readyz", operation_id="readyz", response_model=Health, responses={503: {"model": Health}})
async def readyz(service: ServiceDep) -> Response:
    """Ready to take calls: the database is open and the service is not stopping."""
    if not service.ready:
        return JSONResponse(Health(status="unavailable", detail="starting or stopping").model_dump(), status_code=503)
    try:
        with service.db.connect() as conn:
            conn.exec_driver_sql("SELECT 1")
    except Exception as exc:  # the probe reports, never raises
        return JSONResponse(Health(status="unavailable", detail=f"database: {exc}").model_dump(), status_code=503)
    return JSONResponse(Health(status="ok").model_dump())


@router.get("/metrics", operation_id="metrics", response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus text format."""
    registry = request.app.state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
