"""Asset API records: smart lists with rules, folders and programs (API-26, API-27)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, select

from kampanj.api.formats import asset_time
from kampanj.api.tree import FolderRow, Tree
from kampanj.model.fields import FieldRegistry
from kampanj.model.settings import AccountSettings
from kampanj.model.smartlists import Condition, Rule, SmartListRules
from kampanj.model.tree import FolderKind
from kampanj.smartlist.catalogue import (
    DATE_OF_ACTIVITY,
    MIN_NUMBER_OF_TIMES,
    Catalogue,
    CatalogueEntry,
    RuleKind,
)
from kampanj.store.registry import load_activity_types, load_field_registry
from kampanj.store.schema import setting

DATE_OF_ACTIVITY_ID = -101  # API-26
MIN_NUMBER_OF_TIMES_ID = -102  # API-26


def base_url(connection: Connection) -> str:
    """Setting ``publicBaseUrl`` (TOK-7), the base of ``computedUrl``."""
    value = connection.execute(
        select(setting.c.value).where(setting.c.name == "publicBaseUrl")
    ).scalar()
    return value if isinstance(value, str) and value else AccountSettings().public_base_url


def folder_ref(row: FolderRow) -> dict[str, Any]:
    return {"id": row.id, "type": row.kind.value}


class RuleWriter:
    """Smart list rules in the API-26 shape, with type and attribute ids."""

    def __init__(self, connection: Connection) -> None:
        self.fields: FieldRegistry = load_field_registry(connection)
        self.catalogue = Catalogue(self.fields, load_activity_types(connection))
        self.field_ids = {f.name: n for n, f in enumerate(self.fields, start=1)}

    def rules(self, rules: SmartListRules) -> dict[str, Any]:
        return {
            "filterMatchType": rules.match_type.value,
            "advancedLogic": rules.advanced_logic,
            "triggers": [
                self._rule(n, r, self.catalogue.trigger(r.name))
                for n, r in enumerate(rules.triggers, 1)
            ],
            "filters": [
                self._rule(n, r, self.catalogue.filter(r.name))
                for n, r in enumerate(rules.filters, 1)
            ],
        }

    def _rule(self, number: int, rule: Rule, entry: CatalogueEntry | None) -> dict[str, Any]:
        kind = entry.kind if entry else RuleKind.ATTRIBUTE
        rule_type = {RuleKind.ATTRIBUTE: "Attribute", RuleKind.MEMBERSHIP: "Membership"}.get(
            kind, "Activity"
        )
        type_id: int | None = None
        if entry is not None and entry.activity_type is not None:
            type_id = entry.activity_type.id
        elif entry is not None and entry.field is not None:
            type_id = self.field_ids.get(entry.field.name)
        conditions: list[dict[str, Any]] = []
        if rule.operator is not None:
            conditions.append(
                {
                    "activityAttributeId": None,
                    "activityAttributeName": None,
                    "operator": rule.operator,
                    "values": list(rule.values),
                    "isPrimary": True,
                }
            )
        if rule.primary is not None:
            conditions.append(self._condition(rule.primary, entry, primary=True))
        conditions += [self._condition(c, entry, primary=False) for c in rule.constraints]
        operator = rule.operator or (rule.primary.operator if rule.primary else None)
        return {
            "id": number,
            "name": entry.name if entry else rule.name,
            "ruleTypeId": type_id,
            "ruleType": rule_type,
            "operator": operator,
            "conditions": conditions,
        }

    @staticmethod
    def _condition(
        condition: Condition, entry: CatalogueEntry | None, *, primary: bool
    ) -> dict[str, Any]:
        attribute_id: int | None = None
        name = condition.name
        if condition.name.casefold() == DATE_OF_ACTIVITY.casefold():
            attribute_id, name = DATE_OF_ACTIVITY_ID, DATE_OF_ACTIVITY
        elif condition.name.casefold() == MIN_NUMBER_OF_TIMES.casefold():
            attribute_id, name = MIN_NUMBER_OF_TIMES_ID, MIN_NUMBER_OF_TIMES
        elif entry is not None and entry.activity_type is not None:
            attributes = entry.activity_type.all_attributes
            for position, attribute in enumerate(attributes, 1):
                if attribute.name.casefold() == condition.name.casefold() or (
                    primary and attribute is entry.activity_type.primary
                ):
                    attribute_id, name = position, attribute.name
                    break
        return {
            "activityAttributeId": attribute_id,
            "activityAttributeName": name,
            "operator": condition.operator,
            "values": list(condition.values),
            "isPrimary": primary,
        }


def smart_list_json(
    *,
    item_id: int,
    name: str,
    description: str,
    folder: FolderRow,
    workspace: str,
    created_at: Any,
    updated_at: Any,
    url: str,
    rules: SmartListRules | None,
    writer: RuleWriter | None,
) -> dict[str, Any]:
    """API-26 record; ``rules`` only when asked (``includeRules=true``)."""
    record: dict[str, Any] = {
        "id": item_id,
        "name": name,
        "description": description,
        "folder": folder_ref(folder),
        "workspace": workspace,
        "createdAt": asset_time(created_at),
        "updatedAt": asset_time(updated_at),
        "url": url,
    }
    if rules is not None and writer is not None:
        record["rules"] = writer.rules(rules)
    return record


def folder_json(row: FolderRow, tree: Tree) -> dict[str, Any]:
    """API-27 folder or program record."""
    parent = tree.folders[row.parent_id] if row.parent_id is not None else None
    record: dict[str, Any] = {
        "id": row.id,
        "name": row.name if row.parent_id is not None else tree.workspace_of(row.id),
        "description": row.description,
        "type": row.kind.value,
        "folderId": {"id": row.id, "type": row.kind.value},
        "parent": folder_ref(parent) if parent else None,
        "path": tree.path_of(row.id),
        "workspace": tree.workspace_of(row.id),
        "isSystem": row.parent_id is None,
        "createdAt": asset_time(row.created_at),
        "updatedAt": asset_time(row.updated_at),
    }
    if row.kind is FolderKind.PROGRAM:
        record["folder"] = record["parent"]
        record["channel"] = row.channel
    return record
