"""`kampanj runs show ID --person P`: one person's nested execution of a run (PROV-3)."""

from __future__ import annotations

from typing import Any

from kampanj.cli.common import console, open_database, print_json
from kampanj.engine.trace import Trace, TraceCall, build_trace
from kampanj.store.registry import load_field_registry
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.stored import load_token_tree

_SHOWN_ATTRIBUTES = ("Attribute Name", "Old Value", "New Value", "Change Value", "Description")


def show_trace(run_id: int, person_id: int, db: str | None, as_json: bool) -> None:
    database = open_database(db)
    try:
        with database.read() as connection:
            definitions = read_definitions(connection)
            tree, _ = load_token_tree(connection, definitions)
            trace = build_trace(
                connection, run_id, person_id, definitions, tree, load_field_registry(connection)
            )
    finally:
        database.dispose()
    if as_json:
        print_json(trace.to_json())
        return
    for line in trace_lines(trace):
        console.print(line, highlight=False, markup=False, soft_wrap=True)


def trace_lines(trace: Trace) -> list[str]:
    """The trace as an indented tree, one line per level, step, activity and token."""
    lines = [f"run {trace.run_id}, person {trace.person_id}"]
    _level(trace.top, 0, lines)
    for row in trace.unmatched:
        lines.append(f"unmatched activity {row['id']} (type {row['activityTypeId']})")
    return lines


def _level(call: TraceCall, indent: int, lines: list[str]) -> None:
    pad = "  " * indent
    lines.append(f"{pad}{call.campaign} (campaign {call.campaign_id}, level {call.depth})")
    for step in call.steps:
        choice = f", choice {step.choice}" if step.choice else ""
        written = "" if step.activities else " — no activity"
        lines.append(f"{pad}  {step.call_path} {step.type}{choice}{written}")
        for row in step.activities:
            lines.append(f"{pad}    {_activity(row)}")
        for token in step.tokens:
            where = f" @ {token['location']}" if token["location"] else ""
            lines.append(
                f"{pad}    {token['token']} = {token['value']!r} ({token['source']}{where}, "
                f"context campaign {token['contextCampaignId']})"
            )
        if step.call is not None:
            child = step.call
            verdict = "Qualified" if child.qualified else f"not qualified: {child.reason}"
            context = "parent" if child.use_parent_context else "own"
            lines.append(f"{pad}    → {child.campaign}: {verdict}; {context} token context")
            if child.qualified and child.steps:
                _level(child, indent + 3, lines)
    if call.removed:
        lines.append(f"{pad}  removed from the flow here: no further step of this run")


def _activity(row: dict[str, Any]) -> str:
    attributes = row["attributes"]
    shown = "; ".join(f"{k}: {attributes[k]}" for k in _SHOWN_ATTRIBUTES if k in attributes)
    primary = row["primaryAttributeValue"]
    head = f"activity {row['id']} type {row['activityTypeId']}"
    return f"{head} {primary}" + (f" ({shown})" if shown else "")
