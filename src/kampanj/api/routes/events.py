"""Writes that record events: push lead, submit form (API-31), external activities (API-37).

They write activities with ``Source = Web Service API`` (ACT-5). Trigger campaigns will see
them once the engine dispatches triggers (ACT-6); today nothing is fired.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy import Connection

from kampanj.api.envelope import (
    BLANK,
    INVALID_REQUEST,
    LEAD_NOT_FOUND,
    OBJECT_NOT_FOUND,
    ApiError,
    Reply,
    success_body,
)
from kampanj.api.formats import parse_instant
from kampanj.api.people import API_SOURCE, Action, UpsertContext, upsert
from kampanj.api.requests import body_object, input_records, json_body
from kampanj.api.security import Caller, Writer
from kampanj.api.tree import FolderRow, Tree
from kampanj.api.triggers import offer_to_triggers
from kampanj.ingest.account import account_zone
from kampanj.model.activities import (
    CUSTOM_ACTIVITY_TYPE_MIN_ID,
    ActivityTypeDef,
    StandardActivity,
)
from kampanj.model.conversions import (
    CLEAR,
    UNCHANGED,
    ValueConversionError,
    convert_json,
    json_value,
)
from kampanj.model.fields import FieldType
from kampanj.model.names import fold
from kampanj.model.tree import FolderKind
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.people_repo import existing_ids
from kampanj.store.registry import load_activity_types, load_field_registry, person_table

router = APIRouter(prefix="/rest/v1", tags=["events"])

# visitorData keys of submitForm → Fill Out Form (2) attributes
_VISITOR_ATTRIBUTES = {
    "pageURL": "Webpage ID",
    "queryString": "Query Parameters",
    "leadClientIpAddress": "Client IP Address",
    "userAgentString": "User Agent",
    "referrerURL": "Referrer URL",
}


def _upsert_context(connection: Connection, caller: Caller, lookup: str) -> UpsertContext:
    registry = load_field_registry(connection)
    field = registry.get(lookup)
    if field is None:
        raise ApiError("1006", f"Field '{lookup}' not found")
    return UpsertContext(
        registry=registry,
        table=person_table(registry),
        zone=account_zone(connection),
        action=Action.CREATE_OR_UPDATE,
        lookup=field,
        now=caller.context.clock.now(),
    )


def _program(connection: Connection, caller: Caller, name: str) -> FolderRow:
    tree = Tree(connection)
    found = [
        row
        for row in tree.folders.values()
        if row.kind is FolderKind.PROGRAM and fold(row.name) == fold(name)
    ]
    if not found:
        raise ApiError(OBJECT_NOT_FOUND, f"Program {name!r} not found")
    reachable = [row for row in found if caller.user.reaches(tree.workspace_of(row.id))]
    if not reachable:
        caller.check_workspace(tree.workspace_of(found[0].id), f"program {name!r}")
    return reachable[0]


def _created_or_updated(results: list[dict[str, Any]]) -> list[int]:
    return [item["id"] for item in results if item.get("status") in ("created", "updated")]


@router.post("/leads/push.json")
def push_leads(caller: Writer, document: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Upsert leads into a program's context and write Push Lead (145) each (API-31)."""
    body = body_object(document)
    program_name = body.get("programName")
    if not program_name:
        raise ApiError(BLANK, "programName cannot be blank")
    records = input_records(body)
    with caller.context.database.begin() as connection:
        program = _program(connection, caller, str(program_name))
        context = _upsert_context(connection, caller, str(body.get("lookupField") or "email"))
        results = upsert(connection, context, records)
        attributes = {"Source": body.get("source") or API_SOURCE, "Reason": body.get("reason")}
        insert_activities(
            connection,
            [
                activity_row(
                    person_id=person_id,
                    activity_type_id=StandardActivity.PUSH_LEAD,
                    activity_date=context.now,
                    primary_attribute_value=program.name,
                    primary_attribute_value_id=program.id,
                    attributes=attributes,
                )
                for person_id in _created_or_updated(results)
            ],
        )
    offer_to_triggers(caller.context)
    return success_body(Reply(result=results))


