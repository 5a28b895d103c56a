"""Leads: upsert, query, get, delete, smart campaign membership (API-28, 29, 31, 32)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import func, or_, select

from kampanj.api.envelope import (
    INVALID_REQUEST,
    LEAD_NOT_FOUND,
    ApiError,
    Paging,
    Reply,
    skipped,
    success_body,
)
from kampanj.api.formats import field_json, lead_time, page_token, token_position
from kampanj.api.idempotency import IdempotencyKey, once
from kampanj.api.people import (
    FIELD_NOT_FOUND,
    NOT_SEARCHABLE,
    Action,
    UpsertContext,
    delete_people,
    matching,
    searchable,
    upsert,
)
from kampanj.api.requests import (
    MAX_BATCH_SIZE,
    batch_size,
    body_object,
    comma_list,
    input_records,
    json_body,
)
from kampanj.api.security import Caller, Reader, Writer
from kampanj.api.triggers import offer_to_triggers
from kampanj.ingest.account import account_zone
from kampanj.model.conversions import ValueConversionError, text_parser
from kampanj.model.fields import FieldDef, FieldRegistry
from kampanj.model.people import FieldValue
from kampanj.store.people_repo import existing_ids
from kampanj.store.registry import load_field_registry, person_table
from kampanj.store.repositories.reading import load_folder_index
from kampanj.store.schema import campaign, campaign_member

router = APIRouter(prefix="/rest/v1", tags=["leads"])

DEFAULT_FIELDS = ("id", "email", "firstName", "lastName", "createdAt", "updatedAt")  # API-29
MAX_MATCHES = 1_000  # LIM-4


def wanted_fields(registry: FieldRegistry, fields: str | None) -> list[FieldDef]:
    """The ``fields`` parameter as field definitions (API-29 defaults), or 1006."""
    names = comma_list(fields) or list(DEFAULT_FIELDS)
    found: list[FieldDef] = []
    for name in names:
        field = registry.get(name)
        if field is None:
            raise ApiError(FIELD_NOT_FOUND, f"Field '{name}' not found")
        if field not in found:
            found.append(field)
    return found


def lead_json(row: Any, fields: Sequence[FieldDef]) -> dict[str, Any]:
    """One lead record: ``id`` first, then the asked fields by REST name."""
    record: dict[str, Any] = {"id": row["id"]}
    for field in fields:
        record[field.name] = field_json(row[field.column])
    return record


@router.post("/leads.json")
def sync_leads(
    caller: Writer, keyed: IdempotencyKey, document: Annotated[Any, Depends(json_body)]
) -> dict[str, Any]:
    """Create or update up to 300 leads (API-28); ``Idempotency-Key`` replays (LEDG-6)."""
    return once(caller, keyed, lambda: _sync_leads(caller, document))


def _sync_leads(caller: Caller, document: Any) -> dict[str, Any]:
    body = body_object(document)
    raw_action = body.get("action") or Action.CREATE_OR_UPDATE.value
    try:
        action = Action(raw_action)
    except ValueError:
        choices = ", ".join(a.value for a in Action)
        raise ApiError(
            INVALID_REQUEST, f"action must be one of {choices}, not {raw_action!r}"
        ) from None
    records = input_records(body)
    database, now = caller.context.database, caller.context.clock.now()
    with database.begin() as connection:
        registry = load_field_registry(connection)
        lookup_name = str(body.get("lookupField") or "email")
        lookup = registry.get(lookup_name)
        if lookup is None:
            raise ApiError(FIELD_NOT_FOUND, f"Field '{lookup_name}' not found")
        if not searchable(lookup):
            raise ApiError(NOT_SEARCHABLE, f"Field '{lookup.name}' cannot be used for lookup")
        context = UpsertContext(
            registry=registry,
            table=person_table(registry),
            zone=account_zone(connection),
            action=action,
            lookup=lookup,
            now=now,
        )
        result = upsert(connection, context, records)
    offer_to_triggers(caller.context)
    return success_body(Reply(result=result))


def _filter_values(field: FieldDef, values: list[str], zone: Any) -> list[FieldValue]:
    parse = text_parser(field.data_type, zone)
    try:
        return [parse(v) for v in values]
    except ValueConversionError as error:
        raise ApiError(INVALID_REQUEST, f"Invalid filterValues for {field.name}: {error}") from None


@router.get("/leads.json")
def get_leads(
    caller: Reader,
    filter_type: Annotated[str | None, Query(alias="filterType")] = None,
    filter_values: Annotated[str | None, Query(alias="filterValues")] = None,
    fields: str | None = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Leads whose ``filterType`` field has one of ``filterValues`` (API-29)."""
    if not filter_type:
        raise ApiError("701", "filterType cannot be blank")
    values = comma_list(filter_values)
    if not values:
        raise ApiError("701", "filterValues cannot be blank")
    if len(values) > MAX_BATCH_SIZE:
        raise ApiError(INVALID_REQUEST, f"at most {MAX_BATCH_SIZE} filterValues are allowed")
    size = batch_size(batch)
    offset = token_position(next_page_token, "leads")
    with caller.context.database.read() as connection:
        registry = load_field_registry(connection)
        field = registry.get(filter_type)
        if field is None:
            raise ApiError(FIELD_NOT_FOUND, f"Field '{filter_type}' not found")
        if not searchable(field):
            raise ApiError(NOT_SEARCHABLE, f"Field '{field.name}' cannot be used for lookup")
        selected = wanted_fields(registry, fields)
        parsed = _filter_values(field, values, account_zone(connection))
        table = person_table(registry)
        condition = or_(*(matching(table, field, v) for v in parsed))
        total = connection.execute(
            select(func.count()).select_from(table).where(condition)
        ).scalar_one()
        if total > MAX_MATCHES:
            raise ApiError(
                INVALID_REQUEST, f"{total} leads match; narrow the filter to {MAX_MATCHES} or fewer"
            )
        rows = list(
            connection.execute(
                select(table).where(condition).order_by(table.c.id).offset(offset).limit(size)
            ).mappings()
        )
    more = offset + len(rows) < total
    token = page_token("leads", offset + len(rows)) if more else None
    return success_body(
        Reply(
            result=[lead_json(r, selected) for r in rows],
            paging=Paging(more=more, next_token=token),
        )
    )


