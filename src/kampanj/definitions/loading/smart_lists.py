"""Converting smart lists (stand-alone or a campaign's) against the catalogue (phase 2)."""

from __future__ import annotations

from typing import Any

from kampanj.definitions import document as d
from kampanj.definitions.loading.state import LoadState, Pending
from kampanj.definitions.rules import parse_logic, parse_rule
from kampanj.definitions.sources import object_key
from kampanj.definitions.yaml_source import DataPath
from kampanj.model.smartlists import SmartList, SmartListRules
from kampanj.smartlist.catalogue import Catalogue

__all__ = ["convert_rules", "convert_smart_list"]


def convert_rules(
    raw_triggers: list[Any],
    raw_filters: list[Any],
    logic: str | None,
    catalogue: Catalogue,
    mark: Any,
    base: DataPath,
    prefix: str,
) -> SmartListRules:
    """Triggers, filters and logic, each rule's position recorded through ``mark``."""
    triggers = []
    for index, raw in enumerate(raw_triggers):
        mark(f"{prefix}triggers[{index + 1}]", (*base, "triggers", index))
        _mark_conditions(mark, f"{prefix}triggers[{index + 1}]", raw, (*base, "triggers", index))
        triggers.append(parse_rule(raw, catalogue, trigger=True))
    filters = []
    for index, raw in enumerate(raw_filters):
        mark(f"{prefix}filters[{index + 1}]", (*base, "filters", index))
        _mark_conditions(mark, f"{prefix}filters[{index + 1}]", raw, (*base, "filters", index))
        filters.append(parse_rule(raw, catalogue, trigger=False))
    mark(f"{prefix}logic", (*base, "logic"))
    match_type, advanced = parse_logic(logic)
    return SmartListRules(
        triggers=tuple(triggers),
        filters=tuple(filters),
        match_type=match_type,
        advanced_logic=advanced,
    )


def convert_smart_list(
    state: LoadState, pending: Pending, doc: d.SmartListDoc, catalogue: Catalogue
) -> None:
    key = object_key(
        SmartList(
            workspace=pending.workspace,
            folder=pending.folder,
            name=doc.name,
            rules=SmartListRules(),
        )
    )
    occurrence = state.start(key, pending.source, pending.path)

    def mark(location: str, path: DataPath) -> None:
        state.mark(key, occurrence, location, pending.source, (*pending.path, *path))

    rules = convert_rules(doc.triggers, doc.filters, doc.logic, catalogue, mark, (), "")
    state.smart_lists.append(
        SmartList(
            workspace=pending.workspace,
            folder=pending.folder,
            name=doc.name,
            rules=rules,
            description=doc.description,
            key=doc.key,
        )
    )


def _mark_conditions(mark: Any, location: str, raw: Any, path: DataPath) -> None:
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, body),) = raw.items()
        if isinstance(body, dict):
            for key in body:
                mark(f"{location}.{key}", (*path, name, key))
