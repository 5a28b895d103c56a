"""The nested execution of one run for one person (PROV-3), rebuilt from what runs store.

Nothing is recorded per person and step for this: the trace walks the campaigns' flows
and matches the person's activities of the run (``run_id``, ``campaign_id``, type and
primary value) to the steps that wrote them, in order. Activities written later, at
delivery — Send Email (6, MAIL-9) and Call Webhook (110, HOOK-5) with the Change Data
Values (13) of its response mappings (HOOK-6) — are not in step order: they are set apart
and matched by the call path in their ``Step ID`` attribute (emails), or by campaign and
webhook (webhooks run only at level 0 and carry no step id). An Execute Campaign
activity opens the child's level (Qualified, Reason, Depth), a Remove from Flow activity
naming the call chain ends the person's run. A step that wrote nothing (Do Nothing, no
change, a skipped person) shows no activity. My Token values are resolved again for each
executed step in the same context chain the engine used (TOK-19..22), with their
provenance.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select

from kampanj.engine.delivery import WEBHOOK_SOURCE
from kampanj.engine.execute import child_references, segment
from kampanj.engine.frame import campaign_named
from kampanj.engine.pinning import pinned
from kampanj.engine.runs import load_run_row
from kampanj.errors import NotFoundError
from kampanj.model.account import Definitions
from kampanj.model.activities import StandardActivity as A
from kampanj.model.campaigns import Campaign, ParamValue, Step, StepType
from kampanj.model.fields import FieldRegistry
from kampanj.model.names import fold
from kampanj.store.schema import activity
from kampanj.tokens.context import CallFrame, SystemFacts, TokenContext
from kampanj.tokens.overrides import RunOverrides
from kampanj.tokens.syntax import TokenFamily, token_refs
from kampanj.tokens.tree import TokenTree

# Which activities each step writes (ACT-4) and the parameter naming its primary value.
_WRITES: Mapping[StepType, tuple[frozenset[int], str | None]] = {
    StepType.CHANGE_DATA_VALUE: (frozenset({A.CHANGE_DATA_VALUE}), "attribute"),
    StepType.CHANGE_SCORE: (frozenset({A.CHANGE_SCORE}), "scoreName"),
    StepType.ADD_TO_LIST: (frozenset({A.ADD_TO_LIST}), "list"),
    StepType.REMOVE_FROM_LIST: (frozenset({A.REMOVE_FROM_LIST}), "list"),
    StepType.INTERESTING_MOMENT: (frozenset({A.INTERESTING_MOMENT}), "type"),
    StepType.CHANGE_PROGRAM_STATUS: (frozenset({A.CHANGE_STATUS_IN_PROGRESSION}), None),
    StepType.CHANGE_PROGRAM_SUCCESS: (frozenset({A.CHANGE_PROGRAM_MEMBER_DATA}), None),
    StepType.SEND_EMAIL: (frozenset({A.SEND_EMAIL, A.EMAIL_BLOCKED}), None),
    StepType.SEND_ALERT: (frozenset({A.SEND_ALERT}), None),
    StepType.REQUEST_CAMPAIGN: (frozenset({A.REQUEST_CAMPAIGN}), None),
    # Written at delivery, out of step order: see `_Delivered`.
    StepType.CALL_WEBHOOK: (frozenset(), None),
    StepType.DELETE_PERSON: (frozenset({A.DELETE_LEAD}), None),
    StepType.REMOVE_FROM_FLOW: (frozenset({A.REMOVE_FROM_FLOW}), None),
}


_MANY = 1_000
_MOST = {  # activities one step writes for one person at most (ACT-4)
    StepType.REMOVE_FROM_FLOW: _MANY,
    StepType.CHANGE_PROGRAM_SUCCESS: 2,
}
_STEP_ID = "Step ID"  # the call path a delivered Send Email carries (MAIL-9, LEDG-1)


@dataclass(kw_only=True, slots=True)
class TraceStep:
    """One step of one level as the person went through it."""

    call_path: str
    step_id: str
    type: str
    activities: list[dict[str, Any]] = field(default_factory=list)
    """The person's activities this step wrote: id, type, primary value, attributes."""
    call: TraceCall | None = None
    """Execute Campaign: the child's level."""
    tokens: list[dict[str, Any]] = field(default_factory=list)
    """My Token values the step's parameters used, with provenance (PROV-1)."""
    choice: str | None = None
    """The choice taken, when the activities tell (Execute Campaign: by the child)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "callPath": self.call_path,
            "stepId": self.step_id,
            "type": self.type,
            "choice": self.choice,
            "activities": self.activities,
            "tokens": self.tokens,
            "call": None if self.call is None else self.call.to_json(),
        }


@dataclass(kw_only=True, slots=True)
class TraceCall:
    """One level: the run's campaign, or a child called by Execute Campaign."""

    campaign_id: int | None
    campaign: str
    depth: int
    qualified: bool = True
    reason: str | None = None
    use_parent_context: bool = False
    steps: list[TraceStep] = field(default_factory=list)
    removed: bool = False
    """The person left the run inside this level (Remove from Flow, EXE-18)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "campaignId": self.campaign_id,
            "campaign": self.campaign,
            "depth": self.depth,
            "qualified": self.qualified,
            "reason": self.reason,
            "useParentContext": self.use_parent_context,
            "removed": self.removed,
            "steps": [step.to_json() for step in self.steps],
        }


@dataclass(kw_only=True, slots=True)
class Trace:
    """PROV-3 for one person of one run."""

    run_id: int
    person_id: int
    top: TraceCall
    unmatched: list[dict[str, Any]] = field(default_factory=list)
    """Activities of the run no step could be matched to (e.g. a flow edited since)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "personId": self.person_id,
            "trace": self.top.to_json(),
            "unmatched": self.unmatched,
        }