@router.post("/leads/submitForm.json")
def submit_form(caller: Writer, document: Annotated[Any, Depends(json_body)]) -> dict[str, Any]:
    """Upsert by email and write Fill Out Form (2) per submission (API-31)."""
    body = body_object(document)
    form_id = body.get("formId")
    if form_id is None or str(form_id).strip() == "":
        raise ApiError(BLANK, "formId cannot be blank")
    submissions = input_records(body)
    fields: list[Any] = []
    for item in submissions:
        values = item.get("leadFormFields") if isinstance(item, dict) else None
        if not isinstance(values, dict):
            raise ApiError(INVALID_REQUEST, "each input item needs a leadFormFields object")
        fields.append(values)
    with caller.context.database.begin() as connection:
        context = _upsert_context(connection, caller, "email")
        results = upsert(connection, context, fields)
        rows = []
        for item, result, values in zip(submissions, results, fields, strict=True):
            if result.get("status") not in ("created", "updated"):
                continue
            visitor = item.get("visitorData") or {}
            attributes: dict[str, object] = {"Form Fields": json.dumps(values, sort_keys=True)}
            if isinstance(visitor, dict):
                for key, name in _VISITOR_ATTRIBUTES.items():
                    if visitor.get(key) is not None:
                        attributes[name] = str(visitor[key])
            rows.append(
                activity_row(
                    person_id=result["id"],
                    activity_type_id=StandardActivity.FILL_OUT_FORM,
                    activity_date=context.now,
                    primary_attribute_value=str(form_id),
                    primary_attribute_value_id=form_id if isinstance(form_id, int) else None,
                    attributes=attributes,
                )
            )
        insert_activities(connection, rows)
    offer_to_triggers(caller.context)
    return success_body(Reply(result=results))


def _external_row(
    index: int, record: object, types: dict[int, ActivityTypeDef], zone: Any
) -> dict[str, Any]:
    """One custom activity as a row, or 1003 naming the record and the problem (ACT-9)."""
    where = f"input[{index}]"
    if not isinstance(record, dict):
        raise ApiError(INVALID_REQUEST, f"{where} must be an object")
    type_id = record.get("activityTypeId")
    activity_type = types.get(type_id) if isinstance(type_id, int) else None
    if activity_type is None:
        raise ApiError(INVALID_REQUEST, f"{where}: activityTypeId {type_id!r} is not a custom type")
    if not record.get("activityDate"):
        raise ApiError(BLANK, f"{where}: activityDate cannot be blank")
    date = parse_instant(str(record["activityDate"]), f"{where}.activityDate")
    attributes: dict[str, object] = {}
    for item in record.get("attributes") or []:
        name = item.get("name") if isinstance(item, dict) else None
        attribute = activity_type.attribute(str(name)) if name else None
        if attribute is None or attribute is activity_type.primary:
            raise ApiError(
                INVALID_REQUEST, f"{where}: {activity_type.name!r} has no attribute {name!r}"
            )
        try:
            value = convert_json(attribute.data_type, item.get("value"), zone)
        except ValueConversionError as error:
            raise ApiError(INVALID_REQUEST, f"{where}: {attribute.name}: {error}") from None
        if value is not UNCHANGED and value is not CLEAR:
            attributes[attribute.name] = json_value(value)
    primary = record.get("primaryAttributeValue")
    if activity_type.primary is not None and activity_type.primary.data_type is not FieldType.TEXT:
        if primary is None or str(primary) == "":
            raise ApiError(BLANK, f"{where}: primaryAttributeValue cannot be blank")
    return activity_row(
        person_id=record.get("leadId"),  # type: ignore[arg-type]  # checked by the caller
        activity_type_id=activity_type.id,
        activity_date=date,
        primary_attribute_value=None if primary is None else str(primary),
        attributes=attributes,
    )


@router.post("/activities/external.json")
def external_activities(
    caller: Writer, document: Annotated[Any, Depends(json_body)]
) -> dict[str, Any]:
    """Record custom activities (API-37); any bad record refuses the call (ACT-9)."""
    records = input_records(body_object(document))
    with caller.context.database.begin() as connection:
        types = {
            t.id: t
            for t in load_activity_types(connection)
            if t.is_custom or t.id >= CUSTOM_ACTIVITY_TYPE_MIN_ID
        }
        zone = account_zone(connection)
        rows = [_external_row(i, r, types, zone) for i, r in enumerate(records)]
        leads = [row["person_id"] for row in rows]
        valid = [lead for lead in leads if isinstance(lead, int) and not isinstance(lead, bool)]
        known = existing_ids(connection, valid)
        missing = [lead for lead in leads if lead not in known]
        if missing:
            raise ApiError(LEAD_NOT_FOUND, f"Lead {missing[0]!r} not found")
        insert_activities(connection, rows)
    offer_to_triggers(caller.context)
    return success_body(Reply(result=[{"status": "added"} for _ in rows]))
