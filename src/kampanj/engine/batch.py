"""Batch runs end to end: checks, qualification, execution, result (CMP-5..8, FLOW-2)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from kampanj.clock import Clock
from kampanj.definitions.lookup import find_campaign
from kampanj.engine import execute, qualify
from kampanj.engine.cohort import (
    ChunkHook,
    FlowRun,
    create_step_rows,
    execute_flow,
    still_running,
)
from kampanj.engine.pinning import pin_flow, pinned
from kampanj.engine.runs import (
    DEFAULT_CHUNK_SIZE,
    Issue,
    RunKind,
    RunResult,
    RunStatus,
    create_run,
    load_result,
    load_run_row,
    set_status,
)
from kampanj.engine.steps.registry import STEP_FUNCTIONS
from kampanj.engine.trigger_facts import load_trigger_facts
from kampanj.engine.validity import problems_of
from kampanj.engine.waits import members_left
from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign, CampaignType
from kampanj.model.settings import MAX_EXECUTE_DEPTH
from kampanj.smartlist.compiler import compile_campaign_rules
from kampanj.smartlist.evaluation import compile_context
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.context import CallFrame, SystemFacts, TokenContext
from kampanj.tokens.overrides import OverrideRequest, RunOverrides, check_overrides
from kampanj.tokens.stored import load_token_tree

OVERRIDE_IGNORED = "TOKEN_OVERRIDE_IGNORED"  # TOK-17 (API warning 1003)


@dataclass(frozen=True, kw_only=True, slots=True)
class StartedRun:
    """A batch run's result plus the overrides it ignored."""

    result: RunResult
    ignored: tuple[Issue, ...]


def check_runnable(campaign: Campaign) -> None:
    """Refuse what a batch run cannot do, before anything is written (CMP-8, FLOW-24)."""
    if campaign.executable:
        raise UserError(
            f"campaign {campaign.name!r} is executable: it runs only through an Execute "
            "Campaign step of another campaign (EXE-2)"
        )
    if campaign.type is not CampaignType.BATCH:
        kind = "a trigger" if campaign.type is CampaignType.TRIGGER else "a default-type"
        raise UserError(
            f"campaign {campaign.name!r} is {kind} campaign; only batch campaigns (smart list "
            "with filters and no triggers) can be run (CMP-8)"
        )
    check_steps(campaign)


def check_steps(campaign: Campaign, definitions: Definitions | None = None) -> None:
    """Every step of the flow, and of every executable it may call, is one the engine runs."""
    supported = [*STEP_FUNCTIONS, *execute.CALL_STEPS]
    reached = [campaign]
    if definitions is not None:
        reached += execute.reachable_children(definitions, campaign, _max_depth(definitions))
    for current in reached:
        for step in current.flow:
            if step.type not in supported:
                names = ", ".join(t.value for t in supported)
                raise UserError(
                    f"campaign {current.name!r}, step {step.id} ({step.type.value}): this "
                    f"step is not supported yet by the run engine; supported steps: {names}"
                )


def _max_depth(definitions: Definitions) -> int:
    settings = definitions.settings
    return MAX_EXECUTE_DEPTH if settings is None else settings.max_execute_depth


def _flow_run(
    connection: Connection,
    clock: Clock,
    definitions: Definitions,
    campaign: Campaign,
    run_id: int,
    overrides: RunOverrides,
) -> FlowRun:
    ctx = compile_context(connection, clock, workspace=campaign.workspace, definitions=definitions)
    tree, _ = load_token_tree(connection, definitions)
    triggers = load_trigger_facts(connection, run_id)  # TOK-8: trigger and requested runs

    def tokens() -> TokenContext:
        return TokenContext(
            tree=tree,
            call_stack=(CallFrame(campaign=campaign),),
            system=SystemFacts(now=clock.now(), zone=ctx.moment.zone),
            overrides=overrides,
            triggers=triggers,
        )

    return FlowRun(
        run_id=run_id,
        campaign=campaign,
        fields=load_field_registry(connection),
        compile_context=ctx,
        tokens=tokens,
        references=ctx.references,
        definitions=definitions,
        max_depth=_max_depth(definitions),
    )


