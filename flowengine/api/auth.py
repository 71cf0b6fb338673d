"""Users, passwords, tokens and roles.

Three roles, each including the rights of the ones below it::

    admin > supervisor > operator

Passwords are hashed with argon2 (argon2-cffi). A login gives a session
token that expires (`ServeSettings.session_ttl`); integrators create API
tokens that do not, scoped to a role no higher than their own, shown once and
revocable (a revoked token's `revoked_at` is when it was revoked). Only a token's SHA-256 is stored: tokens are 256 random bits, so a
slow hash adds nothing, and the lookup stays one indexed read per request.

There is no default password: the first start creates the user ``admin``
with the password from ``FLOWENGINE_ADMIN_PASSWORD`` or a generated one that
is printed once. Failed logins are limited per user name and per client
address (`LoginLimiter`).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy.exc import IntegrityError

from flowengine.storage import Database
from flowengine.storage.schema import api_tokens, users

Role = Literal["admin", "supervisor", "operator"]
ROLES: tuple[Role, ...] = ("operator", "supervisor", "admin")
_RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}

#: token prefixes: say what a leaked string is (and let secret scanners find it)
SESSION_PREFIX = "fes_"
#: how long a checked token is trusted without reading the database again
TOKEN_CACHE_SECONDS = 5.0
API_PREFIX = "fet_"

_hasher = PasswordHasher()


def at_least(role: str, needed: Role) -> bool:
    return _RANK.get(role, -1) >= _RANK[needed]


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: the user, the role this credential carries, and (for
    operators) the operator they are."""

    username: str
    role: Role
    operator_id: str | None
    token_id: str
    kind: Literal["session", "api"]


@dataclass(frozen=True, slots=True)
class User:
    username: str
    role: Role
    operator_id: str | None
    created_at: float


@dataclass(frozen=True, slots=True)
class TokenInfo:
    id: str
    kind: str
    username: str
    role: Role
    name: str
    created_at: float
    expires_at: float | None
    revoked_at: float | None


