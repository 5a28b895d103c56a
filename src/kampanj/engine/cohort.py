"""Executing a flow for a run's cohort, step by step, chunk by chunk (DESIGN.md §2).

Reference order is step-major (FLOW-2): step k for every chunk, then step k+1. Each
(step, chunk) is ONE transaction holding the step's effects, the per-step counts, the run's
errors and warnings, the members' next step and the LEDG-1 progress marker (GEN-5, LEDG-2).
A restarted run skips every (step, chunk) whose marker is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, Connection, case, false, func, insert, literal, select, update

from kampanj.clock import Clock
from kampanj.engine import faults
from kampanj.engine.runs import Issue, MemberState, RunStatus, add_issues
from kampanj.engine.steps.base import StepEnv, StepOutcome
from kampanj.engine.steps.registry import STEP_FUNCTIONS
from kampanj.model.campaigns import Campaign, ParamValue, Step
from kampanj.model.fields import FieldRegistry
from kampanj.smartlist.compiler import compile_filter
from kampanj.smartlist.context import CompileContext, InvalidSmartList
from kampanj.store.database import Database
from kampanj.store.schema import run, run_member, run_progress, run_step
from kampanj.tokens.context import TokenContext

DEFAULT_CHOICE = "default"
PERSON_DELETED = "person deleted"  # FLOW-7
DO_NOTHING = "do nothing"  # FLOW-11

ChunkHook = Callable[[str, int], None]
"""Called after each committed (call path, chunk): tests inject crashes here."""


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowRun:
    """What executing one run's flow needs besides the database."""

    run_id: int
    campaign: Campaign
    fields: FieldRegistry
    compile_context: CompileContext
    tokens: Callable[[], TokenContext]
    """A fresh step context (the clock is read per step, GEN-1)."""
    references: Any


def _branches(step: Step) -> list[tuple[str, Mapping[str, ParamValue] | None]]:
    """(choice label, params or None for Do Nothing) in choice order, Default last."""
    labelled: list[tuple[str, Mapping[str, ParamValue] | None]] = [
        # A choice names what differs; the rest comes from the step's own params.
        (str(number), None if choice.do_nothing else {**step.params, **choice.params})
        for number, choice in enumerate(step.choices, start=1)
    ]
    labelled.append((DEFAULT_CHOICE, None if step.do_nothing else step.params))
    return labelled


def _choice_case(step: Step, ctx: CompileContext) -> ColumnElement[Any]:
    """The first matching choice's number, 0 for the Default (FLOW-9), as one SQL CASE."""
    if not step.choices:
        return literal(0)
    whens = []
    for number, choice in enumerate(step.choices, start=1):
        try:
            predicate: ColumnElement[bool] = compile_filter(choice.condition, ctx)
        except InvalidSmartList:
            predicate = false()  # lint refuses these; a forced write matches nobody
        whens.append((predicate, number))
    return case(*whens, else_=0)


def chunks_of(connection: Connection, run_id: int) -> list[int]:
    statement = (
        select(run_member.c.chunk)
        .where(run_member.c.run_id == run_id)
        .distinct()
        .order_by(run_member.c.chunk)
    )
    return list(connection.execute(statement).scalars())


def _committed(connection: Connection, run_id: int) -> set[tuple[int, str]]:
    rows = connection.execute(
        select(run_progress.c.chunk, run_progress.c.call_path).where(
            run_progress.c.run_id == run_id
        )
    )
    return {(row.chunk, row.call_path) for row in rows}


def execute_flow(
    database: Database, flow: FlowRun, clock: Clock, *, on_chunk: ChunkHook | None = None
) -> bool:
    """Run every (step, chunk) not yet committed, in reference order.

    Returns False when the run stopped being ``running`` (aborted, CMP-29) before its flow
    was done. Members take a step only when it is their ``next_step``: people parked by a
    Wait are skipped, and people resumed from one get fresh chunk numbers, so their progress
    markers never collide with the markers of the chunk they waited in.
    """
    with database.read() as connection:
        chunks = chunks_of(connection, flow.run_id)
        done = _committed(connection, flow.run_id)
    steps = flow.campaign.flow
    for position, step in enumerate(steps):
        following = steps[position + 1].id if position + 1 < len(steps) else None
        for chunk in chunks:
            if (chunk, step.id) in done:
                continue
            with database.begin() as connection:
                if not still_running(connection, flow.run_id):
                    return False
                _execute_step(connection, flow, step, chunk, following, clock)
                faults.hit("before-commit", step.id, "chunk", chunk)  # LEDG-4 crash tests
            faults.hit("after-step", step.id, "chunk", chunk)
            if on_chunk is not None:
                on_chunk(step.id, chunk)
    return True


