"""Execute Campaign: the child's flow inline, for the people handed over (EXE-6..21).

One call hands one partition of one chunk to the child. The guards decide first, for the
whole call, in the EXE-10 order: depth limit (EXE-14), invalid campaign (EXE-13), invalid
smart list (EXE-12); otherwise each person passes the child's filters over current data
(EXE-8) and then its qualification rule over the child's own history (EXE-9). Everyone
handed over gets one Execute Campaign activity (901) before any child step (EXE-10); the
qualified become members (EXE-11) and run the child's whole flow before the caller goes on
(EXE-6). The people of the call live in ``call_member`` rows at the child's depth, written
and deleted inside the caller's transaction, so a crash redoes the whole call.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    bindparam,
    case,
    delete,
    insert,
    literal,
    select,
)

from kampanj.engine import qualify
from kampanj.engine.frame import FlowRun, Frame, campaign_named
from kampanj.engine.runs import Issue, add_issues
from kampanj.engine.steps.base import StepEnv, StepOutcome, every_person_fails
from kampanj.engine.steps.registry import STEP_FUNCTIONS
from kampanj.model.account import Definitions
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import Campaign, ParamValue, Step, StepType
from kampanj.smartlist.compiler import compile_campaign_rules
from kampanj.store.schema import activity, call_member

ACTIVE = "active"
"""``call_member.state`` of a qualified person still in the child's flow."""

DEPTH_LIMIT = "depth limit"  # EXE-14
INVALID_CAMPAIGN = "invalid campaign"  # EXE-13
INVALID_SMART_LIST = "invalid smart list"  # EXE-12
SMART_LIST = "smart list"  # EXE-8
QUALIFICATION_RULE = "qualification rule"  # EXE-9
REASONS = (DEPTH_LIMIT, INVALID_CAMPAIGN, INVALID_SMART_LIST, SMART_LIST, QUALIFICATION_RULE)

DEPTH_LIMIT_CODE = "DEPTH_LIMIT"
CHILD_INVALID = "CHILD_INVALID"
CHILD_SMART_LIST_INVALID = "CHILD_SMART_LIST_INVALID"

CALL_STEPS = (StepType.EXECUTE_CAMPAIGN, StepType.REMOVE_FROM_FLOW)
"""Steps the engine runs on the call stack itself (this module, steps/remove_from_flow.py)."""

COUNTED = {"preserve_rowcount": True}
"""SQLAlchemy reports an INSERT's rowcount only when asked (psycopg gives -1 otherwise)."""

ChildRunner = Callable[[Connection, FlowRun, Frame], None]
"""Runs the flow of a frame's campaign for the frame's ``call_member`` rows."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Call:
    """One Execute Campaign step applied to one partition."""

    flow: FlowRun
    frame: Frame
    """The caller's level."""
    env: StepEnv
    params: Mapping[str, ParamValue]


def child_references(step: Step) -> list[str]:
    """The children a step's executing branches name, in choice order, without repeats."""
    named = [step.params, *(c.params for c in step.choices if not c.do_nothing)]
    if step.do_nothing:
        named = named[1:]
    merged = [{**step.params, **params} for params in named]
    return list(dict.fromkeys(str(params.get("campaign")) for params in merged))


def segment(step: Step, child: Campaign) -> str:
    """The call-path segment of ``step`` calling ``child`` (LEDG-1)."""
    return step.id if len(child_references(step)) <= 1 else f"{step.id}@{child.id}"


def call_paths(definitions: Definitions, campaign: Campaign, max_depth: int) -> list[str]:
    """Every call path of ``campaign``'s flow in result order: each Execute Campaign step
    followed by its children's paths, as deep as a run may call (EXE-14)."""
    paths: list[str] = []

    def walk(current: Campaign, prefix: tuple[str, ...], depth: int) -> None:
        for step in current.flow:
            paths.append("/".join((*prefix, step.id)))
            if step.type is not StepType.EXECUTE_CAMPAIGN or depth >= max_depth:
                continue
            for reference in child_references(step):
                child = campaign_named(definitions, reference, current.workspace)
                if child is not None and child.executable and child.id is not None:
                    walk(child, (*prefix, segment(step, child)), depth + 1)

    walk(campaign, (), 0)
    return list(dict.fromkeys(paths))


