"""Executing a flow for a run's cohort, step by step, chunk by chunk (DESIGN.md §2).

Reference order is step-major (FLOW-2): step k for every chunk, then step k+1. Each
(step, chunk) is ONE transaction holding the step's effects, the per-step counts, the run's
errors and warnings, the members' next step and the LEDG-1 progress marker (GEN-5, LEDG-2).
A restarted run skips every (step, chunk) whose marker is committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Table,
    case,
    false,
    func,
    insert,
    literal,
    null,
    select,
    update,
)

from kampanj.clock import Clock
from kampanj.engine import execute, faults
from kampanj.engine.frame import FlowRun, Frame, Members
from kampanj.engine.runs import Issue, MemberState, RunStatus, add_issues, at_step
from kampanj.engine.steps import remove_from_flow
from kampanj.engine.steps.base import StepEnv, StepOutcome, every_person_fails
from kampanj.engine.steps.registry import STEP_FUNCTIONS, STEP_PRECHECKS
from kampanj.model.campaigns import ParamValue, Step, StepType
from kampanj.smartlist.compiler import compile_filter
from kampanj.smartlist.context import CompileContext, InvalidSmartList
from kampanj.store.database import Database
from kampanj.store.schema import call_member, run, run_member, run_progress, run_step

DEFAULT_CHOICE = "default"
PERSON_DELETED = "person deleted"  # FLOW-7
DO_NOTHING = "do nothing"  # FLOW-11

ChunkHook = Callable[[str, int], None]
"""Called after each committed (call path, chunk): tests inject crashes here."""


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
    was done. Members take a step only when they are `at_step` it: people parked by a Wait
    are skipped, and people resumed from one get fresh chunk numbers, so their progress
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
            if not _step_chunk(database, flow, clock, step, chunk, following):
                return False
            if on_chunk is not None:
                on_chunk(step.id, chunk)
    return True


def execute_chunk(
    database: Database,
    flow: FlowRun,
    clock: Clock,
    chunk: int,
    *,
    keep: Callable[[], bool] = lambda: True,
) -> bool:
    """Chunk-major: every step of one chunk not yet committed, for a worker executing
    chunks of one run in parallel with others (ORD-5). ``keep`` is asked before each step
    (a worker renews its lease there). Returns False when the run stopped being ``running``
    or ``keep`` said stop.
    """
    steps = flow.campaign.flow
    for position, step in enumerate(steps):
        following = steps[position + 1].id if position + 1 < len(steps) else None
        if not keep():
            return False
        if not _step_chunk(database, flow, clock, step, chunk, following):
            return False
    return True


def _step_chunk(
    database: Database, flow: FlowRun, clock: Clock, step: Step, chunk: int, following: str | None
) -> bool:
    """One (step, chunk) transaction; the marker is re-checked under the run row lock and
    (PostgreSQL) a lock on the chunk, so two processes working on one run never execute a
    (step, chunk) twice (LEDG-2)."""
    with database.begin() as connection:
        if not still_running(connection, flow.run_id, shared=True):
            return False
        if connection.dialect.name == "postgresql":
            # The shared run lock lets chunks run in parallel; one (run, chunk) at a time.
            connection.execute(select(func.pg_advisory_xact_lock(flow.run_id, chunk)))
        if _committed_paths(connection, flow.run_id, chunk, {step.id}, nested_only=False):
            return True
        _execute_top_step(connection, flow, step, chunk, following, clock)
        faults.hit("before-commit", step.id, "chunk", chunk)  # LEDG-4 crash tests
    faults.hit("after-step", step.id, "chunk", chunk)
    return True


def still_running(connection: Connection, run_id: int, *, shared: bool = False) -> bool:
    """Whether the run may take another step; locks the run row against a racing abort.

    ``shared`` (a step transaction): FOR SHARE on PostgreSQL, so chunks of one run commit
    in parallel while an abort or a status change (FOR UPDATE) waits for them all.
    """
    statement = select(run.c.status).where(run.c.id == run_id).with_for_update(read=shared)
    return bool(connection.execute(statement).scalar_one() == RunStatus.RUNNING.value)


def _execute_top_step(
    connection: Connection,
    flow: FlowRun,
    step: Step,
    chunk: int,
    following: str | None,
    clock: Clock,
) -> None:
    """One level-0 step for one chunk, inline children included, then the members' next
    step and the LEDG-1 markers of every call path executed (one transaction, GEN-5)."""
    in_chunk = (
        run_member.c.run_id == flow.run_id,
        run_member.c.chunk == chunk,
        run_member.c.state == MemberState.ACTIVE.value,
        at_step(step.id),
    )
    frame = Frame(chunk=chunk, depth=0, path=(), tokens=flow.tokens(), clock=clock, markers=set())
    named = apply_step(connection, flow, frame, step, Members(table=run_member, where=in_chunk))
    if following is None:
        left = {"state": MemberState.COMPLETED.value, "next_step": None}
        connection.execute(update(run_member).where(*in_chunk).values(left))
    elif named:
        # Members named by their step (a trigger cohort, people resumed from a Wait) follow
        # their chunk from now on; the others need no write to move on. A step only ever
        # clears ``next_step`` or parks a member elsewhere, so when nobody was named before
        # it ran (counted by the partition, same transaction) nobody is named now.
        named_here = (*in_chunk[:-1], run_member.c.next_step == step.id)
        connection.execute(update(run_member).where(*named_here).values(next_step=None))
    now = clock.now()
    done = _committed_paths(connection, flow.run_id, chunk, frame.markers)
    connection.execute(
        insert(run_progress),
        [
            {"run_id": flow.run_id, "chunk": chunk, "call_path": path, "committed_at": now}
            for path in sorted(frame.markers - done)
        ],
    )


def _committed_paths(
    connection: Connection, run_id: int, chunk: int, paths: set[str], *, nested_only: bool = True
) -> set[str]:
    """Call paths already marked for this chunk (by default only child paths: a person
    resumed from a Wait)."""
    nested = [path for path in paths if "/" in path or not nested_only]
    if not nested:
        return set()
    statement = select(run_progress.c.call_path).where(
        run_progress.c.run_id == run_id,
        run_progress.c.chunk == chunk,
        run_progress.c.call_path.in_(nested),
    )
    return set(connection.execute(statement).scalars())


def apply_step(
    connection: Connection, flow: FlowRun, frame: Frame, step: Step, members: Members
) -> int:
    """Partition ``members`` by the step's choices and apply each partition (FLOW-8..12).

    Returns how many members had a ``next_step`` when the step began (always 0 for
    ``call_member``, which has no such column).
    """
    now = frame.clock.now()
    person = flow.compile_context.person
    call_path = frame.call_path(step.id)
    env = StepEnv(
        run_id=flow.run_id,
        campaign=frame.campaign,
        step=step,
        now=now,
        zone=flow.compile_context.moment.zone,
        fields=flow.fields,
        person=person,
        tokens=frame.tokens,
        references=flow.references,
        call_path=call_path if frame.depth else None,
    )
    flagged: int | None = None
    counted = _unpartitioned_sizes(connection, step, members, person, _precheck(connection, env))
    if counted is None:
        sizes, named = _partition(connection, flow, step, members)
    else:
        sizes, named, flagged = counted
        members = replace(members, partitioned=False)
    outcome = StepOutcome()
    choices: dict[str, int] = {}
    skipped: dict[str, int] = {}
    if sizes.get(None):
        skipped[PERSON_DELETED] = sizes[None]
    for number, (label, params) in enumerate(_branches(step), start=1):
        branch = 0 if label == DEFAULT_CHOICE else number
        size = sizes.get(branch, 0)
        if not size:
            continue
        choices[label] = size
        if params is None:
            skipped[DO_NOTHING] = skipped.get(DO_NOTHING, 0) + size
            continue
        # The partition counted this branch in this transaction; the branches before it
        # took the same step type, and none the functions below count for (Change Data
        # Value, lists, Interesting Moment) changes the member rows.
        known = replace(env, cohort_size=size, flagged=flagged)
        part = _dispatch(connection, flow, frame, known, params, members, branch)
        outcome.executed += part.executed
        outcome.blocked += part.blocked
        outcome.errors.extend(part.errors)
        outcome.warnings.extend(part.warnings)
        skipped = _merge(skipped, part.skipped)
    _record(connection, flow.run_id, call_path, outcome, choices, skipped)
    add_issues(connection, flow.run_id, errors=outcome.errors, warnings=outcome.warnings)
    frame.markers.add(call_path)
    return named


def _named(table: Table) -> ColumnElement[Any]:
    """How many rows have a ``next_step`` (0 where the table has no such column)."""
    return func.count(table.c.next_step) if "next_step" in table.c else literal(0)


def _precheck(connection: Connection, env: StepEnv) -> ColumnElement[bool] | None:
    """The step type's precheck predicate (`STEP_PRECHECKS`) for a step without choices."""
    step = env.step
    precheck = STEP_PRECHECKS.get(step.type)
    if precheck is None or step.choices or step.do_nothing:
        return None
    return precheck(connection, env, step.params)


