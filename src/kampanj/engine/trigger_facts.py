"""Per-person trigger tokens of a trigger or requested run (TOK-8).

Each ``run_member`` of such a run records the activity that put the person in the run and
the trigger it matched; a micro-batched run (ORD-5) thus gives every person their own
``{{trigger.…}}`` values.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from kampanj.store.schema import activity, run, run_member
from kampanj.tokens.context import TriggerFacts

FIRED_KINDS = ("trigger", "requested")


def load_trigger_facts(connection: Connection, run_id: int) -> dict[int, TriggerFacts]:
    """Person id → the facts of their triggering activity; empty for other run kinds."""
    kind = connection.execute(select(run.c.kind).where(run.c.id == run_id)).scalar()
    if kind not in FIRED_KINDS:
        return {}
    statement = (
        select(
            run_member.c.person_id,
            run_member.c.trigger_name,
            activity.c.primary_attribute_value,
            activity.c.attributes,
        )
        .join(activity, activity.c.id == run_member.c.trigger_activity_id)
        .where(run_member.c.run_id == run_id)
    )
    return {
        row.person_id: TriggerFacts(
            trigger_name=row.trigger_name or "",
            primary_value=row.primary_attribute_value,
            attributes=dict(row.attributes or {}),
        )
        for row in connection.execute(statement)
    }
