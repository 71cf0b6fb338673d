"""Login, the current user, users (admin) and API tokens."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from flowengine.api.auth import TokenInfo, User, at_least
from flowengine.api.deps import AdminUser, AnyUser, ServiceDep
from flowengine.api.problems import PROBLEM_RESPONSES, ApiProblem, FieldProblem, conflict, not_found
from flowengine.api.schemas import (
    LoginRequest,
    MePublic,
    PasswordUpdate,
    SessionPublic,
    TokenCreate,
    TokenCreated,
    TokenPublic,
    UserCreate,
    UserPublic,
)

router = APIRouter(prefix="/api/v1", responses=PROBLEM_RESPONSES)


def _user(u: User) -> UserPublic:
    return UserPublic(username=u.username, role=u.role, operator_id=u.operator_id, created_at=u.created_at)


def _token(t: TokenInfo) -> TokenPublic:
    return TokenPublic(id=t.id, name=t.name, username=t.username, role=t.role, created_at=t.created_at, revoked_at=t.revoked_at)


@router.post("/auth/login", operation_id="login", tags=["auth"], response_model=SessionPublic)
async def login(body: LoginRequest, request: Request, service: ServiceDep) -> SessionPublic:
    """A session token for a user name and password. Repeated failures for a
    user name or from an address are refused for a while (429)."""
    address = request.client.host if request.client else "?"
    keys = (f"user:{body.username}", f"addr:{address}")
    wait = service.limiter.retry_after(*keys)
    if wait > 0:
        raise ApiProblem(429, f"too many failed logins; try again in {int(wait) + 1} s",
                         headers={"Retry-After": str(int(wait) + 1)})
    user = service.users.check_password(body.username, body.password)
    if user is None:
        service.limiter.failed(*keys)
        raise ApiProblem(401, "wrong user name or password", headers={"WWW-Authenticate": "Bearer"})
    service.limiter.succeeded(keys[0])
    token, info = service.users.issue(user, kind="session", role=user.role)
    return SessionPublic(token=token, expires_at=info.expires_at or 0.0, username=user.username, role=user.role)


@router.post("/auth/logout", operation_id="logout", tags=["auth"], status_code=204)
async def logout(principal: AnyUser, service: ServiceDep) -> Response:
    """End the session (or revoke the API token) used for this request."""
    service.users.revoke(principal.token_id)
    return Response(status_code=204)


@router.get("/auth/me", operation_id="getMe", tags=["auth"], response_model=MePublic)
async def me(principal: AnyUser, service: ServiceDep) -> MePublic:
    user = service.users.get(principal.username)
    if user is None:
        raise ApiProblem(401, "the user of this token no longer exists")
    return MePublic(**_user(user).model_dump(), token_role=principal.role, token_kind=principal.kind)


@router.get("/users", operation_id="listUsers", tags=["users"], response_model=list[UserPublic])
async def list_users(_admin: AdminUser, service: ServiceDep) -> list[UserPublic]:
    return [_user(u) for u in service.users.all()]


@router.post("/users", operation_id="createUser", tags=["users"], response_model=UserPublic, status_code=201)
async def create_user(body: UserCreate, _admin: AdminUser, service: ServiceDep) -> UserPublic:
    if body.role == "operator" and body.operator_id is None:
        raise ApiProblem(422, "an operator user needs operator_id (the operator they are)",
                         errors=[FieldProblem(path="body.operator_id", message="required for role operator")])
    created = service.users.create(body.username, body.password, body.role, body.operator_id)
    if created is None:
        raise conflict(f"user '{body.username}' exists already", "body.username")
    return _user(created)


@router.delete("/users/{username}", operation_id="deleteUser", tags=["users"], status_code=204)
async def delete_user(username: str, admin: AdminUser, service: ServiceDep) -> Response:
    if username == admin.username:
        raise conflict("you cannot delete yourself", "username")
    if not service.users.delete(username):
        raise not_found(f"user '{username}'")
    return Response(status_code=204)


@router.put("/users/{username}/password", operation_id="setPassword", tags=["users"], status_code=204)
async def set_password(username: str, body: PasswordUpdate, principal: AnyUser, service: ServiceDep) -> Response:
    """Your own password, or anyone's as admin."""
    if username != principal.username and not at_least(principal.role, "admin"):
        raise ApiProblem(403, "only an admin may set another user's password")
    if not service.users.set_password(username, body.password):
        raise not_found(f"user '{username}'")
    return Response(status_code=204)


@router.get("/tokens", operation_id="listTokens", tags=["tokens"], response_model=list[TokenPublic])
async def list_tokens(principal: AnyUser, service: ServiceDep) -> list[TokenPublic]:
    """Your API tokens (an admin sees everyone's); never the tokens themselves."""
    owner = None if at_least(principal.role, "admin") else principal.username
    return [_token(t) for t in service.users.tokens(owner)]


@router.post("/tokens", operation_id="createToken", tags=["tokens"], response_model=TokenCreated, status_code=201)
async def create_token(body: TokenCreate, principal: AnyUser, service: ServiceDep) -> TokenCreated:
    """A long-lived API token with your role or a lower one, shown once."""
    role = body.role or principal.role
    if not at_least(principal.role, role):
        raise ApiProblem(403, f"a token cannot carry more than your role '{principal.role}'",
                         errors=[FieldProblem(path="body.role", message="higher than your own role")])
    user = service.users.get(principal.username)
    if user is None:
        raise ApiProblem(401, "the user of this token no longer exists")
    token, info = service.users.issue(user, kind="api", role=role, name=body.name)
    return TokenCreated(**_token(info).model_dump(), token=token)


@router.delete("/tokens/{token_id}", operation_id="revokeToken", tags=["tokens"], status_code=204)
async def revoke_token(token_id: str, principal: AnyUser, service: ServiceDep) -> Response:
    info = service.users.token(token_id)
    if info is None or info.kind != "api" or (
        info.username != principal.username and not at_least(principal.role, "admin")
    ):
        raise not_found(f"token '{token_id}'")
    service.users.revoke(token_id)
    return Response(status_code=204)