def run_batch(
    database: Database,
    clock: Clock,
    campaign_name: str,
    *,
    workspace: str | None = None,
    overrides: Sequence[OverrideRequest] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    on_chunk: ChunkHook | None = None,
    claim: Callable[[Connection, int], None] | None = None,
    execute_now: bool = True,
) -> StartedRun:
    """Run a batch campaign now, inline, and return its result (CMP-5..7).

    ``claim`` runs in the transaction creating the run (a scheduled run records its run id).
    With ``execute_now=False`` the run is left ``running`` with its cohort qualified, for
    workers to execute its chunks (DESIGN.md §5).
    """
    if chunk_size < 1:
        raise UserError("the chunk size must be at least 1")
    with database.read() as connection:
        definitions = read_definitions(connection)
    campaign = find_campaign(definitions, campaign_name, workspace)
    check_runnable(campaign)
    check_steps(campaign, definitions)
    assert campaign.id is not None
    with database.read() as connection:
        tree, _ = load_token_tree(connection, definitions)
    check = check_overrides(overrides, tree, campaign)
    ignored = tuple(
        Issue(code=OVERRIDE_IGNORED, message=item.message, campaign_id=campaign.id)
        for item in check.ignored
    )
    now = clock.now()
    with database.begin() as connection:
        run_id = create_run(
            connection,
            campaign_id=campaign.id,
            kind=RunKind.BATCH,
            now=now,
            overrides={name: value for name, value in check.accepted},
            warnings=ignored,
            chunk_size=chunk_size,
        )
        if claim is not None:
            claim(connection, run_id)
    problems = problems_of(definitions, campaign).messages
    with database.begin() as connection:
        ctx = compile_context(
            connection, clock, workspace=campaign.workspace, definitions=definitions
        )
        compiled = compile_campaign_rules(campaign.smart_list, ctx)
        problems.extend(compiled.problems)
        if problems:
            # CMP-5: an Invalid campaign's run ends invalid and writes nothing else.
            set_status(
                connection,
                run_id,
                RunStatus.INVALID,
                now,
                errors=[
                    Issue(code="CAMPAIGN_INVALID", message=p, campaign_id=campaign.id).to_json()
                    for p in problems
                ],
            )
            return StartedRun(result=load_result(connection, run_id), ignored=ignored)
        rule = campaign.schedule.qualification
        matching: int | None = None
        if not qualify.everyone_matching_qualifies(connection, rule, campaign.id):
            matching = qualify.count_matching(connection, compiled, ctx)
        qualified = qualify.insert_cohort(
            connection,
            run_id=run_id,
            campaign_id=campaign.id,
            compiled=compiled,
            ctx=ctx,
            rule=rule,
            now=now,
            chunk_size=chunk_size,
        )
        if matching is None:
            matching = qualified
        limit = campaign.schedule.max_members
        if limit is None and definitions.settings is not None:
            limit = definitions.settings.default_max_members
        if limit is not None and qualified > limit:
            # CMP-6: nothing is executed or recorded.
            qualify.drop_cohort(connection, run_id)
            set_status(
                connection,
                run_id,
                RunStatus.BLOCKED,
                now,
                cohort=matching,
                qualified=qualified,
                errors=[
                    Issue(
                        code="MAX_MEMBERS",
                        message=f"{qualified} people qualify, more than maxMembers {limit} "
                        "(CMP-6); nothing was executed",
                        campaign_id=campaign.id,
                    ).to_json()
                ],
            )
            return StartedRun(result=load_result(connection, run_id), ignored=ignored)
        qualify.record_membership(connection, run_id=run_id, campaign_id=campaign.id, now=now)
        create_step_rows(
            connection,
            run_id,
            campaign.flow,
            execute.call_paths(definitions, campaign, _max_depth(definitions)),
        )
        pin_flow(connection, run_id, campaign)
        set_status(connection, run_id, RunStatus.RUNNING, now, cohort=matching, qualified=qualified)
        if not execute_now:
            return StartedRun(result=load_result(connection, run_id), ignored=ignored)
    return StartedRun(
        result=resume_run(database, clock, run_id, on_chunk=on_chunk, definitions=definitions),
        ignored=ignored,
    )


def resume_run(
    database: Database,
    clock: Clock,
    run_id: int,
    *,
    on_chunk: ChunkHook | None = None,
    definitions: Definitions | None = None,
) -> RunResult:
    """Execute every step and chunk of a running run not yet committed, then finish it."""
    flow = load_flow(database, clock, run_id, definitions=definitions)
    finished = flow is not None and execute_flow(database, flow, clock, on_chunk=on_chunk)
    return finish_run(database, clock, run_id, finished=finished)


def load_flow(
    database: Database, clock: Clock, run_id: int, *, definitions: Definitions | None = None
) -> FlowRun | None:
    """What executing a running run needs (its pinned flow, tokens); None if not running."""
    with database.read() as connection:
        row = load_run_row(connection, run_id)
        if RunStatus(row["status"]) is not RunStatus.RUNNING:
            return None
        stored = definitions if definitions is not None else read_definitions(connection)
        campaign = next((c for c in stored.campaigns if c.id == row["campaign_id"]), None)
        if campaign is None:
            raise NotFoundError(f"run {run_id}'s campaign {row['campaign_id']} no longer exists")
        campaign = pinned(campaign, row)  # CMP-15
        overrides = RunOverrides(
            values={n.casefold(): (n, v) for n, v in row["token_overrides"].items()}
        )
        return _flow_run(connection, clock, stored, campaign, run_id, overrides)


def finish_run(database: Database, clock: Clock, run_id: int, *, finished: bool) -> RunResult:
    """Mark the run completed if its flow is done and nobody is left; its result."""
    with database.begin() as connection:
        # Waiting people count as left (GEN-6): the run stays running until they finish.
        if finished and still_running(connection, run_id) and not members_left(connection, run_id):
            set_status(connection, run_id, RunStatus.COMPLETED, clock.now())
        return load_result(connection, run_id)
