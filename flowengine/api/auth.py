"""Users, passwords, tokens and roles.

Three roles, each including the rights of the ones below it::

    admin > supervisor > operator

Passwords are hashed with argon2 (argon2-cffi). A login gives a session
token that expires (`ServeSettings.session_ttl`); integrators create API
tokens that do not, scoped to a role no higher than their own, shown once and
revocable. Only a token's SHA-256 is stored: tokens are 256 random bits, so a
slow hash adds nothing, and the lookup stays one indexed read per request.

There is no default password: the first start creates the user ``admin``
with the password from ``FLOWENGINE_ADMIN_PASSWORD`` or a generated one that
is printed once. Failed logins are limited per user name and per client
address (`LoginLimiter`).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from flowengine.api.localdb import LocalDB

Role = Literal["admin", "supervisor", "operator"]
ROLES: tuple[Role, ...] = ("operator", "supervisor", "admin")
_RANK: dict[str, int] = {role: i for i, role in enumerate(ROLES)}

#: token prefixes: say what a leaked string is (and let secret scanners find it)
SESSION_PREFIX = "fes_"
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
    """The users and tokens tables."""

    def __init__(self, db: LocalDB, *, session_ttl: float) -> None:
        self.db = db
        self.session_ttl = session_ttl

    # ---- users --------------------------------------------------------------------
    def count(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM users").fetchone()[0])

    def get(self, username: str) -> User | None:
        row = self.db.execute(
            "SELECT username, role, operator_id, created_at FROM users WHERE username=?", (username,)
        ).fetchone()
        return User(row[0], row[1], row[2], row[3]) if row else None

    def all(self) -> list[User]:
        rows = self.db.execute("SELECT username, role, operator_id, created_at FROM users ORDER BY username")
        return [User(r[0], r[1], r[2], r[3]) for r in rows]

    def create(self, username: str, password: str, role: Role, operator_id: str | None = None) -> User | None:
        """None when the name is taken."""
        now = time.time()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO users VALUES (?, ?, ?, ?, ?)",
            (username, role, _hasher.hash(password), operator_id, now),
        )
        return User(username, role, operator_id, now) if cur.rowcount else None

    def set_password(self, username: str, password: str) -> bool:
        cur = self.db.execute(
            "UPDATE users SET password_hash=? WHERE username=?", (_hasher.hash(password), username)
        )
        return cur.rowcount > 0

    def delete(self, username: str) -> bool:
        with self.db.transaction():
            self.db.execute("UPDATE tokens SET revoked_at=? WHERE username=? AND revoked_at IS NULL", (time.time(), username))
            return self.db.execute("DELETE FROM users WHERE username=?", (username,)).rowcount > 0

    def check_password(self, username: str, password: str) -> User | None:
        row = self.db.execute("SELECT password_hash FROM users WHERE username=?", (username,)).fetchone()
        if row is None:
            # spend the same time as a real check, so timing does not tell which names exist
            try:
                _hasher.verify(_DUMMY_HASH, password)
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            _hasher.verify(row[0], password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        return self.get(username)

    # ---- tokens ---------------------------------------------------------------------
    def issue(self, user: User, *, kind: Literal["session", "api"], role: Role, name: str = "") -> tuple[str, TokenInfo]:
        """A new token (returned once, in clear) and its stored description."""
        token = (SESSION_PREFIX if kind == "session" else API_PREFIX) + secrets.token_urlsafe(32)
        now = time.time()
        info = TokenInfo(
            id=secrets.token_hex(8),
            kind=kind,
            username=user.username,
            role=role,
            name=name,
            created_at=now,
            expires_at=now + self.session_ttl if kind == "session" else None,
            revoked_at=None,
        )
        self.db.execute(
            "INSERT INTO tokens VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL)",
            (info.id, _digest(token), kind, info.username, role, name, now, info.expires_at),
        )
        return token, info

    def authenticate(self, token: str) -> Principal | None:
        row = self.db.execute(
            "SELECT t.id, t.kind, t.username, t.role, t.expires_at, t.revoked_at, u.operator_id "
            "FROM tokens t JOIN users u ON u.username = t.username WHERE t.token_hash=?",
            (_digest(token),),
        ).fetchone()
        if row is None or row[5] is not None:
            return None
        if row[4] is not None and row[4] < time.time():
            return None
        return Principal(username=row[2], role=row[3], operator_id=row[6], token_id=row[0], kind=row[1])

    def tokens(self, username: str | None = None) -> list[TokenInfo]:
        sql = "SELECT id, kind, username, role, name, created_at, expires_at, revoked_at FROM tokens WHERE kind='api'"
        args: tuple[str, ...] = ()
        if username is not None:
            sql += " AND username=?"
            args = (username,)
        return [TokenInfo(*r) for r in self.db.execute(sql + " ORDER BY created_at", args)]

    def token(self, token_id: str) -> TokenInfo | None:
        row = self.db.execute(
            "SELECT id, kind, username, role, name, created_at, expires_at, revoked_at FROM tokens WHERE id=?",
            (token_id,),
        ).fetchone()
        return TokenInfo(*row) if row else None

    def revoke(self, token_id: str) -> bool:
        cur = self.db.execute(
            "UPDATE tokens SET revoked_at=? WHERE id=? AND revoked_at IS NULL", (time.time(), token_id)
        )
        return cur.rowcount > 0


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
