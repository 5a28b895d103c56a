"""Trigger dispatch: committed activities → queued trigger and requested runs (CMP-14, ACT-6).

Every committed activity is offered to triggers once, in id order, through a cursor
(``trigger_cursor.last_activity_id``) that advances in the same transaction as the runs
the activities enqueued: a crash before that commit redoes the batch, after it nothing is
offered twice. Activities of ``kampanj activities import`` (``history``) are skipped.

Only activities at or below a *horizon*, fixed when the dispatch starts, are read: on SQLite
writers are serialised, so every id up to the highest one has committed; on PostgreSQL a
brief ``SHARE`` lock on ``activity`` waits for in-flight writers (at most ``lock_timeout``),
so no lower id can commit later. Later activities wait for the next dispatch, so a steady
stream of events is offered in batches, not a few at a time.

Per activity, the active trigger campaigns indexed by its type are tried in ORD-1 order
(effective priority CMP-16, then campaign id): a matching trigger (SL-20), then the
campaign's filters for that person now, then its qualification rule (CMP-17/18). A flow's
accepted Request Campaign activity fires only its target (REQ-6). Qualified entries are
micro-batched into one queued run per campaign (ORD-5) as long as no person's order of runs
changes (GEN-2): a person joins a campaign's open run only if they are not in it and were
not put in any later run.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, func, literal_column, select, update
from sqlalchemy.exc import DBAPIError

from kampanj.clock import Clock
from kampanj.engine import execute, qualify
from kampanj.engine.batch import resume_run
from kampanj.engine.cohort import create_step_rows
from kampanj.engine.pinning import pin_flow
from kampanj.engine.request_rules import REQUESTED_TRIGGER
from kampanj.engine.runs import (
    Issue,
    MemberState,
    RunKind,
    RunResult,
    RunStatus,
    add_issues,
    create_run,
    set_status,
)
from kampanj.engine.validity import invalid_campaign_ids
from kampanj.errors import NotFoundError
from kampanj.model.account import Definitions
from kampanj.model.activities import Activity, StandardActivity
from kampanj.model.campaigns import (
    Campaign,
    CampaignType,
    Priority,
    QualificationRuleType,
    StepType,
)
from kampanj.model.settings import MAX_CAUSATION_DEPTH, MAX_EXECUTE_DEPTH
from kampanj.smartlist.compiler import CompiledSmartList, compile_campaign_rules
from kampanj.smartlist.context import CompileContext
from kampanj.smartlist.evaluation import compile_context
from kampanj.store.activities_repo import activity_from_row
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import (
    activity,
    campaign,
    email,
    folder,
    my_token,
    run,
    run_member,
    smart_list,
    static_list,
    trigger_cursor,
    webhook,
    workspace,
)

CAUSATION_LIMIT = "CAUSATION_LIMIT"  # GEN-8
BATCH_SIZE = 1_000
"""Activities read per dispatch transaction."""
GATHER_SECONDS = 0.01
"""How long `drain` lets concurrent writers record events before its next dispatch …"""
GATHER_BUSY_SECONDS = 0.04
"""… and how long when its last dispatch offered at least `BUSY_BATCH` activities."""
BUSY_BATCH = 20

_RANK = {Priority.HIGH: 0, Priority.MEDIUM: 1, Priority.LOW: 2}
_HIGH_FIRST = (StepType.SEND_EMAIL, StepType.SEND_ALERT)
_LOW_FIRST = (
    StepType.WAIT,
    StepType.CHANGE_DATA_VALUE,
    StepType.CHANGE_SCORE,
    StepType.CALL_WEBHOOK,
)


def effective_priority(item: Campaign) -> Priority:
    """CMP-16: ``priorityOverride``, else from the first flow step."""
    if item.schedule.priority_override is not None:
        return item.schedule.priority_override
    first = item.flow[0].type if item.flow else None
    if first in _HIGH_FIRST:
        return Priority.HIGH
    if first in _LOW_FIRST:
        return Priority.LOW
    return Priority.MEDIUM


# -- the index -------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Armed:
    """An active trigger campaign, compiled, ready to be offered activities."""

    campaign: Campaign
    compiled: CompiledSmartList

    @property
    def order(self) -> tuple[int, int]:
        """ORD-1: effective priority, then ascending campaign id."""
        assert self.campaign.id is not None
        return (_RANK[effective_priority(self.campaign)], self.campaign.id)


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerIndex:
    """Activity type id → the armed campaigns listening to it, in ORD-1 order."""

    by_type: dict[int, tuple[Armed, ...]]
    campaigns: dict[int, Campaign]
    """Every stored campaign by id (requested targets need not be active, REQ-10)."""
    compiled: dict[int, CompiledSmartList]
    """Compiled smart lists by campaign id (filled lazily for requested targets)."""
    definitions: Definitions
    contexts: dict[str, CompileContext]
    """Compile contexts by workspace (filled lazily)."""
    max_causation_depth: int
    max_depth: int

    def context(self, connection: Connection, clock: Clock, workspace: str) -> CompileContext:
        found = self.contexts.get(workspace)
        if found is None:
            found = compile_context(
                connection, clock, workspace=workspace, definitions=self.definitions
            )
            self.contexts[workspace] = found
        return found

    @property
    def type_ids(self) -> frozenset[int]:
        return frozenset(self.by_type) | {int(StandardActivity.REQUEST_CAMPAIGN)}


def build_index(connection: Connection, clock: Clock, definitions: Definitions) -> TriggerIndex:
    """Compile every active, valid trigger campaign (CMP-15: an invalid one matches nobody)."""
    invalid = invalid_campaign_ids(definitions)
    armed: list[Armed] = []
    compiled: dict[int, CompiledSmartList] = {}
    contexts: dict[str, CompileContext] = {}
    for item in definitions.campaigns:
        if item.id is None or item.executable or item.type is not CampaignType.TRIGGER:
            continue
        if not item.active or item.id in invalid:
            continue
        ctx = contexts.get(item.workspace)
        if ctx is None:
            ctx = compile_context(
                connection, clock, workspace=item.workspace, definitions=definitions
            )
            contexts[item.workspace] = ctx
        rules = compile_campaign_rules(item.smart_list, ctx)
        compiled[item.id] = rules
        if rules.valid:
            armed.append(Armed(campaign=item, compiled=rules))
    by_type: dict[int, list[Armed]] = {}
    for entry in sorted(armed, key=lambda a: a.order):
        for type_id in entry.compiled.triggers.activity_type_ids:
            by_type.setdefault(type_id, []).append(entry)
    settings = definitions.settings
    return TriggerIndex(
        by_type={k: tuple(v) for k, v in by_type.items()},
        campaigns={c.id: c for c in definitions.campaigns if c.id is not None},
        compiled=compiled,
        definitions=definitions,
        contexts=contexts,
        max_causation_depth=MAX_CAUSATION_DEPTH
        if settings is None
        else settings.max_causation_depth,
        max_depth=MAX_EXECUTE_DEPTH if settings is None else settings.max_execute_depth,
    )


_CACHE: dict[tuple[Any, ...], TriggerIndex] = {}
_CAMPAIGN_STAMP = select(campaign.c.id, campaign.c.active, campaign.c.updated_at).order_by(
    campaign.c.id
)
_ASSET_STAMP = select(
    *(
        select(aggregate).select_from(table).scalar_subquery()
        for table in (workspace, folder, my_token, static_list, smart_list, email, webhook)
        for aggregate in (func.count(), func.max(table.c.updated_at))
    )
)
"""What the index depends on besides campaigns: a change to any of them rebuilds it."""


def current_index(connection: Connection, clock: Clock) -> TriggerIndex:
    """The index for the stored definitions, rebuilt when a campaign changes (cached)."""
    stamp = tuple(connection.execute(_CAMPAIGN_STAMP).all())
    assets = connection.execute(_ASSET_STAMP).one()
    key = (
        str(connection.engine.url),
        stamp,
        tuple(assets),
        clock.now().replace(second=0, microsecond=0),
    )
    found = _CACHE.get(key)
    if found is None:
        _CACHE.clear()
        found = build_index(connection, clock, read_definitions(connection))
        _CACHE[key] = found
    return found


# -- planning entries into runs --------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Entry:
    """One qualified person for one campaign, fired by one activity."""

    campaign: Campaign
    kind: RunKind
    person_id: int
    activity_id: int
    trigger_name: str
    depth: int


@dataclass(kw_only=True, slots=True)
class PlannedRun:
    campaign: Campaign
    kind: RunKind
    entries: list[Entry] = field(default_factory=list)

    @property
    def persons(self) -> set[int]:
        return {e.person_id for e in self.entries}


@dataclass(kw_only=True, slots=True)
class Planner:
    """ORD-5 micro-batching that keeps each person's order of runs (GEN-2)."""

    runs: list[PlannedRun] = field(default_factory=list)
    _open: dict[int, int] = field(default_factory=dict)
    _last: dict[int, int] = field(default_factory=dict)

    def add(self, entry: Entry) -> None:
        assert entry.campaign.id is not None
        position = self._open.get(entry.campaign.id)
        joinable = (
            entry.kind is RunKind.TRIGGER
            and position is not None
            and self.runs[position].kind is RunKind.TRIGGER
            and entry.person_id not in self.runs[position].persons
            and self._last.get(entry.person_id, -1) <= position
        )
        if not joinable or position is None:
            self.runs.append(PlannedRun(campaign=entry.campaign, kind=entry.kind))
            position = len(self.runs) - 1
            self._open[entry.campaign.id] = position
        self.runs[position].entries.append(entry)
        self._last[entry.person_id] = position