def still_running(connection: Connection, run_id: int) -> bool:
    """Whether the run may take another step; locks the run row against a racing abort."""
    statement = select(run.c.status).where(run.c.id == run_id).with_for_update()
    return bool(connection.execute(statement).scalar_one() == RunStatus.RUNNING.value)


def _execute_step(
    connection: Connection,
    flow: FlowRun,
    step: Step,
    chunk: int,
    following: str | None,
    clock: Clock,
) -> None:
    now = clock.now()
    in_chunk = (
        run_member.c.run_id == flow.run_id,
        run_member.c.chunk == chunk,
        run_member.c.state == MemberState.ACTIVE.value,
        run_member.c.next_step == step.id,
    )
    person = flow.compile_context.person
    # Partition the chunk once: deleted persons get NULL (FLOW-7), others their choice.
    chosen = select(_choice_case(step, flow.compile_context)).where(
        person.c.id == run_member.c.person_id
    )
    connection.execute(update(run_member).where(*in_chunk).values(branch=chosen.scalar_subquery()))
    sizes = {
        branch: int(count)
        for branch, count in connection.execute(
            select(run_member.c.branch, func.count()).where(*in_chunk).group_by(run_member.c.branch)
        )
    }
    env = StepEnv(
        run_id=flow.run_id,
        campaign=flow.campaign,
        step=step,
        now=now,
        zone=flow.compile_context.moment.zone,
        fields=flow.fields,
        person=person,
        tokens=flow.tokens(),
        references=flow.references,
    )
    outcome = StepOutcome()
    choices: dict[str, int] = {}
    skipped: dict[str, int] = {}
    if sizes.get(None):
        skipped[PERSON_DELETED] = sizes[None]
    function = STEP_FUNCTIONS[step.type]
    for number, (label, params) in enumerate(_branches(step), start=1):
        branch = 0 if label == DEFAULT_CHOICE else number
        size = sizes.get(branch, 0)
        if not size:
            continue
        choices[label] = size
        if params is None:
            skipped[DO_NOTHING] = skipped.get(DO_NOTHING, 0) + size
            continue
        cohort = select(run_member.c.person_id).where(*in_chunk, run_member.c.branch == branch)
        part = function(connection, env, params, cohort)
        outcome.executed += part.executed
        outcome.blocked += part.blocked
        outcome.errors.extend(part.errors)
        outcome.warnings.extend(part.warnings)
        skipped = _merge(skipped, part.skipped)
    _record(connection, flow.run_id, step.id, outcome, choices, skipped)
    add_issues(connection, flow.run_id, errors=outcome.errors, warnings=outcome.warnings)
    advance = {"next_step": following, "branch": None}
    if following is None:
        advance["state"] = MemberState.COMPLETED.value
    connection.execute(update(run_member).where(*in_chunk).values(advance))
    connection.execute(
        insert(run_progress).values(
            run_id=flow.run_id, chunk=chunk, call_path=step.id, committed_at=now
        )
    )


def _merge(into: Mapping[str, int], extra: Mapping[str, int]) -> dict[str, int]:
    merged = dict(into)
    for key, value in extra.items():
        merged[key] = merged.get(key, 0) + value
    return merged


def _record(
    connection: Connection,
    run_id: int,
    call_path: str,
    outcome: StepOutcome,
    choices: Mapping[str, int],
    skipped: Mapping[str, int],
) -> None:
    """Add one chunk's counts to the step's row of the run result (GEN-6)."""
    key = (run_step.c.run_id == run_id, run_step.c.call_path == call_path)
    row = connection.execute(select(run_step).where(*key)).mappings().one()
    failed = len({issue.person_id for issue in outcome.errors})
    connection.execute(
        update(run_step)
        .where(*key)
        .values(
            executed=row["executed"] + outcome.executed,
            skipped=row["skipped"] + sum(skipped.values()),
            blocked=row["blocked"] + outcome.blocked,
            errors=row["errors"] + failed,
            choices=_merge(row["choices"], choices),
            skip_reasons=_merge(row["skip_reasons"], skipped),
        )
    )


def create_step_rows(connection: Connection, run_id: int, steps: Sequence[Step]) -> None:
    """Zeroed result rows for every step, written with the cohort."""
    if not steps:
        return
    connection.execute(
        insert(run_step),
        [
            {
                "run_id": run_id,
                "call_path": step.id,
                "position": position,
                "executed": 0,
                "skipped": 0,
                "blocked": 0,
                "errors": 0,
                "choices": {},
                "skip_reasons": {},
            }
            for position, step in enumerate(steps)
        ],
    )


__all__ = ["Issue", "execute_flow"]