def _unpartitioned_sizes(
    connection: Connection,
    step: Step,
    members: Members,
    person: Table,
    precheck: ColumnElement[bool] | None,
) -> tuple[dict[int | None, int], int, int | None] | None:
    """``({0: n}, named, flagged)`` when the step has no choices and nobody in ``members``
    was deleted: the common case needs no per-row partition. ``flagged`` counts the persons
    ``precheck`` matches (None without one): the person rows are read here anyway. None
    when the rows must be partitioned."""
    if step.choices:
        return None
    table = members.table
    flagged = null() if precheck is None else func.count(case((precheck, 1)))
    counted = (
        select(func.count(), func.count(person.c.id), _named(table), flagged)
        .select_from(table.outerjoin(person, person.c.id == table.c.person_id))
        .where(*members.where)
    )
    everyone, present, named, matched = connection.execute(counted).one()
    if everyone != present:
        return None
    return {0: int(everyone)}, int(named), None if precheck is None else int(matched)


def _partition(
    connection: Connection, flow: FlowRun, step: Step, members: Members
) -> tuple[dict[int | None, int], int]:
    """Write each row's choice (0 = Default, FLOW-9; NULL = person deleted, FLOW-7) into
    ``branch``; count the rows per branch and those with a ``next_step``."""
    table = members.table
    person = flow.compile_context.person
    chosen = select(_choice_case(step, flow.compile_context)).where(
        person.c.id == table.c.person_id
    )
    connection.execute(update(table).where(*members.where).values(branch=chosen.scalar_subquery()))
    sizes: dict[int | None, int] = {}
    named = 0
    counts = select(table.c.branch, func.count(), _named(table))
    for branch, count, with_step in connection.execute(
        counts.where(*members.where).group_by(table.c.branch)
    ):
        sizes[branch] = int(count)
        named += int(with_step)
    return sizes, named


