"""FastAPI dependencies: the service, the caller's credentials, role checks.

Every endpoint but the health probes and login depends on one of
`AdminUser`, `SupervisorUser`, `OperatorUser` (at least that role): no
credentials or an unknown, expired or revoked token is 401, a role too low
is 403.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from flowengine.api.auth import Principal, Role, at_least
from flowengine.api.problems import ApiProblem
from flowengine.api.service import Service

_bearer = HTTPBearer(auto_error=False, description="a session token (POST /api/v1/auth/login) or an API token")


async def get_service(request: Request) -> Service:
    service: Service = request.app.state.service
    return service


ServiceDep = Annotated[Service, Depends(get_service)]


def _principal(service: Service, credentials: HTTPAuthorizationCredentials | None) -> Principal:
    if credentials is None or not credentials.credentials:
        raise ApiProblem(401, "credentials needed: send 'Authorization: Bearer <token>'",
                         headers={"WWW-Authenticate": "Bearer"})
    found = service.users.authenticate(credentials.credentials)
    if found is None:
        raise ApiProblem(401, "the token is unknown, expired or revoked", headers={"WWW-Authenticate": "Bearer"})
    return found


def _require(role: Role):  # type: ignore[no-untyped-def]
    async def check(
        request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
    ) -> Principal:
        principal = _principal(request.app.state.service, credentials)
        if not at_least(principal.role, role):
            raise ApiProblem(403, f"this needs the role '{role}' or higher; the token has '{principal.role}'")
        return principal

    return check


AnyUser = Annotated[Principal, Depends(_require("operator"))]
OperatorUser = AnyUser
SupervisorUser = Annotated[Principal, Depends(_require("supervisor"))]
AdminUser = Annotated[Principal, Depends(_require("admin"))]