def reachable_children(
    definitions: Definitions, campaign: Campaign, max_depth: int
) -> list[Campaign]:
    """The executables ``campaign`` may call, directly or not, within ``max_depth``."""
    found: dict[int, Campaign] = {}

    def walk(current: Campaign, depth: int) -> None:
        if depth >= max_depth:
            return
        for step in current.flow:
            if step.type is not StepType.EXECUTE_CAMPAIGN:
                continue
            for reference in child_references(step):
                child = campaign_named(definitions, reference, current.workspace)
                if child is not None and child.id is not None and child.id not in found:
                    found[child.id] = child
                    walk(child, depth + 1)

    walk(campaign, 0)
    return list(found.values())


def use_parent_context(params: Mapping[str, ParamValue]) -> bool:
    value = params.get("useParentContext")
    return value is True or str(value).strip().lower() in ("true", "yes", "1")


def call(
    connection: Connection, request: Call, handed: Select[Any], run_child: ChildRunner
) -> StepOutcome:
    """Hand ``handed`` (person id, entry id) to the child and run it inline."""
    flow, frame, env = request.flow, request.frame, request.env
    reference = request.params.get("campaign")
    child = flow.campaign_named(reference, frame.campaign.workspace)
    persons = select(handed.subquery().c.person_id)
    if child is None or not child.executable or child.id is None:
        # Lint refuses this (EXE_TARGET); only a forced write gets here.
        what = "does not exist" if child is None else "is not executable"
        return every_person_fails(
            connection,
            env,
            persons,
            CHILD_INVALID,
            f"Execute Campaign target {reference!r} {what} (EXE-5); nothing was executed",
        )
    depth = frame.depth + 1
    reason = _call_reason(connection, flow, frame, env, child, depth)
    compiled = None
    if reason is None:
        compiled = compile_campaign_rules(child.smart_list, flow.compile_context)
        problems = compiled.problems or flow.problems(child).smart_list
        if problems:
            reason = INVALID_SMART_LIST
            add_issues(
                connection,
                flow.run_id,
                warnings=[
                    env.issue(
                        CHILD_SMART_LIST_INVALID,
                        f"the smart list of {child.name!r} is invalid, so nobody qualified "
                        f"(EXE-12): {'; '.join(problems)}",
                    )
                ],
            )
    now = env.now
    cohort = handed.subquery("handed")
    person = flow.compile_context.person
    state: ColumnElement[Any]
    if reason is not None or compiled is None:
        state = literal(reason or INVALID_SMART_LIST, String)
    else:
        eligible = qualify.eligible(child.schedule.qualification, child.id, person.c.id, now)
        # A NULL predicate is a rejection, as in a WHERE clause: test the positive form.
        state = case(
            (and_(compiled.predicate, eligible), literal(ACTIVE, String)),
            (compiled.predicate, literal(QUALIFICATION_RULE, String)),
            else_=literal(SMART_LIST, String),
        )
    handed_count = connection.execute(
        insert(call_member).from_select(
            ["run_id", "chunk", "depth", "person_id", "entry_id", "state"],
            select(
                literal(flow.run_id).label("run_id"),
                literal(frame.chunk).label("chunk"),
                literal(depth).label("depth"),
                cohort.c.person_id,
                cohort.c.entry_id,
                state.label("state"),
            ).join_from(cohort, person, person.c.id == cohort.c.person_id),
        ),
        execution_options=COUNTED,
    ).rowcount
    at_depth = (
        call_member.c.run_id == flow.run_id,
        call_member.c.chunk == frame.chunk,
        call_member.c.depth == depth,
    )
    parent_context = use_parent_context(request.params)
    if reason == DEPTH_LIMIT:
        _depth_errors(connection, flow, env, child, at_depth)
    _write_activities(connection, env, child, depth, parent_context, at_depth)
    qualified = select(call_member.c.person_id).where(*at_depth, call_member.c.state == ACTIVE)
    if connection.execute(select(qualified.exists())).scalar():
        qualify.record_membership_of(connection, campaign_id=child.id, persons=qualified, now=now)
        run_child(
            connection,
            flow,
            frame.enter(child, use_parent_context=parent_context, segment=segment(env.step, child)),
        )
    connection.execute(delete(call_member).where(*at_depth))
    return StepOutcome(executed=handed_count)