class _Cursor:
    """The person's activities of the run, consumed in id order."""

    def __init__(self, rows: Sequence[dict[str, Any]], delivered: _Delivered) -> None:
        self.rows = list(rows)
        self.position = 0
        self.delivered = delivered

    def peek(self) -> dict[str, Any] | None:
        return self.rows[self.position] if self.position < len(self.rows) else None

    def take(self) -> dict[str, Any]:
        row = self.rows[self.position]
        self.position += 1
        return row

    def rest(self) -> Iterator[dict[str, Any]]:
        while self.position < len(self.rows):
            yield self.take()


class _Delivered:
    """Activities written at delivery, each group a 6, or a 110 and its mapped 13s."""

    def __init__(self, groups: list[list[dict[str, Any]]]) -> None:
        self.groups = groups

    def take(self, step: Step, call_path: str, campaign: Campaign) -> list[dict[str, Any]]:
        """The oldest group ``step`` at ``call_path`` delivered, or nothing."""
        for index, group in enumerate(self.groups):
            if _delivered_by(step, call_path, campaign, group[0]):
                return self.groups.pop(index)
        return []

    def rest(self) -> Iterator[dict[str, Any]]:
        for group in self.groups:
            yield from group


def _split(rows: Sequence[dict[str, Any]]) -> tuple[list[dict[str, Any]], _Delivered]:
    """Step-order activities, and those written at delivery (MAIL-9, HOOK-5/6).

    The mapped fields of a webhook call are written right after its 110, in the same
    transaction, so they are the 13s with ``Source=Webhook`` that follow it.
    """
    in_order: list[dict[str, Any]] = []
    groups: list[list[dict[str, Any]]] = []
    call: list[dict[str, Any]] | None = None
    for row in rows:
        kind = row["activityTypeId"]
        if kind == A.SEND_EMAIL and _STEP_ID in row["attributes"]:
            groups.append([row])
            call = None
        elif kind == A.CALL_WEBHOOK:
            call = [row]
            groups.append(call)
        elif (
            call is not None
            and kind == A.CHANGE_DATA_VALUE
            and row["attributes"].get("Source") == WEBHOOK_SOURCE
        ):
            call.append(row)
        else:
            in_order.append(row)
            call = None
    return in_order, _Delivered(groups)