# -- dispatch --------------------------------------------------------------------------


@dataclass(frozen=True, kw_only=True, slots=True)
class Enqueued:
    run_id: int
    campaign_id: int
    kind: RunKind
    activity_ids: tuple[int, ...]
    person_ids: tuple[int, ...]


@dataclass(kw_only=True, slots=True)
class DispatchReport:
    offered: int = 0
    enqueued: list[Enqueued] = field(default_factory=list)


DispatchHook = Callable[[str], None]
"""Called inside a dispatch transaction before it commits (crash tests)."""


# Built once: the dispatcher runs after every step of every run, and building a statement
# costs more than executing it (SQLAlchemy caches the compiled form per statement object).
_CURSOR = select(trigger_cursor.c.last_activity_id).where(trigger_cursor.c.id == 1)
# "type + 0": the type filter must not tempt the planner into the (type, date) index —
# SQLite took it, then read every activity of the type ever written; the id range is
# the narrow part (only what was written since the cursor).
_TYPE = activity.c.activity_type_id + literal_column("0")
_MAX_ID = select(func.max(activity.c.id))
_PENDING = (
    select(activity)
    .where(
        activity.c.id > bindparam("position"),
        activity.c.id <= bindparam("horizon"),
        _TYPE.in_(bindparam("types", expanding=True)),
        activity.c.history.is_not(True),
    )
    .order_by(activity.c.id)
    .limit(bindparam("batch_size"))
)
_MOVE_CURSOR = (
    update(trigger_cursor)
    .where(trigger_cursor.c.id == 1)
    .values(last_activity_id=bindparam("reached"), updated_at=bindparam("now"))
)
_WROTE = (
    select(activity.c.id)
    .where(
        activity.c.id > func.coalesce(_CURSOR.scalar_subquery(), 0),
        activity.c.run_id == bindparam("run_id"),
        _TYPE.in_(bindparam("types", expanding=True)),
    )
    .limit(1)
)


