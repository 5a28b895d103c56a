"""The Marketo response envelope (API-5, API-6) and the errors that end a call with it."""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# API-12 response-level codes a caller cannot fix by changing the request; not counted (API-9).
TOKEN_INVALID = "601"
TOKEN_EXPIRED = "602"
ACCESS_DENIED = "603"
METHOD_NOT_ALLOWED = "605"
RATE_LIMITED = "606"
UNAVAILABLE = "608"
DAILY_QUOTA = "607"
INVALID_JSON = "609"
NOT_FOUND = "610"
SYSTEM_ERROR = "611"
CONTENT_TYPE = "612"
CONCURRENCY_LIMIT = "615"
BLANK = "701"
NO_ASSET = "702"
INVALID_DATE = "704"
BUSINESS_RULE = "709"
INVALID_REQUEST = "1003"
LEAD_NOT_FOUND = "1004"
OBJECT_NOT_FOUND = "1013"


def request_id() -> str:
    """A fresh ``requestId``: 4 hex digits, ``#``, 11 hex digits (API-5)."""
    token = secrets.token_hex(8)
    return f"{token[:4]}#{token[4:15]}"


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    """One ``errors`` or ``warnings`` item."""

    code: str
    """Marketo code as digits."""
    message: str
    """What went wrong, naming what to fix."""


class ApiError(Exception):
    """Ends a call with ``success:false`` and one error; nothing was written (API-6)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(kw_only=True, slots=True)
class Paging:
    """``moreResult`` / ``nextPageToken`` of a paged Lead Database endpoint (API-7)."""

    more: bool
    """Whether another page may hold results."""
    next_token: str | None = None
    """Token of the next page; omitted when None."""


@dataclass(kw_only=True, slots=True)
class Reply:
    """A successful call's result plus warnings, built by an endpoint."""

    result: Sequence[Any]
    """Result items in input order (API-6)."""
    warnings: list[Issue] = field(default_factory=list)
    """Call-level warnings (codes are integers in the JSON)."""
    paging: Paging | None = None
    """Paging fields, for paged endpoints."""
    extra: Mapping[str, Any] = field(default_factory=dict)
    """Endpoint-specific top-level fields (``nextPageToken`` of pagingtoken.json)."""
    omit_result: bool = False
    """Endpoints whose success has no ``result`` (API-35)."""


def success_body(reply: Reply) -> dict[str, Any]:
    body: dict[str, Any] = {"requestId": request_id(), "success": True}
    if not reply.omit_result:
        body["result"] = list(reply.result)
    body["errors"] = []
    body["warnings"] = [{"code": int(w.code), "message": w.message} for w in reply.warnings]
    if reply.paging is not None:
        body["moreResult"] = reply.paging.more
        if reply.paging.next_token is not None:
            body["nextPageToken"] = reply.paging.next_token
    body.update(reply.extra)
    return body


def failure_body(code: str, message: str) -> dict[str, Any]:
    return {
        "requestId": request_id(),
        "success": False,
        "errors": [{"code": code, "message": message}],
        "warnings": [],
    }


def skipped(code: str, message: str, **fields: Any) -> dict[str, Any]:
    """A record-level problem: the item is skipped, the call still succeeds (API-6)."""
    return {**fields, "status": "skipped", "reasons": [{"code": code, "message": message}]}