def _delivered_by(step: Step, call_path: str, campaign: Campaign, head: Mapping[str, Any]) -> bool:
    if head["campaignId"] != campaign.id:
        return False
    step_id: str | None = head["attributes"].get(_STEP_ID)
    if step.type is StepType.SEND_EMAIL:
        return head["activityTypeId"] == A.SEND_EMAIL and step_id == call_path
    if step.type is not StepType.CALL_WEBHOOK or head["activityTypeId"] != A.CALL_WEBHOOK:
        return False
    if step_id is not None:
        return step_id == call_path
    names = {
        fold(str(params["webhook"]))
        for params in [step.params, *({**step.params, **c.params} for c in step.choices)]
        if params.get("webhook") is not None
    }
    return not names or fold(str(head["primaryAttributeValue"] or "")) in names


def build_trace(
    connection: Connection,
    run_id: int,
    person_id: int,
    definitions: Definitions,
    tree: TokenTree,
    fields: FieldRegistry,
) -> Trace:
    """The nested execution of run ``run_id`` for ``person_id``."""
    row = load_run_row(connection, run_id)
    stored = next((c for c in definitions.campaigns if c.id == row["campaign_id"]), None)
    if stored is None:
        raise NotFoundError(f"run {run_id}'s campaign {row['campaign_id']} no longer exists")
    campaign = pinned(stored, row)
    statement = (
        select(activity)
        .where(activity.c.run_id == run_id, activity.c.person_id == person_id)
        .order_by(activity.c.id)
    )
    rows = [_activity(r) for r in connection.execute(statement).mappings()]
    overrides = RunOverrides(
        values={n.casefold(): (n, v) for n, v in row["token_overrides"].items()}
    )
    context = TokenContext(
        tree=tree,
        call_stack=(CallFrame(campaign=campaign),),
        system=SystemFacts(now=row["started_at"] or row["created_at"]),
        overrides=overrides,
    )
    in_order, delivered = _split(rows)
    cursor = _Cursor(in_order, delivered)
    top = TraceCall(campaign_id=campaign.id, campaign=campaign.name, depth=0)
    _walk(top, context, (), cursor, definitions, fields)
    unmatched = sorted([*cursor.rest(), *delivered.rest()], key=lambda r: int(r["id"]))
    return Trace(run_id=run_id, person_id=person_id, top=top, unmatched=unmatched)


def _activity(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"],
        "activityTypeId": row["activity_type_id"],
        "campaignId": row["campaign_id"],
        "primaryAttributeValue": row["primary_attribute_value"],
        "primaryAttributeValueId": row["primary_attribute_value_id"],
        "attributes": dict(row["attributes"] or {}),
    }


def _walk(
    level: TraceCall,
    context: TokenContext,
    prefix: tuple[str, ...],
    cursor: _Cursor,
    definitions: Definitions,
    fields: FieldRegistry,
) -> bool:
    """Match the level's steps; True when the person was removed from the run here."""
    campaign = context.campaign
    for step in campaign.flow:
        traced = TraceStep(
            call_path="/".join((*prefix, step.id)), step_id=step.id, type=step.type.value
        )
        level.steps.append(traced)
        if step.type is StepType.EXECUTE_CAMPAIGN:
            if _execute(traced, step, context, prefix, cursor, definitions, fields):
                return True
            continue
        most = _MOST.get(step.type, 1)
        while (
            len(traced.activities) < most
            and (row := cursor.peek()) is not None
            and _wrote(step, campaign, row, fields)
        ):
            traced.activities.append(cursor.take())
        traced.activities += cursor.delivered.take(step, traced.call_path, campaign)
        if traced.activities:
            traced.tokens = _tokens(step, context)
        if step.type is StepType.REMOVE_FROM_FLOW and any(
            _leaves_chain(row, context) for row in traced.activities
        ):
            level.removed = True
            return True
    return False