def dispatch(
    database: Database,
    clock: Clock,
    *,
    batch_size: int = BATCH_SIZE,
    before_commit: DispatchHook | None = None,
) -> DispatchReport:
    """Offer every committed, not yet offered activity to triggers; enqueue the runs."""
    report = DispatchReport()
    with database.read() as connection:
        highest = _max_activity_id(connection)
        if _cursor(connection) >= highest:
            return report
    # What was written after this point waits for the next dispatch: a dispatcher chasing
    # a steady stream of events would otherwise offer them a few at a time (ORD-5).
    horizon = highest if database.dialect == "sqlite" else _horizon(database)
    if horizon is None:
        return report
    while True:
        with database.begin() as connection:
            position = _lock_cursor(connection)
            if position >= horizon:
                return report
            index = current_index(connection, clock)
            rows = list(
                connection.execute(
                    _PENDING,
                    {
                        "position": position,
                        "horizon": horizon,
                        "types": sorted(index.type_ids),
                        "batch_size": batch_size,
                    },
                ).mappings()
            )
            reached = horizon if len(rows) < batch_size else int(rows[-1]["id"])
            now = clock.now()
            fired = [activity_from_row(row) for row in rows]
            planner = plan(connection, clock, index, fired, now)
            report.offered += len(rows)
            report.enqueued.extend(_enqueue(connection, index, planner, now))
            connection.execute(_MOVE_CURSOR, {"reached": reached, "now": now})
            if before_commit is not None:
                before_commit("dispatch")


def _cursor(connection: Connection) -> int:
    """The cursor's position (-1 before the first dispatch created it)."""
    position = connection.execute(_CURSOR).scalar()
    return -1 if position is None else int(position)


def _max_activity_id(connection: Connection) -> int:
    # A bare max() over the primary key is one index probe on both databases.
    found = connection.execute(_MAX_ID).scalar()
    return 0 if found is None else int(found)


