"""``/identity/oauth/token``: client credentials → access token (API-2, API-3).

Its answers are OAuth's, not the envelope: HTTP 200 with the token, 401 for bad
credentials, 400 for a missing or unsupported grant type. Identity calls are never
counted against the limits (API-9).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from kampanj.api.context import api_context
from kampanj.api.users import authenticate, issue_token

router = APIRouter(tags=["identity"])
_GRANT = "client_credentials"


async def _parameters(request: Request) -> dict[str, str]:
    found = dict(request.query_params)
    if request.method == "POST":
        raw = await request.body()
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media == "application/x-www-form-urlencoded" and raw:
            for name, value in parse_qsl(raw.decode("utf-8", errors="replace")):
                found.setdefault(name, value)
    return found


@router.get("/identity/oauth/token")
async def token(request: Request) -> JSONResponse:
    """An access token for ``client_id`` / ``client_secret`` in the query (API-2)."""
    return await _token(request)


@router.post("/identity/oauth/token")
async def token_from_form(request: Request) -> JSONResponse:
    """An access token; the credentials may also come as a form body (API-2)."""
    return await _token(request)


async def _token(request: Request) -> JSONResponse:
    parameters = await _parameters(request)
    grant = parameters.get("grant_type")
    if not grant:
        return JSONResponse({"error": "invalid_request"}, status_code=400)
    if grant != _GRANT:
        return JSONResponse({"error": "unsupported_grant_type"}, status_code=400)
    context = api_context(request)
    client_id = parameters.get("client_id", "")
    secret = parameters.get("client_secret", "")
    body: dict[str, Any] | None = None
    with context.database.begin() as connection:
        user = authenticate(connection, client_id, secret) if client_id and secret else None
        if user is not None:
            now = context.clock.now()
            access = issue_token(
                connection,
                user,
                now=now,
                lifetime=context.settings.token_lifetime_seconds,
                account_id=context.settings.account_id,
            )
            body = {
                "access_token": access.token,
                "token_type": "bearer",
                "expires_in": access.seconds_left(now),
                "scope": user.email,
            }
    if body is None:
        return JSONResponse(
            {"error": "unauthorized", "error_description": "Bad client credentials"},
            status_code=401,
        )
    return JSONResponse(body)
