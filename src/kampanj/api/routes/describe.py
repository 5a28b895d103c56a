"""Lead field descriptions: describe, describe2, schema fields (API-30, GEN-10)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kampanj.api.envelope import Paging, Reply, success_body
from kampanj.api.formats import page_token, token_position
from kampanj.api.people import searchable
from kampanj.api.requests import batch_size
from kampanj.api.security import Reader
from kampanj.model.conversions import MAX_STRING_LENGTH
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.store.registry import load_field_registry

router = APIRouter(prefix="/rest/v1/leads", tags=["leads"])


def _registry(caller: Reader) -> FieldRegistry:
    with caller.context.database.read() as connection:
        return load_field_registry(connection)


def _length(field: FieldDef) -> int | None:
    return MAX_STRING_LENGTH if field.data_type in (FieldType.STRING, FieldType.EMAIL) else None


def _numbered(registry: FieldRegistry) -> list[tuple[int, FieldDef]]:
    """Fields with ids: their registry position, stable because fields are never deleted."""
    return list(enumerate(registry, start=1))


def field_numbers(registry: FieldRegistry) -> dict[str, int]:
    """Field id (``describe`` ``id``) by REST name."""
    return {f.name: number for number, f in _numbered(registry)}


@router.get("/describe.json")
def describe(caller: Reader) -> dict[str, Any]:
    """Every lead field with REST and SOAP names (API-30)."""
    result = [
        {
            "id": number,
            "displayName": f.display_name,
            "dataType": f.data_type.value,
            "length": _length(f),
            "rest": {"name": f.name, "readOnly": f.read_only},
            "soap": {"name": f.name, "readOnly": f.read_only},
        }
        for number, f in _numbered(_registry(caller))
    ]
    return success_body(Reply(result=result))


@router.get("/describe2.json")
def describe2(caller: Reader) -> dict[str, Any]:
    """The lead object: searchable fields and every field (API-30)."""
    registry = _registry(caller)
    result = [
        {
            "name": "API Lead",
            "searchableFields": [[f.name] for f in registry if searchable(f)],
            "fields": [
                {
                    "name": f.name,
                    "displayName": f.display_name,
                    "dataType": f.data_type.value,
                    "length": _length(f),
                    "updateable": not f.read_only,
                }
                for f in registry
            ],
        }
    ]
    return success_body(Reply(result=result))


@router.get("/schema/fields.json")
def schema_fields(
    caller: Reader,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Lead fields, paged (API-30)."""
    size = batch_size(batch)
    offset = token_position(next_page_token, "fields")
    fields = list(_registry(caller))
    page = fields[offset : offset + size]
    more = offset + size < len(fields)
    return success_body(
        Reply(
            result=[
                {
                    "displayName": f.display_name,
                    "name": f.name,
                    "description": "",
                    "dataType": f.data_type.value,
                    "length": _length(f),
                    "isHidden": False,
                    "isHtmlEncodingInEmail": f.is_html_encoding_in_email,
                    "isSensitive": False,
                    "isCustom": f.is_custom,
                }
                for f in page
            ],
            paging=Paging(
                more=more,
                next_token=page_token("fields", offset + size) if more else None,
            ),
        )
    )