def _horizon(database: Database) -> int | None:
    """PostgreSQL: the highest activity id below which every id has committed or never
    will (on SQLite, writers are serialised: every id up to the highest has committed)."""
    try:
        with database.begin() as connection:
            connection.exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
            connection.exec_driver_sql("LOCK TABLE activity IN SHARE MODE")
            return _max_activity_id(connection)
    except DBAPIError:
        return None  # a long writer holds the table: try again at the next dispatch


_LOCK_CURSOR = _CURSOR.with_for_update()


def _lock_cursor(connection: Connection) -> int:
    """The cursor, locked against a concurrent dispatcher (created if missing)."""
    found = connection.execute(_LOCK_CURSOR).scalar()
    if found is None:
        connection.execute(
            trigger_cursor.insert().values(id=1, last_activity_id=0, updated_at=func.now())
        )
        return 0
    return int(found)


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """An activity that fired a campaign's trigger, before filters and qualification."""

    campaign: Campaign
    compiled: CompiledSmartList
    trigger_name: str
    kind: RunKind
    fired: Activity
    depth: int


def plan(
    connection: Connection,
    clock: Clock,
    index: TriggerIndex,
    fired: Sequence[Activity],
    now: datetime,
) -> Planner:
    """CMP-14 for a batch of activities, in id order and ORD-1 order per activity.

    Filters and the qualification history are read once per campaign for the batch's
    persons (nothing but memberships changes within the batch); entries qualified earlier
    in the batch count as history for later ones (CMP-17).
    """
    candidates: list[Candidate] = []
    depths: dict[int, int] = {}
    for item in fired:
        candidates.extend(_candidates(connection, clock, index, item, depths))
    passing = _passing(connection, clock, index, candidates, now)
    planner = Planner()
    joined: set[tuple[int, int]] = set()
    for candidate in candidates:
        campaign_id = candidate.campaign.id
        assert campaign_id is not None
        person_id = candidate.fired.person_id
        if person_id not in passing.get(campaign_id, ()):
            continue
        rule = candidate.campaign.schedule.qualification.type
        if (campaign_id, person_id) in joined and rule is not QualificationRuleType.ANY:
            continue  # qualified a moment ago: `once` and `every N units` say no
        joined.add((campaign_id, person_id))
        planner.add(
            Entry(
                campaign=candidate.campaign,
                kind=candidate.kind,
                person_id=person_id,
                activity_id=candidate.fired.id,
                trigger_name=candidate.trigger_name,
                depth=candidate.depth,
            )
        )
    return planner


def _candidates(
    connection: Connection,
    clock: Clock,
    index: TriggerIndex,
    fired: Activity,
    depths: dict[int, int],
) -> list[Candidate]:
    found: list[tuple[Campaign, CompiledSmartList, str, RunKind]] = []
    if fired.activity_type_id == StandardActivity.REQUEST_CAMPAIGN:
        target = _requested_target(connection, clock, index, fired)
        if target is not None:
            found.append((*target, REQUESTED_TRIGGER, RunKind.REQUESTED))
    else:
        for armed in index.by_type.get(fired.activity_type_id, ()):
            if _expired_at(armed.campaign, fired):
                continue
            names = armed.compiled.triggers.matching(fired)
            if names:
                found.append((armed.campaign, armed.compiled, names[0], RunKind.TRIGGER))
    if not found:
        return []
    depth = _depth(connection, fired, depths)
    kept: list[Candidate] = []
    for item, compiled, trigger_name, kind in found:
        if depth > index.max_causation_depth:
            _causation_warning(connection, fired, item, index.max_causation_depth)
            continue
        kept.append(
            Candidate(
                campaign=item,
                compiled=compiled,
                trigger_name=trigger_name,
                kind=kind,
                fired=fired,
                depth=depth,
            )
        )
    return kept


def _expired_at(item: Campaign, fired: Activity) -> bool:
    """CMP-22: an activity at or after ``expiresAt`` no longer fires the campaign, even
    before a tick has deactivated it."""
    expires = item.schedule.expires_at
    return expires is not None and fired.activity_date >= expires