def _dispatch(
    connection: Connection,
    flow: FlowRun,
    frame: Frame,
    env: StepEnv,
    params: Mapping[str, ParamValue],
    members: Members,
    branch: int,
) -> StepOutcome:
    """Execute Campaign and Remove from Flow act on the call stack; other steps on a cohort."""
    if env.step.type is StepType.EXECUTE_CAMPAIGN:
        return execute.call(
            connection,
            execute.Call(flow=flow, frame=frame, env=env, params=params),
            members.entries(branch),
            run_child_flow,
        )
    if env.step.type is StepType.REMOVE_FROM_FLOW:
        return remove_from_flow.apply(connection, flow, frame, env, params, members.entries(branch))
    function = STEP_FUNCTIONS.get(env.step.type)
    if function is None:
        # Only a child edited after the run started can get here (check_runnable).
        return every_person_fails(
            connection,
            env,
            members.persons(branch),
            "STEP_UNSUPPORTED",
            f"step {env.step.id} ({env.step.type.value}) is not supported by the run engine",
        )
    return function(connection, env, params, members.persons(branch))


def run_child_flow(connection: Connection, flow: FlowRun, frame: Frame) -> None:
    """A called child's whole flow for the qualified people of the call (EXE-6)."""
    where = (
        call_member.c.run_id == flow.run_id,
        call_member.c.chunk == frame.chunk,
        call_member.c.depth == frame.depth,
        call_member.c.state == execute.ACTIVE,
    )
    for step in frame.campaign.flow:
        apply_step(connection, flow, frame, step, Members(table=call_member, where=where))


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
    # Locked: chunks of one run committing in parallel add to the same row.
    row = connection.execute(select(run_step).where(*key).with_for_update()).mappings().first()
    if row is None:  # a child's step missing from the rows written at run start
        last = select(func.max(run_step.c.position)).where(run_step.c.run_id == run_id)
        position = (connection.execute(last).scalar() or 0) + 1
        connection.execute(insert(run_step).values(_zero_row(run_id, call_path, position)))
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


def create_step_rows(
    connection: Connection, run_id: int, steps: Sequence[Step], paths: Sequence[str] = ()
) -> None:
    """Zeroed result rows for every step, written with the cohort.

    ``paths`` lists every call path in result order (children after their Execute step);
    without it, the level-0 steps.
    """
    ordered = list(paths) or [step.id for step in steps]
    if not ordered:
        return
    connection.execute(
        insert(run_step),
        [_zero_row(run_id, path, position) for position, path in enumerate(ordered)],
    )


def _zero_row(run_id: int, call_path: str, position: int) -> dict[str, Any]:
    return {
        "run_id": run_id,
        "call_path": call_path,
        "position": position,
        "executed": 0,
        "skipped": 0,
        "blocked": 0,
        "errors": 0,
        "choices": {},
        "skip_reasons": {},
    }


__all__ = ["FlowRun", "Issue", "apply_step", "execute_chunk", "execute_flow"]
