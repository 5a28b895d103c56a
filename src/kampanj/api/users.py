"""API users and access tokens as stored (API-2, API-3, API-8, WS-5).

Secrets are random, shown once at creation and stored only as a salted scrypt hash.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select

from kampanj.errors import UserError
from kampanj.model.names import fold
from kampanj.store.schema import api_token, api_user, workspace

ALL_WORKSPACES = "*"  # stored in place of a name list: the user may reach every workspace
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}  # OWASP's minimum for scrypt: ~16 MB, a few ms
_SALT_BYTES = 16


class Role(StrEnum):
    """What an API user may do (API-8); each role includes the ones before it."""

    READ_ONLY = "read_only"
    READ_WRITE = "read_write"
    EXECUTE_CAMPAIGN = "execute_campaign"

    def allows(self, needed: Role) -> bool:
        order = list(Role)
        return order.index(self) >= order.index(needed)


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiUser:
    """An API user without its secret."""

    id: int
    """Storage id."""
    name: str
    """Unique name."""
    email: str
    """Reported as the token ``scope`` (API-2)."""
    client_id: str
    """Public half of the credentials."""
    role: Role
    """What it may do."""
    workspaces: tuple[str, ...] | None
    """Workspace names it may reach; None = all (WS-5)."""
    created_at: datetime
    """When it was created."""

    def reaches(self, workspace_name: str) -> bool:
        """Whether an asset of ``workspace_name`` is within this user's scope (WS-5)."""
        if self.workspaces is None:
            return True
        return fold(workspace_name) in {fold(w) for w in self.workspaces}


@dataclass(frozen=True, kw_only=True, slots=True)
class NewCredentials:
    """What `create_api_user` returns: the only time the secret is visible."""

    user: ApiUser
    """The stored user."""
    client_secret: str
    """The secret in clear; never stored."""


def hash_secret(secret: str) -> str:
    """``scrypt$<salt hex>$<hash hex>`` of ``secret``."""
    salt = secrets.token_bytes(_SALT_BYTES)
    digest = hashlib.scrypt(secret.encode(), salt=salt, **_SCRYPT)
    return f"scrypt${salt.hex()}${digest.hex()}"


def secret_matches(secret: str, stored: str) -> bool:
    """Whether ``secret`` hashes to ``stored`` (constant-time comparison)."""
    try:
        scheme, salt, expected = stored.split("$")
    except ValueError:
        return False
    if scheme != "scrypt":
        return False
    digest = hashlib.scrypt(secret.encode(), salt=bytes.fromhex(salt), **_SCRYPT)
    return hmac.compare_digest(digest.hex(), expected)


def create_api_user(
    connection: Connection,
    *,
    name: str,
    role: Role,
    workspaces: tuple[str, ...],
    email: str | None,
    now: datetime,
) -> NewCredentials:
    """Store a new API user with fresh credentials; ``("*",)`` reaches every workspace."""
    clean = name.strip()
    if not clean:
        raise UserError("API user names cannot be empty")
    taken = connection.execute(select(api_user.c.name)).scalars()
    if fold(clean) in {fold(existing) for existing in taken}:
        raise UserError(f"there is already an API user named {clean!r}; pick another name")
    scope = _workspace_scope(connection, workspaces)
    client_id = str(uuid.uuid4())
    client_secret = secrets.token_urlsafe(24)
    user_id = connection.execute(
        insert(api_user)
        .returning(api_user.c.id)
        .values(
            name=clean,
            email=email or f"{clean}@kampanj.invalid",
            client_id=client_id,
            secret_hash=hash_secret(client_secret),
            role=role.value,
            workspaces=[ALL_WORKSPACES] if scope is None else list(scope),
            created_at=now,
        )
    ).scalar_one()
    user = get_user(connection, user_id)
    assert user is not None
    return NewCredentials(user=user, client_secret=client_secret)


def _workspace_scope(connection: Connection, names: tuple[str, ...]) -> tuple[str, ...] | None:
    if not names:
        raise UserError("give at least one --workspace NAME (or --workspace '*' for all)")
    if ALL_WORKSPACES in names:
        return None
    stored = {fold(n): n for n in connection.execute(select(workspace.c.name)).scalars()}
    unknown = [n for n in names if fold(n) not in stored]
    if unknown:
        raise UserError(
            f"no workspace named {unknown[0]!r}; existing workspaces: "
            f"{', '.join(sorted(stored.values()))}"
        )
    return tuple(dict.fromkeys(stored[fold(n)] for n in names))


def _user_from_row(row: Any) -> ApiUser:
    names = list(row.workspaces)
    return ApiUser(
        id=row.id,
        name=row.name,
        email=row.email,
        client_id=row.client_id,
        role=Role(row.role),
        workspaces=None if ALL_WORKSPACES in names else tuple(names),
        created_at=row.created_at,
    )


def get_user(connection: Connection, user_id: int) -> ApiUser | None:
    row = connection.execute(select(api_user).where(api_user.c.id == user_id)).first()
    return None if row is None else _user_from_row(row)


def list_users(connection: Connection) -> list[ApiUser]:
    return [_user_from_row(r) for r in connection.execute(select(api_user).order_by(api_user.c.id))]


def authenticate(connection: Connection, client_id: str, client_secret: str) -> ApiUser | None:
    """The user owning these credentials, or None."""
    row = connection.execute(select(api_user).where(api_user.c.client_id == client_id)).first()
    if row is None or not secret_matches(client_secret, row.secret_hash):
        return None
    return _user_from_row(row)


@dataclass(frozen=True, kw_only=True, slots=True)
class AccessToken:
    """An access token and its owner."""

    token: str
    """``<uuid>:<account id>``."""
    user_id: int
    """Owner."""
    expires_at: datetime
    """First instant at which it no longer works."""

    def seconds_left(self, now: datetime) -> int:
        """``expires_in``: whole seconds left minus one (API-3)."""
        return max(int((self.expires_at - now).total_seconds()) - 1, 0)


def issue_token(
    connection: Connection, user: ApiUser, *, now: datetime, lifetime: int, account_id: str
) -> AccessToken:
    """The user's unexpired token, or a new one (API-3)."""
    row = connection.execute(
        select(api_token)
        .where(api_token.c.api_user_id == user.id, api_token.c.expires_at > now)
        .order_by(api_token.c.expires_at.desc())
        .limit(1)
    ).first()
    if row is not None:
        return AccessToken(token=row.token, user_id=user.id, expires_at=row.expires_at)
    token = AccessToken(
        token=f"{uuid.uuid4()}:{account_id}",
        user_id=user.id,
        expires_at=now + timedelta(seconds=lifetime),
    )
    connection.execute(
        insert(api_token).values(
            token=token.token, api_user_id=user.id, created_at=now, expires_at=token.expires_at
        )
    )
    return token


def find_token(connection: Connection, token: str) -> tuple[AccessToken, ApiUser] | None:
    """A stored token and its (still existing) owner, or None."""
    row = connection.execute(select(api_token).where(api_token.c.token == token)).first()
    if row is None:
        return None
    user = get_user(connection, row.api_user_id)
    if user is None:
        return None
    return AccessToken(token=row.token, user_id=user.id, expires_at=row.expires_at), user