def _passing(
    connection: Connection,
    clock: Clock,
    index: TriggerIndex,
    candidates: Sequence[Candidate],
    now: datetime,
) -> dict[int, set[int]]:
    """Campaign id → the candidates' persons passing its filters and qualification rule."""
    by_campaign: dict[int, tuple[Candidate, set[int]]] = {}
    for candidate in candidates:
        assert candidate.campaign.id is not None
        entry = by_campaign.setdefault(candidate.campaign.id, (candidate, set()))
        entry[1].add(candidate.fired.person_id)
    passing: dict[int, set[int]] = {}
    for campaign_id, (sample, persons) in by_campaign.items():
        person = index.context(connection, clock, sample.campaign.workspace).person
        rule = sample.campaign.schedule.qualification
        statement = select(person.c.id).where(
            person.c.id.in_(sorted(persons)),
            sample.compiled.predicate,
            qualify.eligible(rule, campaign_id, person.c.id, now),
        )
        passing[campaign_id] = set(connection.execute(statement).scalars())
    return passing


def _requested_target(
    connection: Connection, clock: Clock, index: TriggerIndex, fired: Activity
) -> tuple[Campaign, CompiledSmartList] | None:
    """REQ-6: a flow's accepted request fires its target only (acceptance was decided at
    the step's commit, REQ-10); requests from outside enqueued their run themselves."""
    if fired.campaign_id is None or fired.attributes.get("Accepted") is not True:
        return None
    target = index.campaigns.get(fired.primary_attribute_value_id or -1)
    if target is None or target.id is None:
        return None
    compiled = index.compiled.get(target.id)
    if compiled is None:
        ctx = index.context(connection, clock, target.workspace)
        compiled = compile_campaign_rules(target.smart_list, ctx)
        index.compiled[target.id] = compiled
    return (target, compiled) if compiled.valid and target.flow else None


def _depth(connection: Connection, fired: Activity, depths: dict[int, int]) -> int:
    """GEN-8: a run's causation depth + 1 for activities it wrote, 0 for outside input."""
    if fired.run_id is None:
        return 0
    if fired.run_id not in depths:
        found = connection.execute(
            select(run.c.causation_depth).where(run.c.id == fired.run_id)
        ).scalar()
        depths[fired.run_id] = int(found or 0)
    return depths[fired.run_id] + 1


def _causation_warning(connection: Connection, fired: Activity, item: Campaign, limit: int) -> None:
    if fired.run_id is None:
        return
    add_issues(
        connection,
        fired.run_id,
        warnings=[
            Issue(
                code=CAUSATION_LIMIT,
                message=f"activity {fired.id} would start campaign {item.name!r} deeper than "
                f"maxCausationDepth {limit} (GEN-8); it was not enqueued",
                campaign_id=item.id,
                person_id=fired.person_id,
            )
        ],
    )


def _enqueue(
    connection: Connection, index: TriggerIndex, planner: Planner, now: datetime
) -> list[Enqueued]:
    """The planned runs, in order, and the memberships of their people (CMP-20)."""
    done: list[Enqueued] = []
    for planned in planner.runs:
        assert planned.campaign.id is not None
        done.append(
            enqueue_run(
                connection,
                index.definitions,
                planned.campaign,
                planned.kind,
                [(e.person_id, e.activity_id, e.trigger_name) for e in planned.entries],
                now=now,
                depth=max(e.depth for e in planned.entries),
                max_depth=index.max_depth,
            )
        )
        qualify.record_membership_of(
            connection,
            campaign_id=planned.campaign.id,
            persons=select(run_member.c.person_id).where(run_member.c.run_id == done[-1].run_id),
            now=now,
        )
    return done


def enqueue_run(
    connection: Connection,
    definitions: Definitions,
    item: Campaign,
    kind: RunKind,
    members: Sequence[tuple[int, int, str]],
    *,
    now: datetime,
    depth: int = 0,
    max_depth: int = MAX_EXECUTE_DEPTH,
    overrides: dict[str, str] | None = None,
    warnings: Sequence[Issue] = (),
) -> Enqueued:
    """A queued run whose cohort is ``members`` (person, triggering activity, trigger name),
    its flow pinned and its step rows written (CMP-15); memberships are the caller's."""
    assert item.id is not None and members
    run_id = create_run(
        connection,
        campaign_id=item.id,
        kind=kind,
        now=now,
        overrides=overrides or {},
        warnings=warnings,
        causation_depth=depth,
        trigger_activity_id=members[0][1],
    )
    first = item.flow[0].id if item.flow else None
    connection.execute(
        run_member.insert(),
        [
            {
                "run_id": run_id,
                "person_id": person_id,
                "entry_id": person_id,
                "chunk": 0,
                "state": MemberState.ACTIVE.value if first else MemberState.COMPLETED.value,
                "next_step": first,
                "trigger_activity_id": activity_id,
                "trigger_name": trigger_name,
            }
            for person_id, activity_id, trigger_name in sorted(members)
        ],
    )
    create_step_rows(
        connection, run_id, item.flow, execute.call_paths(definitions, item, max_depth)
    )
    pin_flow(connection, run_id, item)
    connection.execute(
        update(run).where(run.c.id == run_id).values(cohort=len(members), qualified=len(members))
    )
    return Enqueued(
        run_id=run_id,
        campaign_id=item.id,
        kind=kind,
        activity_ids=tuple(m[1] for m in members),
        person_ids=tuple(m[0] for m in members),
    )


