"""``Idempotency-Key`` on writes (LEDG-6, LIM-26): a repeat returns the first answer.

Per API user and key, the first call's fingerprint (method, path, query, body) is claimed
before the call runs and its response stored once it succeeds. Within 24 h a repeat with
the same fingerprint gets that response and does nothing; another fingerprint → 709.
While the first call is still running (or if its server died mid-call, until the window
ends) a repeat gets 713 and should retry later: running it again could do the work twice.
A call that fails with a response-level error wrote nothing (API-6); its claim is dropped,
so a repeat runs afresh.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, delete, insert, select, update
from sqlalchemy.exc import IntegrityError

from kampanj.api.envelope import BUSINESS_RULE, INVALID_REQUEST, ApiError
from kampanj.api.security import Caller
from kampanj.store.schema import api_idempotency

REPLAY_WINDOW = timedelta(hours=24)  # LIM-26
MAX_KEY_LENGTH = 255
TRANSIENT = "713"
HEADER = "idempotency-key"


@dataclass(frozen=True, kw_only=True, slots=True)
class Keyed:
    """A call carrying an ``Idempotency-Key``."""

    key: str
    fingerprint: str


async def idempotency_key(request: Request) -> Keyed | None:
    """The call's key and fingerprint, or None without the header; a bad key → 1003."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH or not key.isprintable():
        raise ApiError(
            INVALID_REQUEST, f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable characters"
        )
    digest = hashlib.sha256()
    for part in (request.method, request.url.path, request.url.query):
        digest.update(part.encode())
        digest.update(b"\0")
    digest.update(await request.body())
    return Keyed(key=key, fingerprint=digest.hexdigest())


IdempotencyKey = Annotated[Keyed | None, Depends(idempotency_key)]


def once(caller: Caller, keyed: Keyed | None, call: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """``call()``, or the stored response of its first run under the same key."""
    if keyed is None:
        return call()
    database = caller.context.database
    user_id = caller.user.id
    stored = _claim(database.begin, user_id, keyed, caller.context.clock.now())
    if stored is not None:
        return stored
    where = (api_idempotency.c.api_user_id == user_id, api_idempotency.c.key == keyed.key)
    try:
        response = call()
    except BaseException:
        with database.begin() as connection:
            connection.execute(delete(api_idempotency).where(*where))
        raise
    with database.begin() as connection:
        connection.execute(update(api_idempotency).where(*where).values(response=response))
    return response


def _claim(begin: Callable[[], Any], user_id: int, keyed: Keyed, now: Any) -> dict[str, Any] | None:
    """Claim the key for this call (None), or the first call's stored response."""
    where = (api_idempotency.c.api_user_id == user_id, api_idempotency.c.key == keyed.key)
    try:
        with begin() as connection:
            row = connection.execute(select(api_idempotency).where(*where)).first()
            if row is not None and row.created_at > now - REPLAY_WINDOW:
                return _repeat(row, keyed)
            if row is not None:
                connection.execute(delete(api_idempotency).where(*where))
            _insert(connection, user_id, keyed, now)
    except IntegrityError:  # a concurrent first call claimed it a moment ago
        raise _in_progress(keyed) from None
    return None


def _insert(connection: Connection, user_id: int, keyed: Keyed, now: Any) -> None:
    connection.execute(
        insert(api_idempotency).values(
            api_user_id=user_id,
            key=keyed.key,
            fingerprint=keyed.fingerprint,
            response=None,
            created_at=now,
        )
    )


def _repeat(row: Any, keyed: Keyed) -> dict[str, Any]:
    if row.fingerprint != keyed.fingerprint:
        raise ApiError(
            BUSINESS_RULE,
            f"Idempotency-Key {keyed.key!r} was used for another request in the last 24 hours",
        )
    if row.response is None:
        raise _in_progress(keyed)
    response: dict[str, Any] = row.response
    return response


def _in_progress(keyed: Keyed) -> ApiError:
    return ApiError(
        TRANSIENT,
        f"A request with Idempotency-Key {keyed.key!r} is still in progress; retry later",
    )
