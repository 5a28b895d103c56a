"""Campaigns in the Lead Database API: list and get (API-14, API-15)."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from sqlalchemy import select

from kampanj.api.campaign_views import is_requestable, lead_database_json, load_campaigns
from kampanj.api.envelope import (
    BUSINESS_RULE,
    INVALID_REQUEST,
    LEAD_NOT_FOUND,
    OBJECT_NOT_FOUND,
    ApiError,
    Issue,
    Paging,
    Reply,
    success_body,
)
from kampanj.api.formats import page_token, parse_instant, token_position
from kampanj.api.idempotency import IdempotencyKey, once
from kampanj.api.program_clone import clone_program
from kampanj.api.requests import (
    batch_size,
    body_object,
    comma_list,
    flag,
    int_list,
    optional_json_body,
)
from kampanj.api.security import Caller, Executor, Reader
from kampanj.api.tree import Tree
from kampanj.api.triggers import wake_workers
from kampanj.api.validation import graph_errors
from kampanj.engine.request_rules import WEB_SERVICE_API
from kampanj.engine.requests import (
    DUPLICATE_PEOPLE,
    OVERRIDE_IGNORED,
    UNKNOWN_PEOPLE,
    request_campaign,
)
from kampanj.engine.schedule import schedule_run
from kampanj.errors import UserError
from kampanj.model.campaigns import CampaignType
from kampanj.model.names import fold
from kampanj.store.definitions_repo import read_definitions
from kampanj.store.schema import campaign, workspace
from kampanj.tokens.overrides import OverrideRequest

router = APIRouter(prefix="/rest/v1", tags=["campaigns"])


@router.get("/campaigns.json")
def get_campaigns(
    caller: Reader,
    id: str | None = None,
    name: str | None = None,
    program_name: Annotated[str | None, Query(alias="programName")] = None,
    workspace_name: Annotated[str | None, Query(alias="workspaceName")] = None,
    is_triggerable: Annotated[str | None, Query(alias="isTriggerable")] = None,
    batch: Annotated[str | None, Query(alias="batchSize")] = None,
    next_page_token: Annotated[str | None, Query(alias="nextPageToken")] = None,
) -> dict[str, Any]:
    """Campaigns of the caller's workspaces by id, filtered (API-14)."""
    size = batch_size(batch)
    after = token_position(next_page_token, "campaigns")
    ids = set(int_list(id, "id"))
    names = {fold(n) for n in comma_list(name)}
    programs = {fold(n) for n in comma_list(program_name)}
    workspaces = {fold(n) for n in comma_list(workspace_name)}
    triggerable = flag(is_triggerable, "isTriggerable")
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        tree = Tree(connection)
    items = []
    for view in views:
        item = view.campaign
        assert item.id is not None
        if item.id <= after or not caller.user.reaches(view.workspace):
            continue
        record = lead_database_json(view, tree)
        if (ids and item.id not in ids) or (names and fold(item.name) not in names):
            continue
        if programs and fold(record["programName"] or "") not in programs:
            continue
        if workspaces and fold(view.workspace) not in workspaces:
            continue
        if triggerable and not is_requestable(item):
            continue
        items.append(record)
    page = items[:size]
    more = len(items) > size
    token = page_token("campaigns", page[-1]["id"]) if more else None
    return success_body(Reply(result=page, paging=Paging(more=more, next_token=token)))


@router.get("/campaigns/{campaign_id:int}.json")
def get_campaign(caller: Reader, campaign_id: int) -> dict[str, Any]:
    """One campaign; unknown → 1013, another workspace → 603 (API-15, WS-5)."""
    with caller.context.database.read() as connection:
        views = load_campaigns(connection, caller.context.clock.now())
        tree = Tree(connection)
    view = next((v for v in views if v.campaign.id == campaign_id), None)
    if view is None:
        raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign_id} not found")
    caller.check_workspace(view.workspace, f"campaign {campaign_id}")
    return success_body(Reply(result=[lead_database_json(view, tree)]))


MAX_TOKENS = 100  # LIM-2
RUN_AT_LEAD = timedelta(minutes=5)  # API-20, LIM-10: the earliest REST runAt
RUN_AT_HORIZON = timedelta(days=730)  # API-20, LIM-10: at most 2 years ahead
RUN_AT_TOO_LATE = "1042"


def _input(document: Any) -> dict[str, Any]:
    """The request's ``input`` object (absent = empty)."""
    options = body_object(document).get("input") or {}
    if not isinstance(options, dict):
        raise ApiError(INVALID_REQUEST, "input must be an object")
    return options


def _token_list(raw: object) -> list[OverrideRequest]:
    """``tokens: [{name, value}]`` as override requests (absent = none)."""
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(t, dict) for t in raw):
        raise ApiError(INVALID_REQUEST, "tokens must be an array of {name, value} objects")
    return [
        OverrideRequest(name=str(t.get("name", "")), value=str(t.get("value", ""))) for t in raw
    ]


def _overrides(raw: object) -> list[OverrideRequest]:
    """``tokens`` for a schedule: at most 100 (else 1003)."""
    tokens = _token_list(raw)
    if len(tokens) > MAX_TOKENS:
        raise ApiError(
            INVALID_REQUEST, f"at most {MAX_TOKENS} tokens are allowed, not {len(tokens)}"
        )
    return tokens


