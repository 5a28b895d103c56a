"""Reading requests: JSON and form bodies (API-1), comma lists, batch sizes (API-7)."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import Request

from kampanj.api.envelope import BLANK, CONTENT_TYPE, INVALID_JSON, INVALID_REQUEST, ApiError

MAX_BATCH_SIZE = 300  # API-7, LIM-3
_JSON = "application/json"
_FORM = "application/x-www-form-urlencoded"


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _parse_json(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(INVALID_JSON, f"Invalid JSON: {error}") from None


async def json_body(request: Request) -> Any:
    """The JSON body; 612 unless ``Content-Type: application/json``, 609 if unparseable."""
    raw = await request.body()
    if _media_type(request) != _JSON:
        raise ApiError(CONTENT_TYPE, f"Content type must be {_JSON}")
    return _parse_json(raw)


async def optional_json_body(request: Request) -> Any:
    """Like `json_body`, but an empty body (any content type) is ``{}``."""
    raw = await request.body()
    if not raw.strip():
        return {}
    if _media_type(request) != _JSON:
        raise ApiError(CONTENT_TYPE, f"Content type must be {_JSON}")
    return _parse_json(raw)


async def json_or_form_body(request: Request) -> dict[str, Any]:
    """A JSON object or form fields (Asset writes and identity, API-1); else 612 / 609."""
    raw = await request.body()
    media = _media_type(request)
    if media == _FORM:
        return dict(parse_qsl(raw.decode("utf-8", errors="replace"), keep_blank_values=True))
    if media != _JSON:
        raise ApiError(CONTENT_TYPE, f"Content type must be {_JSON} or {_FORM}")
    document = _parse_json(raw)
    if not isinstance(document, dict):
        raise ApiError(INVALID_REQUEST, "The body must be a JSON object")
    return document


def body_object(document: Any) -> dict[str, Any]:
    if not isinstance(document, dict):
        raise ApiError(INVALID_REQUEST, "The body must be a JSON object")
    return document


def input_records(document: dict[str, Any], *, limit: int = MAX_BATCH_SIZE) -> list[Any]:
    """The ``input`` array: present (701), a list (1003), at most ``limit`` (1003, LIM-3)."""
    records = document.get("input")
    if records is None or records == []:
        raise ApiError(BLANK, "input cannot be blank")
    if not isinstance(records, list):
        raise ApiError(INVALID_REQUEST, "input must be an array of records")
    if len(records) > limit:
        raise ApiError(
            INVALID_REQUEST, f"input has {len(records)} records; at most {limit} are allowed"
        )
    return records


def comma_list(value: str | None) -> list[str]:
    """``a,b,c`` → ``["a", "b", "c"]`` with blanks dropped."""
    if value is None:
        return []
    return [part.strip() for part in value.split(",") if part.strip()]


def int_list(value: str | None, name: str) -> list[int]:
    """A comma list of integers, or 1003 naming ``name``."""
    try:
        return [int(part) for part in comma_list(value)]
    except ValueError:
        raise ApiError(
            INVALID_REQUEST, f"{name} must be a comma-separated list of integers"
        ) from None


def batch_size(value: str | None) -> int:
    """``batchSize`` (1-300, default 300), else 1003 (API-7)."""
    if value is None or value == "":
        return MAX_BATCH_SIZE
    try:
        size = int(value)
    except ValueError:
        size = 0
    if not 1 <= size <= MAX_BATCH_SIZE:
        raise ApiError(INVALID_REQUEST, f"batchSize must be 1-{MAX_BATCH_SIZE}, not {value!r}")
    return size


def flag(value: str | None, name: str) -> bool | None:
    """A ``true``/``false`` query parameter, or None when absent."""
    if value is None or value == "":
        return None
    lowered = value.strip().lower()
    if lowered in ("true", "false"):
        return lowered == "true"
    raise ApiError(INVALID_REQUEST, f"{name} must be true or false, not {value!r}")
