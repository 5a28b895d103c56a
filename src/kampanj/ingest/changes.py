"""Activities logged by person writes outside flows (ACT-5, ACT-7)."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from kampanj.model.activities import StandardActivity
from kampanj.model.conversions import format_value
from kampanj.model.fields import FieldDef
from kampanj.model.people import FieldValue
from kampanj.store.activities_repo import activity_row

IMPORT_SOURCE = "Import"  # ACT-5: Source of activities written by CLI imports


def new_lead(
    person_id: int, now: datetime, zone: tzinfo, source: str = IMPORT_SOURCE
) -> dict[str, Any]:
    """New Lead (12) for a person created at ``now``."""
    return {**new_lead_shared(now, zone, source), "person_id": person_id}


def new_lead_shared(now: datetime, zone: tzinfo, source: str = IMPORT_SOURCE) -> dict[str, Any]:
    """The columns of New Lead (12) that are the same for everyone created at ``now``."""
    row = activity_row(
        person_id=0,
        activity_type_id=StandardActivity.NEW_LEAD,
        activity_date=now,
        attributes={
            "Source Type": source,
            "Created Date": now.astimezone(zone).date().isoformat(),
        },
    )
    del row["person_id"]
    return row


def change_data_value(
    person_id: int,
    field: FieldDef,
    old: FieldValue,
    new: FieldValue,
    now: datetime,
    source: str = IMPORT_SOURCE,
) -> dict[str, Any]:
    """Change Data Value (13) for one field whose stored value changed from ``old`` to ``new``."""
    return activity_row(
        person_id=person_id,
        activity_type_id=StandardActivity.CHANGE_DATA_VALUE,
        activity_date=now,
        primary_attribute_value=field.display_name,
        attributes={
            "Attribute Name": field.display_name,
            "Old Value": format_value(old),
            "New Value": format_value(new),
            "Source": source,
        },
    )