def _clone_name(options: dict[str, Any]) -> str | None:
    """``cloneToProgramName`` or its alias ``cloneToProgram``; both and different → 1003."""
    names = [options.get(k) for k in ("cloneToProgramName", "cloneToProgram")]
    given = [n for n in names if n not in (None, "")]
    if not given:
        return None
    if not all(isinstance(n, str) for n in given) or len({n.strip() for n in given}) > 1:
        raise ApiError(
            INVALID_REQUEST, "cloneToProgramName and cloneToProgram must be one and the same name"
        )
    return str(given[0])


@router.post("/campaigns/{campaign_id:int}/schedule.json")
def schedule_campaign(
    caller: Executor,
    keyed: IdempotencyKey,
    campaign_id: int,
    document: Annotated[Any, Depends(optional_json_body)],
) -> dict[str, Any]:
    """Schedule a batch campaign at ``runAt`` with token overrides (API-19, API-20);
    ``Idempotency-Key`` replays (LEDG-6)."""
    return once(caller, keyed, lambda: _schedule(caller, campaign_id, document))


def _schedule(caller: Caller, campaign_id: int, document: Any) -> dict[str, Any]:
    options = _input(document)
    context = caller.context
    now = context.clock.now()
    with context.database.read() as connection:
        definitions = read_definitions(connection)
    found = next((c for c in definitions.campaigns if c.id == campaign_id), None)
    if found is None:
        raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign_id} not found")
    caller.check_workspace(found.workspace, f"campaign {campaign_id}")
    if found.executable or found.type is not CampaignType.BATCH:
        kind = "executable" if found.executable else found.type.value
        raise ApiError(
            INVALID_REQUEST, f"Campaign {campaign_id} is {kind}; only batch campaigns are scheduled"
        )
    clone_name = _clone_name(options)
    overrides = _overrides(options.get("tokens"))
    run_at = now + RUN_AT_LEAD
    if options.get("runAt"):
        run_at = max(parse_instant(str(options["runAt"]), "runAt"), run_at)
    if run_at > now + RUN_AT_HORIZON:
        raise ApiError(RUN_AT_TOO_LATE, "runAt is more than 2 years ahead")
    errors = graph_errors(definitions, campaign_id)
    if errors:
        first = errors[0]
        raise ApiError(
            BUSINESS_RULE, f"Campaign {campaign_id} cannot run: {first.code}: {first.message}"
        )
    folder = found.folder
    if clone_name is not None:
        context.clones.check()
        with context.database.begin() as connection:
            folder = clone_program(connection, found, clone_name, context.clock)
        context.clones.spend()
    try:
        scheduled = schedule_run(
            context.database,
            context.clock,
            "/".join((*folder, found.name)),
            run_at.isoformat(),
            workspace=found.workspace,
            overrides=overrides,
        )
    except UserError as error:
        raise ApiError(INVALID_REQUEST, str(error)) from None
    warnings = [Issue(code=INVALID_REQUEST, message=m) for m in scheduled.ignored]
    item = {
        "id": scheduled.scheduled.campaign_id,
        "runId": None,
        "scheduledRunId": scheduled.scheduled.id,
    }
    return success_body(Reply(result=[item], warnings=warnings))


_REQUEST_WARNINGS = {  # engine warning → API-18 code
    DUPLICATE_PEOPLE: "1036",
    UNKNOWN_PEOPLE: LEAD_NOT_FOUND,
    OVERRIDE_IGNORED: INVALID_REQUEST,
}


def _lead_ids(raw: object) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise ApiError(INVALID_REQUEST, "input.leads must be an array of {id} objects")
    ids = []
    for item in raw:
        value = item.get("id") if isinstance(item, dict) else None
        if isinstance(value, bool) or not isinstance(value, int):
            raise ApiError(INVALID_REQUEST, f"input.leads: {item!r} has no integer id")
        ids.append(value)
    return ids


@router.post("/campaigns/{campaign_id:int}/trigger.json")
def trigger_campaign(
    caller: Executor,
    keyed: IdempotencyKey,
    campaign_id: int,
    document: Annotated[Any, Depends(optional_json_body)],
) -> dict[str, Any]:
    """Request Campaign for up to 100 leads with token overrides (API-16..18, REQ-4);
    ``Idempotency-Key`` replays (LEDG-6)."""
    return once(caller, keyed, lambda: _trigger(caller, campaign_id, document))


def _trigger(caller: Caller, campaign_id: int, document: Any) -> dict[str, Any]:
    options = _input(document)
    # The 100-token limit is the engine's, checked after the campaign (API-17 order).
    tokens = _token_list(options.get("tokens"))
    leads = _lead_ids(options.get("leads"))
    context = caller.context
    with context.database.read() as connection:  # one row, not every definition
        workspace_name = connection.execute(
            select(workspace.c.name)
            .join(campaign, campaign.c.workspace_id == workspace.c.id)
            .where(campaign.c.id == campaign_id)
        ).scalar()
    if workspace_name is None:
        raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign_id} not found")
    caller.check_workspace(workspace_name, f"campaign {campaign_id}")
    result = request_campaign(
        context.database,
        context.clock,
        campaign_id,
        leads,
        tokens=tokens,
        source=WEB_SERVICE_API,
        requested_by=caller.user.name,
    )
    wake_workers(context)
    warnings = [
        Issue(code=_REQUEST_WARNINGS.get(w.code, INVALID_REQUEST), message=w.message)
        for w in result.warnings
    ]
    item = {"id": campaign_id, "runId": result.run_id}
    return success_body(Reply(result=[item], warnings=warnings))