class Users:
    """The users and api_tokens tables of the storage schema. Sessions are
    tokens with an expiry; API tokens have none."""

    def __init__(self, db: Database, *, session_ttl: float, cache_seconds: float = TOKEN_CACHE_SECONDS) -> None:
        self.db = db
        self.session_ttl = session_ttl
        self.cache_seconds = cache_seconds
        #: token digest -> (who, when the token expires, when this was read)
        self._cache: dict[str, tuple[Principal, float | None, float]] = {}

    # ---- users --------------------------------------------------------------------
    def count(self) -> int:
        with self.db.connect() as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar() or 0)

    def get(self, username: str) -> User | None:
        with self.db.connect() as conn:
            row = conn.execute(sa.select(users).where(users.c.username == username, users.c.active)).first()
        return _user(row) if row is not None else None

    def all(self) -> list[User]:
        with self.db.connect() as conn:
            rows = conn.execute(sa.select(users).where(users.c.active).order_by(users.c.username)).all()
        return [_user(r) for r in rows]

    def create(self, username: str, password: str, role: Role, operator_id: str | None = None) -> User | None:
        """None when the name is taken."""
        try:
            with self.db.begin() as conn:
                conn.execute(
                    users.insert().values(
                        username=username, role=role, password_hash=_hasher.hash(password),
                        operator_id=operator_id, display_name="", active=True, created_at=_now(),
                    )
                )
        except IntegrityError:
            return None
        return self.get(username)

    def set_password(self, username: str, password: str) -> bool:
        with self.db.begin() as conn:
            done = conn.execute(
                users.update().where(users.c.username == username).values(password_hash=_hasher.hash(password))
            ).rowcount
        return bool(done)

    def delete(self, username: str) -> bool:
        self._cache.clear()
        with self.db.begin() as conn:
            uid = conn.execute(sa.select(users.c.id).where(users.c.username == username)).scalar()
            if uid is None:
                return False
            conn.execute(api_tokens.delete().where(api_tokens.c.user_id == uid))
            conn.execute(users.delete().where(users.c.id == uid))
        return True

    def check_password(self, username: str, password: str) -> User | None:
        with self.db.connect() as conn:
            stored = conn.execute(
                sa.select(users.c.password_hash).where(users.c.username == username, users.c.active)
            ).scalar()
        if stored is None:
            # spend the same time as a real check, so timing does not tell which names exist
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            _hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self.get(username)

    # ---- tokens ---------------------------------------------------------------------
    def issue(self, user: User, *, kind: Literal["session", "api"], role: Role, name: str = "") -> tuple[str, TokenInfo]:
        """A new token (returned once, in clear) and its stored description."""
        token = (SESSION_PREFIX if kind == "session" else API_PREFIX) + secrets.token_urlsafe(32)
        now = _now()
        expires = now + dt.timedelta(seconds=self.session_ttl) if kind == "session" else None
        with self.db.begin() as conn:
            uid = conn.execute(sa.select(users.c.id).where(users.c.username == user.username)).scalar()
            result = conn.execute(
                api_tokens.insert().values(
                    user_id=uid, name=name, token_hash=_digest(token), scope=role, revoked=False,
                    created_at=now, expires_at=expires,
                )
            )
            token_id = str(result.inserted_primary_key[0])  # type: ignore[index]
        info = TokenInfo(
            id=token_id, kind=kind, username=user.username, role=role, name=name,
            created_at=now.timestamp(), expires_at=expires.timestamp() if expires else None, revoked_at=None,
        )
        return token, info

    def authenticate(self, token: str) -> Principal | None:
        """Who the token stands for; a valid answer is reused for
        `cache_seconds` (a revocation here clears it at once; one made by
        another process takes effect within that time)."""
        digest = _digest(token)
        now = time.time()
        cached = self._cache.get(digest)
        if cached is not None:
            principal, expires, read_at = cached
            if now - read_at < self.cache_seconds and (expires is None or expires > now):
                return principal
            del self._cache[digest]
        found = self._lookup(digest)
        if found is not None:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (found[0], found[1], now)
            return found[0]
        return None

    def _lookup(self, digest: str) -> tuple[Principal, float | None] | None:
        with self.db.connect() as conn:
            row = conn.execute(
                sa.select(api_tokens.c.id, api_tokens.c.scope, api_tokens.c.revoked, api_tokens.c.expires_at,
                          users.c.username, users.c.operator_id)
                .join(users, users.c.id == api_tokens.c.user_id)
                .where(api_tokens.c.token_hash == digest, users.c.active)
            ).first()
        if row is None or row.revoked:
            return None
        expires = _aware(row.expires_at).timestamp() if row.expires_at is not None else None
        if expires is not None and expires < time.time():
            return None
        kind: Literal["session", "api"] = "session" if expires is not None else "api"
        who = Principal(username=row.username, role=row.scope, operator_id=row.operator_id, token_id=str(row.id), kind=kind)
        return who, expires

    def _select_tokens(self) -> Any:
        return sa.select(api_tokens, users.c.username).join(users, users.c.id == api_tokens.c.user_id)

    def tokens(self, username: str | None = None) -> list[TokenInfo]:
        """API tokens (not sessions), of `username` or everyone's."""
        query = self._select_tokens().where(api_tokens.c.expires_at.is_(None))
        if username is not None:
            query = query.where(users.c.username == username)
        with self.db.connect() as conn:
            return [_token(r) for r in conn.execute(query.order_by(api_tokens.c.id)).all()]

    def token(self, token_id: str) -> TokenInfo | None:
        if not token_id.isdigit() or len(token_id) > 18:
            return None
        with self.db.connect() as conn:
            row = conn.execute(self._select_tokens().where(api_tokens.c.id == int(token_id))).first()
        return _token(row) if row is not None else None

    def revoke(self, token_id: str) -> bool:
        self._cache.clear()
        if not token_id.isdigit() or len(token_id) > 18:
            return False
        with self.db.begin() as conn:
            done = conn.execute(
                api_tokens.update().where(api_tokens.c.id == int(token_id), api_tokens.c.revoked.is_(False))
                .values(revoked=True, last_used_at=_now())
            ).rowcount
        return bool(done)


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _aware(value: dt.datetime) -> dt.datetime:
    """SQLite hands datetimes back without their zone; they were written in UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _user(row: Any) -> User:
    return User(row.username, row.role, row.operator_id, _aware(row.created_at).timestamp())


def _token(row: Any) -> TokenInfo:
    return TokenInfo(
        id=str(row.id),
        kind="session" if row.expires_at is not None else "api",
        username=row.username,
        role=row.scope,
        name=row.name,
        created_at=_aware(row.created_at).timestamp(),
        expires_at=_aware(row.expires_at).timestamp() if row.expires_at is not None else None,
        revoked_at=_aware(row.last_used_at).timestamp() if row.revoked and row.last_used_at is not None else (
            0.0 if row.revoked else None
        ),
    )


_DUMMY_HASH = _hasher.hash("not a password anyone has")


def generate_password() -> str:
    return secrets.token_urlsafe(15)


class LoginLimiter:
    """Failed logins per key (user name, client address) in a sliding window:
    `attempts` failures within `window` seconds block that key until the
    oldest failure leaves the window. A success clears the user's count."""

    def __init__(self, attempts: int, window: float) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)

    def retry_after(self, *keys: str) -> float:
        """Seconds until a login for these keys may be tried again (0: now)."""
        now = time.monotonic()
        wait = 0.0
        for key in keys:
            failures = self._failures.get(key)
            if not failures:
                continue
            while failures and failures[0] <= now - self.window:
                failures.popleft()
            if len(failures) >= self.attempts:
                wait = max(wait, failures[0] + self.window - now)
        return wait

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        for key in keys:
            self._failures[key].append(now)
        if len(self._failures) > 100_000:  # a flood of names must not grow this for ever
            self._failures.clear()

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)