def _execute(
    traced: TraceStep,
    step: Step,
    context: TokenContext,
    prefix: tuple[str, ...],
    cursor: _Cursor,
    definitions: Definitions,
    fields: FieldRegistry,
) -> bool:
    row = cursor.peek()
    campaign = context.campaign
    if (
        row is None
        or row["activityTypeId"] != A.EXECUTE_CAMPAIGN
        or row["campaignId"] != campaign.id
    ):
        return False  # Do Nothing, or not reached
    traced.activities.append(cursor.take())
    child = campaign_named(definitions, row["primaryAttributeValueId"], campaign.workspace)
    attributes = row["attributes"]
    call = TraceCall(
        campaign_id=row["primaryAttributeValueId"],
        campaign=row["primaryAttributeValue"] or "",
        depth=int(attributes.get("Depth", context.level + 1)),
        qualified=bool(attributes.get("Qualified")),
        reason=attributes.get("Reason"),
        use_parent_context=bool(attributes.get("Use Parent Token Context")),
    )
    traced.call = call
    traced.choice = _choice_calling(step, call.campaign, definitions, campaign.workspace)
    if not call.qualified or child is None:
        return False
    inner = context.call(child, use_parent_context=call.use_parent_context)
    return _walk(call, inner, (*prefix, segment(step, child)), cursor, definitions, fields)


def _choice_calling(
    step: Step, child_name: str, definitions: Definitions, workspace: str
) -> str | None:
    """The choice whose campaign is the child, when only one branch names it."""
    labels: list[str] = []
    branches: list[tuple[str, Mapping[str, ParamValue], bool]] = [
        (str(number), {**step.params, **choice.params}, choice.do_nothing)
        for number, choice in enumerate(step.choices, start=1)
    ]
    branches.append(("default", step.params, step.do_nothing))
    if len(child_references(step)) <= 1 and not step.choices:
        return "default"
    for label, params, do_nothing in branches:
        if do_nothing:
            continue
        named = campaign_named(definitions, params.get("campaign"), workspace)
        if named is not None and fold(named.name) == fold(child_name):
            labels.append(label)
    return labels[0] if len(labels) == 1 else None


def _wrote(step: Step, campaign: Campaign, row: Mapping[str, Any], fields: FieldRegistry) -> bool:
    """Whether ``row`` can be an activity of ``step`` (same campaign, type, primary)."""
    writes = _WRITES.get(step.type)
    if writes is None or row["campaignId"] != campaign.id:
        return False
    types, primary_param = writes
    if row["activityTypeId"] not in types:
        return False
    if primary_param is None:
        return True
    values: set[str] = set()
    for params in [step.params, *({**step.params, **c.params} for c in step.choices)]:
        value = params.get(primary_param)
        if value is None:
            continue
        values.add(fold(str(value)))
        field = fields.get(str(value))
        if field is not None:
            values.add(fold(field.display_name))
    return not values or fold(str(row["primaryAttributeValue"] or "")) in values


def _leaves_chain(row: Mapping[str, Any], context: TokenContext) -> bool:
    removed_from = str(row["attributes"].get("Removed From", ""))
    chain = ",".join(str(frame.campaign.id) for frame in context.call_stack)
    return removed_from == chain


def _tokens(step: Step, context: TokenContext) -> list[dict[str, Any]]:
    """My Token references of the step's parameters, resolved in the step's context."""
    texts = [str(v) for v in step.params.values() if isinstance(v, str)]
    for choice in step.choices:
        texts += [str(v) for v in choice.params.values() if isinstance(v, str)]
    found: list[dict[str, Any]] = []
    seen: set[str] = set()
    for text in texts:
        for ref in token_refs(text):
            if ref.family is not TokenFamily.MY or fold(ref.name) in seen:
                continue
            seen.add(fold(ref.name))
            value = context.my_token(ref.name)
            found.append(
                {
                    "token": f"{{{{my.{ref.name}}}}}",
                    "value": ref.default or "" if value is None else value.value,
                    "source": ("default" if ref.default else "empty")
                    if value is None
                    else value.source.value,
                    "location": None
                    if value is None or value.location is None
                    else value.location.display,
                    "contextCampaignId": context.context_campaign.id,
                    "contextChain": list(context.context_chain_ids),
                }
            )
    return found


__all__ = ["Trace", "TraceCall", "TraceStep", "build_trace"]