def _call_reason(
    connection: Connection, flow: FlowRun, frame: Frame, env: StepEnv, child: Campaign, depth: int
) -> str | None:
    """The call-wide reason nobody qualifies, if any (EXE-13, EXE-14), with its run error."""
    if depth > flow.max_depth:
        return DEPTH_LIMIT  # errors per person, written once the rows exist
    problems = flow.problems(child)
    if problems.flow:
        add_issues(
            connection,
            flow.run_id,
            errors=[
                env.issue(
                    CHILD_INVALID,
                    f"called campaign {child.name!r} is invalid, so its flow did not run "
                    f"(EXE-13): {'; '.join(problems.flow)}",
                )
            ],
        )
        return INVALID_CAMPAIGN
    if unsupported_by_engine(child):
        add_issues(
            connection,
            flow.run_id,
            errors=[
                env.issue(
                    CHILD_INVALID,
                    f"called campaign {child.name!r} has a step the run engine does not "
                    "execute yet, so its flow did not run",
                )
            ],
        )
        return INVALID_CAMPAIGN
    return None


def unsupported_by_engine(child: Campaign) -> bool:
    """Does the flow have a step the run engine does not execute yet."""
    allowed = {*STEP_FUNCTIONS, *CALL_STEPS}
    return any(step.type not in allowed for step in child.flow)


def _depth_errors(
    connection: Connection,
    flow: FlowRun,
    env: StepEnv,
    child: Campaign,
    at_depth: tuple[ColumnElement[bool], ...],
) -> None:
    """EXE-14: one DEPTH_LIMIT error per person the call was refused for (WX-2)."""
    ids = connection.execute(
        select(call_member.c.person_id).where(*at_depth).order_by(call_member.c.person_id)
    ).scalars()
    message = (
        f"calling {child.name!r} would run it at level {flow.max_depth + 1}, deeper than "
        f"maxExecuteDepth {flow.max_depth} (EXE-14); it was not executed"
    )
    add_issues(
        connection,
        flow.run_id,
        errors=[env.issue(DEPTH_LIMIT_CODE, message, person_id) for person_id in ids],
    )


def activity_attributes(
    state: str, caller_id: int, depth: int, parent_context: bool
) -> dict[str, object]:
    """Attributes of one Execute Campaign activity (EXE-10, EXE-22).

    ``Reason`` is the EXE-10 reason, present only when the person was not qualified.
    """
    attributes: dict[str, object] = {
        "Qualified": state == ACTIVE,
        "Parent Campaign ID": caller_id,
        "Depth": depth,
        "Use Parent Token Context": parent_context,
    }
    if state != ACTIVE:
        attributes["Reason"] = state
    return attributes


def _write_activities(
    connection: Connection,
    env: StepEnv,
    child: Campaign,
    depth: int,
    parent_context: bool,
    at_depth: tuple[ColumnElement[bool], ...],
) -> None:
    """One 901 per handed-over person, ascending person id (ACT-2), set-based."""
    shared = {k: v for k, v in env.flow_attributes().items() if k != "Reason"}
    json_type = activity.c.attributes.type
    documents = [
        (
            state,
            bindparam(
                f"a_{number}",
                {**shared, **activity_attributes(state, env.campaign_id, depth, parent_context)},
                type_=json_type,
            ),
        )
        for number, state in enumerate((ACTIVE, *REASONS))
    ]
    attributes = case(
        *((call_member.c.state == state, document) for state, document in documents),
        else_=documents[0][1],
    )
    constants = {
        "activity_type_id": int(StandardActivity.EXECUTE_CAMPAIGN),
        "activity_date": env.now,
        "campaign_id": env.campaign_id,
        "run_id": env.run_id,
        "primary_attribute_value_id": child.id,
        "primary_attribute_value": child.name,
    }
    selected = (
        select(
            call_member.c.person_id,
            *(
                bindparam(f"c_{name}", value, type_=activity.c[name].type).label(name)
                for name, value in constants.items()
            ),
            attributes.label("attributes"),
        )
        .where(*at_depth)
        .order_by(call_member.c.person_id, call_member.c.entry_id)
    )
    connection.execute(
        insert(activity).from_select(["person_id", *constants, "attributes"], selected)
    )


__all__ = ["ACTIVE", "Call", "Issue", "call"]
