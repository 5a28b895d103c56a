"""Request Campaign from outside a flow (REQ-3..9, API-16..18, TOK-16..18).

`request_campaign` is the engine request API behind ``kampanj request`` and REST
``trigger.json``: it checks the call whole (unknown campaign, not requestable, no people,
over 100 people or tokens → refused, nothing run), then in ONE transaction writes a Request
Campaign activity per known person, checks the target's filters and qualification rule for
them, enqueues one requested run of the qualifying people (ascending id) carrying the
accepted token overrides, and logs the call in ``campaign_request``. A refused call for a
target that is inactive or does not accept the source is logged too (``accepted`` false).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, insert, select

from kampanj.clock import Clock
from kampanj.definitions.lookup import find_campaign
from kampanj.engine import qualify, triggers
from kampanj.engine.request_rules import (
    FLOW_ACTION,
    REQUESTED_TRIGGER,
    SALES_INSIGHT,
    SOURCES,
    WEB_SERVICE_API,
    refusal,
)
from kampanj.engine.runs import Issue, RunKind, RunResult
from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import Campaign, CampaignType
from kampanj.model.settings import MAX_EXECUTE_DEPTH
from kampanj.smartlist.catalogue import match_key
from kampanj.smartlist.compiler import compile_campaign_rules
from kampanj.smartlist.evaluation import compile_context
from kampanj.store import people_repo
from kampanj.store.activities_repo import activity_row
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import activity, campaign_request
from kampanj.tokens.overrides import OverrideRequest, check_overrides
from kampanj.tokens.stored import load_token_tree

MAX_PEOPLE = 100  # API-17
MAX_TOKENS = 100  # API-17

DUPLICATE_PEOPLE = "DUPLICATE_PEOPLE"  # API-18 warning 1036
UNKNOWN_PEOPLE = "UNKNOWN_PEOPLE"  # API-18 warning 1004
OVERRIDE_IGNORED = "TOKEN_OVERRIDE_IGNORED"  # TOK-17, API warning 1003


@dataclass(frozen=True, kw_only=True, slots=True)
class RequestResult:
    """What one request did (API-16 shape plus the kampanj extras)."""

    request_id: int
    campaign_id: int
    run_id: int | None
    """The requested run; None when nobody qualified."""
    requested: tuple[int, ...]
    """Known people, each with a Request Campaign activity, ascending."""
    qualified: tuple[int, ...]
    warnings: tuple[Issue, ...] = ()
    results: tuple[RunResult, ...] = field(default_factory=tuple)

    def to_json(self) -> dict[str, Any]:
        return {
            "requestId": self.request_id,
            "campaignId": self.campaign_id,
            "runId": self.run_id,
            "requested": list(self.requested),
            "qualified": list(self.qualified),
            "warnings": [w.to_json() for w in self.warnings],
            "results": [r.to_json() for r in self.results],
        }


class EmptyRequest(UserError):
    """A request naming nobody (API-17: 701)."""

    marketo_code = "701"


def _target(definitions: Definitions, name: str | int, workspace: str | None) -> Campaign:
    if isinstance(name, int):
        found = next((c for c in definitions.campaigns if c.id == name), None)
        if found is None:
            raise NotFoundError(f"there is no campaign {name}")
        return found
    return find_campaign(definitions, name, workspace)


def request_campaign(
    database: Database,
    clock: Clock,
    name: str | int,
    person_ids: Sequence[int],
    *,
    tokens: Sequence[OverrideRequest] = (),
    source: str = WEB_SERVICE_API,
    workspace: str | None = None,
    requested_by: str | None = None,
    wait: bool = False,
) -> RequestResult:
    """Request campaign ``name`` (name, path or id) for ``person_ids`` from outside a flow
    (REQ-4: ``source`` Web Service API or Sales Insight); the caller never waits unless
    ``wait`` (tests, ``--wait``) runs the queue inline.

    Errors: `NotFoundError` (unknown campaign, API 1013), `UserError` (not requestable,
    refused, over 100 people or tokens: 1003), `EmptyRequest` (no people: 701). A refused
    request for an inactive target or one not accepting ``source`` is logged first.
    """
    canonical = next((s for s in SOURCES if match_key(s) == match_key(source)), None)
    if canonical is None or canonical == FLOW_ACTION:
        raise UserError(
            f"source {source!r} cannot be used here; use {WEB_SERVICE_API!r} or "
            f"{SALES_INSIGHT!r} (REQ-4)"
        )
    with database.read() as connection:
        definitions = read_definitions(connection)
    target = _target(definitions, name, workspace)
    assert target.id is not None
    # API-17 order: unknown (NotFoundError), not requestable, no people, too many.
    if target.executable or target.type is not CampaignType.TRIGGER:
        raise UserError(
            f"campaign {target.name!r} is not requestable: only trigger campaigns with a "
            "'Campaign is Requested' trigger can be requested (API-17, REQ-1)"
        )
    now = clock.now()
    reason = refusal(target, canonical)
    if reason is not None:
        with database.begin() as connection:
            _log(connection, target, canonical, requested_by, person_ids, tokens, now, reason)
        raise UserError(
            f"campaign {target.name!r} did not accept the request ({reason}): it must be an "
            f"active trigger campaign whose 'Campaign is Requested' trigger accepts "
            f"{canonical!r} (REQ-3, API-17); the request was logged as not accepted"
        )
    if not person_ids:
        raise EmptyRequest("name at least one person to request the campaign for (API-17)")
    if len(person_ids) > MAX_PEOPLE or len(tokens) > MAX_TOKENS:
        raise UserError(
            f"a request takes at most {MAX_PEOPLE} people and {MAX_TOKENS} tokens; this one "
            f"has {len(person_ids)} and {len(tokens)}, so nothing was requested (API-17)"
        )
    with database.begin() as connection:
        result = _accept(
            connection, clock, definitions, target, canonical, requested_by, person_ids, tokens
        )
    return run_requested(database, clock, result) if wait else result


def _accept(
    connection: Connection,
    clock: Clock,
    definitions: Definitions,
    target: Campaign,
    source: str,
    requested_by: str | None,
    person_ids: Sequence[int],
    tokens: Sequence[OverrideRequest],
) -> RequestResult:
    assert target.id is not None
    now = clock.now()
    warnings: list[Issue] = []
    unique = list(dict.fromkeys(person_ids))
    if len(unique) < len(person_ids):
        warnings.append(
            Issue(
                code=DUPLICATE_PEOPLE,
                message="duplicate people were requested once (API-18)",
                campaign_id=target.id,
            )
        )
    known = people_repo.existing_ids(connection, unique)
    unknown = [p for p in unique if p not in known]
    if unknown:
        warnings.append(
            Issue(
                code=UNKNOWN_PEOPLE,
                message=f"unknown people skipped: {', '.join(map(str, unknown))} (API-18)",
                campaign_id=target.id,
            )
        )
    tree, _ = load_token_tree(connection, definitions)
    check = check_overrides(tokens, tree, target)
    warnings.extend(
        Issue(code=OVERRIDE_IGNORED, message=item.message, campaign_id=target.id)
        for item in check.ignored
    )
    requested = sorted(known)
    activity_ids: dict[int, int] = {}
    for person_id in requested:
        row = activity_row(
            person_id=person_id,
            activity_type_id=StandardActivity.REQUEST_CAMPAIGN,
            activity_date=now,
            attributes={"Source": source, "Accepted": True},
            primary_attribute_value=target.name,
            primary_attribute_value_id=target.id,
        )
        activity_ids[person_id] = int(
            connection.execute(insert(activity).values(row).returning(activity.c.id)).scalar_one()
        )
    ctx = compile_context(connection, clock, workspace=target.workspace, definitions=definitions)
    compiled = compile_campaign_rules(target.smart_list, ctx)
    person = ctx.person
    qualified: list[int] = []
    if requested:
        statement = (
            select(person.c.id)
            .where(
                person.c.id.in_(requested),
                compiled.predicate,
                qualify.eligible(target.schedule.qualification, target.id, person.c.id, now),
            )
            .order_by(person.c.id)
        )
        qualified = list(connection.execute(statement).scalars())
    run_id: int | None = None
    if qualified:
        qualify.record_membership_of(
            connection,
            campaign_id=target.id,
            persons=select(person.c.id.label("person_id")).where(person.c.id.in_(qualified)),
            now=now,
        )
        settings = definitions.settings
        enqueued = triggers.enqueue_run(
            connection,
            definitions,
            target,
            RunKind.REQUESTED,
            [(p, activity_ids[p], REQUESTED_TRIGGER) for p in qualified],
            now=now,
            max_depth=MAX_EXECUTE_DEPTH if settings is None else settings.max_execute_depth,
            overrides=dict(check.accepted),
            warnings=[w for w in warnings if w.code == OVERRIDE_IGNORED],
        )
        run_id = enqueued.run_id
    request_id = _log(
        connection, target, source, requested_by, person_ids, tokens, now, None, run_id, warnings
    )
    return RequestResult(
        request_id=request_id,
        campaign_id=target.id,
        run_id=run_id,
        requested=tuple(requested),
        qualified=tuple(qualified),
        warnings=tuple(warnings),
    )


def _log(
    connection: Connection,
    target: Campaign,
    source: str,
    requested_by: str | None,
    person_ids: Sequence[int],
    tokens: Sequence[OverrideRequest],
    now: Any,
    reason: str | None,
    run_id: int | None = None,
    warnings: Sequence[Issue] = (),
) -> int:
    statement = insert(campaign_request).values(
        campaign_id=target.id,
        source=source,
        requested_by=requested_by,
        person_ids=list(person_ids),
        tokens=[{"name": t.name, "value": t.value} for t in tokens],
        accepted=reason is None,
        reason=reason,
        run_id=run_id,
        warnings=[w.to_json() for w in warnings],
        created_at=now,
    )
    return int(connection.execute(statement.returning(campaign_request.c.id)).scalar_one())


def run_requested(database: Database, clock: Clock, result: RequestResult) -> RequestResult:
    """``result`` after running the queue inline (the caller chose to wait)."""
    ran = tuple(triggers.drain(database, clock))
    return RequestResult(
        request_id=result.request_id,
        campaign_id=result.campaign_id,
        run_id=result.run_id,
        requested=result.requested,
        qualified=result.qualified,
        warnings=result.warnings,
        results=ran,
    )