@router.get("/lead/{lead_id:int}.json")
def get_lead(caller: Reader, lead_id: int, fields: str | None = None) -> dict[str, Any]:
    """Zero or one lead by id (API-29)."""
    with caller.context.database.read() as connection:
        registry = load_field_registry(connection)
        selected = wanted_fields(registry, fields)
        table = person_table(registry)
        row = connection.execute(select(table).where(table.c.id == lead_id)).mappings().first()
    return success_body(Reply(result=[] if row is None else [lead_json(row, selected)]))


def _input_ids(records: list[Any], key: str = "id") -> list[int | None]:
    ids: list[int | None] = []
    for record in records:
        value = record.get(key) if isinstance(record, dict) else None
        ids.append(value if isinstance(value, int) and not isinstance(value, bool) else None)
    return ids


@router.post("/leads/delete.json")
def delete_leads(caller: Writer, document: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Delete up to 300 leads by id (API-31)."""
    ids = _input_ids(input_records(body_object(document)))
    with caller.context.database.begin() as connection:
        deleted = delete_people(
            connection, [i for i in ids if i is not None], caller.context.clock.now()
        )
    result: list[dict[str, Any]] = []
    for person_id in ids:
        if person_id is None:
            result.append(skipped(INVALID_REQUEST, "Each input record needs an integer id"))
        elif deleted.get(person_id):
            result.append({"id": person_id, "status": "deleted"})
            deleted[person_id] = False  # a repeated id is deleted once
        else:
            result.append(skipped(LEAD_NOT_FOUND, "Lead not found", id=person_id))
    offer_to_triggers(caller.context)
    return success_body(Reply(result=result))


@router.get("/leads/{lead_id:int}/smartCampaignMembership.json")
def smart_campaign_membership(
    caller: Reader,
    lead_id: int,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """The campaigns a lead is a member of, by campaign id (API-32, CMP-20)."""
    size = batch_size(batch)
    after = token_position(next_page_token, "scm")
    with caller.context.database.read() as connection:
        if not existing_ids(connection, [lead_id]):
            raise ApiError(LEAD_NOT_FOUND, f"Lead {lead_id} not found")
        index = load_folder_index(connection)
        rows = connection.execute(
            select(campaign_member, campaign.c.workspace_id)
            .join(campaign, campaign.c.id == campaign_member.c.campaign_id)
            .where(campaign_member.c.person_id == lead_id, campaign_member.c.campaign_id > after)
            .order_by(campaign_member.c.campaign_id)
        ).all()
    visible = [r for r in rows if caller.user.reaches(index.workspace_names[r.workspace_id])]
    page = visible[:size]
    more = len(visible) > size
    token = page_token("scm", page[-1].campaign_id) if more else None
    return success_body(
        Reply(
            result=[
                {
                    "smartCampaignId": r.campaign_id,
                    "createdAt": lead_time(r.created_at),
                    "updatedAt": lead_time(r.updated_at),
                }
                for r in page
            ],
            paging=Paging(more=more, next_token=token),
        )
    )