# -- executing queued runs -------------------------------------------------------------


def next_queued(connection: Connection) -> int | None:
    """The oldest queued trigger or requested run (ORD-3: FIFO by enqueue order)."""
    statement = (
        select(run.c.id)
        .where(
            run.c.status == RunStatus.QUEUED.value,
            run.c.kind.in_([RunKind.TRIGGER.value, RunKind.REQUESTED.value]),
        )
        .order_by(run.c.id)
        .limit(1)
    )
    found = connection.execute(statement).scalar()
    return None if found is None else int(found)


def _claim(connection: Connection, run_id: int, now: datetime) -> bool:
    """Queued → running, only if still queued (two drains never start one run twice)."""
    statement = (
        update(run)
        .where(run.c.id == run_id, run.c.status == RunStatus.QUEUED.value)
        .values(status=RunStatus.RUNNING.value, started_at=now)
    )
    return connection.execute(statement).rowcount == 1


def drain(
    database: Database,
    clock: Clock,
    *,
    limit: int | None = None,
    gather: float = GATHER_SECONDS,
    gather_busy: float = GATHER_BUSY_SECONDS,
    pause: Callable[[float], None] = time.sleep,
) -> list[RunResult]:
    """Dispatch pending activities and execute queued runs until none is left.

    Between runs, when threads of this process took turns writing during the last one
    (events being recorded while it executed), the next dispatch waits ``gather`` seconds so
    more events join one batch (ORD-5), or ``gather_busy`` when the last dispatch found a
    crowd already (a stream, not a trickle: bigger batches pay off, and a moderate rate
    keeps the short wait). Without it, writers taking turns (store/writer_lock.py)
    let a producer record about one event per transaction of the consumer, and every run —
    whose cost hardly depends on its size — carries a handful of events.

    Activities a run writes are dispatched after the committed (step, chunk) that wrote
    them, so the runs they fire see the data of that moment (CMP-14) and run after the
    current one (ORD-3). A step that wrote nothing a trigger listens to leaves the
    dispatch to the next loop: activities recorded meanwhile by others then gather into
    one batch, hence one run per campaign (ORD-5), instead of a run per step.
    """
    results: list[RunResult] = []
    current = 0
    listened: frozenset[int] = frozenset()

    def after_step(_step: str, _chunk: int) -> None:
        if wrote_listened(database, current, listened):
            dispatch(database, clock)

    offered = 0
    waited = database.writer_turns_waited()
    while limit is None or len(results) < limit:
        if results and database.writer_turns_waited() > waited:
            pause(gather if offered < BUSY_BATCH else gather_busy)
        waited = database.writer_turns_waited()
        offered = dispatch(database, clock).offered
        with database.begin() as connection:
            run_id = next_queued(connection)
            if run_id is None:
                return results
            if not _claim(connection, run_id, clock.now()):
                continue  # another process took it first
        with database.read() as connection:
            index = current_index(connection, clock)
        current, listened, definitions = run_id, index.type_ids, index.definitions
        try:
            results.append(
                resume_run(database, clock, run_id, on_chunk=after_step, definitions=definitions)
            )
        except NotFoundError as error:  # the campaign was deleted meanwhile
            with database.begin() as connection:
                set_status(
                    connection,
                    run_id,
                    RunStatus.ABORTED,
                    clock.now(),
                    errors=[Issue(code="CAMPAIGN_DELETED", message=str(error)).to_json()],
                )
    dispatch(database, clock)
    return results


def wrote_listened(database: Database, run_id: int, types: frozenset[int]) -> bool:
    """Whether run ``run_id`` wrote an activity not yet offered of one of ``types`` (those
    some trigger, or a requested target, REQ-6, listens to)."""
    with database.read() as connection:
        found = connection.execute(_WROTE, {"run_id": run_id, "types": sorted(types)})
        return found.first() is not None
