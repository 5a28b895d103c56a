"""Would a person qualify for a campaign at an instant, and why (EXPL-1..5).

Everything is read in one read transaction and nothing is written. Each part reuses
what the engine decides with: the compiled trigger matchers (SL-20), the smart-list
explanation over the compiled filters (`kampanj.smartlist.explain`), the engine's
qualification rule as SQL (`kampanj.engine.qualify.eligible`) and the CMP-3 validity
check; the verdict names the first failing reason in the EXE-10 order.

Data is read as it is now; ``at`` moves the clock only (relative dates, activity
windows, qualification intervals), like a run started at that instant on today's data.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, select

from kampanj.clock import Clock
from kampanj.definitions.lookup import find_campaign
from kampanj.engine.execute import child_references, unsupported_by_engine
from kampanj.engine.frame import campaign_named
from kampanj.engine.qualify import QUALIFICATION_UNITS, eligible
from kampanj.engine.validity import campaign_problems
from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.activities import Activity, StandardActivity
from kampanj.model.campaigns import (
    Campaign,
    CampaignType,
    QualificationRule,
    QualificationRuleType,
    StepType,
)
from kampanj.model.settings import MAX_EXECUTE_DEPTH
from kampanj.model.smartlists import SmartListRules
from kampanj.smartlist.compiler import compile_campaign_rules
from kampanj.smartlist.context import CompileContext
from kampanj.smartlist.evaluation import compile_context
from kampanj.smartlist.explain import Explanation, explain_rules
from kampanj.smartlist.explain_triggers import TriggerCheck, check_trigger, trigger_type
from kampanj.store.activities_repo import activity_from_row
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import activity, campaign_member


class Reason(StrEnum):
    """Why a person does not qualify (EXE-10), in the order the first one is reported."""

    DEPTH_LIMIT = "depth limit"
    INVALID_CAMPAIGN = "invalid campaign"
    INVALID_SMART_LIST = "invalid smart list"
    SMART_LIST = "smart list"
    QUALIFICATION_RULE = "qualification rule"


@dataclass(frozen=True, kw_only=True, slots=True)
class CallCheck:
    """Where an executable would run in a call chain (EXE-7, EXE-14)."""

    callers: tuple[str, ...]
    """Caller names, the run's top campaign (level 0) first."""
    level: int
    """The explained campaign's level: the number of callers above it."""
    max_depth: int
    """Setting ``maxExecuteDepth`` now (GEN-9)."""

    @property
    def within_limit(self) -> bool:
        return self.level <= self.max_depth

    def to_json(self) -> dict[str, Any]:
        return {
            "callers": list(self.callers),
            "level": self.level,
            "maxExecuteDepth": self.max_depth,
            "withinLimit": self.within_limit,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class QualificationCheck:
    """The campaign's qualification rule for the person (CMP-17, CMP-18, EXE-9)."""

    rule: QualificationRule
    """Type and interval."""
    first_qualification: datetime | None
    """``createdAt`` of the membership (CMP-20); None if never qualified."""
    last_qualification: datetime | None
    """``updatedAt`` of the membership: the interval runs from here (CMP-18)."""
    next_eligible: datetime | None
    """Earliest instant the rule lets the person in; None when never again (``once``)."""
    passed: bool
    """Whether the rule lets the person in at the instant explained."""

    def to_json(self) -> dict[str, Any]:
        return {
            "type": self.rule.type.value,
            "interval": self.rule.interval,
            "unit": self.rule.unit.value if self.rule.unit else None,
            "firstQualification": self.first_qualification,
            "lastQualification": self.last_qualification,
            "nextEligible": self.next_eligible,
            "passed": self.passed,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignExplanation:
    """The whole answer of ``explain --campaign``."""

    campaign: Campaign
    """The campaign explained."""
    person_id: int
    """The person."""
    at: datetime
    """The instant evaluated (UTC)."""
    call: CallCheck | None
    """Level and depth check of an executable given its callers; None otherwise."""
    campaign_problems: tuple[str, ...]
    """Error findings outside the smart list that make the campaign Invalid (CMP-3)."""
    smart_list_problems: tuple[str, ...]
    """Why the smart list is invalid (SL-9), triggers included."""
    triggers: tuple[TriggerCheck, ...]
    """Every trigger checked (empty for batch and executable campaigns)."""
    smart_list: Explanation
    """Filters and logic for the person (the smart-list explanation)."""
    qualification: QualificationCheck
    """The qualification rule."""
    notes: tuple[str, ...] = ()
    """Things worth knowing that do not change the verdict."""

    @property
    def triggers_matched(self) -> bool | None:
        """Whether a trigger fires (SL-2); None when the campaign has none to check."""
        if not self.triggers:
            return None
        return any(t.matched for t in self.triggers)

    @property
    def reason(self) -> Reason | None:
        """The first failing reason (EXE-10), or None when the person qualifies."""
        if self.call is not None and not self.call.within_limit:
            return Reason.DEPTH_LIMIT
        if self.campaign_problems:
            return Reason.INVALID_CAMPAIGN
        if self.smart_list_problems:
            return Reason.INVALID_SMART_LIST
        if self.triggers_matched is False or not self.smart_list.result:
            return Reason.SMART_LIST
        if not self.qualification.passed:
            return Reason.QUALIFICATION_RULE
        return None

    @property
    def qualifies(self) -> bool:
        return self.reason is None

    def to_json(self) -> dict[str, Any]:
        campaign = self.campaign
        filters = self.smart_list.to_json()
        reason = self.reason
        return {
            "campaign": campaign.name,
            "campaignId": campaign.id,
            "workspace": campaign.workspace,
            "type": campaign.type.value,
            "executable": campaign.executable,
            "active": campaign.active,
            "personId": self.person_id,
            "at": self.at,
            "call": self.call.to_json() if self.call else None,
            "campaignProblems": list(self.campaign_problems),
            "triggers": [t.to_json() for t in self.triggers],
            "triggersMatched": self.triggers_matched,
            "smartList": {
                "valid": not self.smart_list_problems,
                "problems": list(self.smart_list_problems),
                "filters": filters["filters"],
                "logic": filters["logic"],
                "steps": filters["steps"],
                "result": filters["result"],
            },
            "qualification": self.qualification.to_json(),
            "qualifies": reason is None,
            "reason": reason.value if reason else None,
            "notes": list(self.notes),
        }


def explain_campaign(
    database: Database,
    clock: Clock,
    campaign_name: str,
    person_id: int,
    *,
    activity_id: int | None = None,
    caller_path: Sequence[str] = (),
    workspace: str | None = None,
) -> CampaignExplanation:
    """Explain ``campaign_name`` for ``person_id`` at ``clock.now()``; writes nothing."""
    with database.read() as connection:
        return explain_in(
            connection,
            clock,
            campaign_name,
            person_id,
            activity_id=activity_id,
            caller_path=caller_path,
            workspace=workspace,
        )


def explain_in(
    connection: Connection,
    clock: Clock,
    campaign_name: str,
    person_id: int,
    *,
    activity_id: int | None = None,
    caller_path: Sequence[str] = (),
    workspace: str | None = None,
) -> CampaignExplanation:
    """`explain_campaign` inside an open (read) transaction."""
    now = clock.now()
    definitions = read_definitions(connection)
    campaign = find_campaign(definitions, campaign_name, workspace)
    assert campaign.id is not None
    ctx = compile_context(connection, clock, workspace=campaign.workspace, definitions=definitions)
    if (
        connection.execute(select(ctx.person.c.id).where(ctx.person.c.id == person_id)).first()
        is None
    ):
        raise NotFoundError(f"there is no person with id {person_id}")
    given = _given_activity(connection, activity_id, person_id, now)
    call = _call_check(definitions, campaign, caller_path)
    rules = campaign.smart_list
    if campaign.executable:
        # EXE-3: an executable's triggers are a definition error (reported as such); its
        # filters narrow the persons handed over (EXE-8), here just this one.
        rules = SmartListRules(
            filters=rules.filters, match_type=rules.match_type, advanced_logic=rules.advanced_logic
        )
    compiled = compile_campaign_rules(rules, ctx)
    smart_list_findings, other_findings = _own_errors(definitions, campaign)
    smart_list_problems = tuple(dict.fromkeys([*smart_list_findings, *compiled.problems]))
    return CampaignExplanation(
        campaign=campaign,
        person_id=person_id,
        at=now,
        call=call,
        campaign_problems=tuple(other_findings),
        smart_list_problems=smart_list_problems,
        triggers=_check_triggers(connection, rules, ctx, person_id, given, now),
        smart_list=explain_rules(connection, rules, ctx, person_id),
        qualification=_qualification(connection, campaign, person_id, now),
        notes=_notes(campaign, rules, given, call),
    )


def _notes(
    campaign: Campaign, rules: SmartListRules, given: Activity | None, call: CallCheck | None
) -> tuple[str, ...]:
    """What is worth knowing without changing the verdict."""
    notes: list[str] = []
    if campaign.executable and call is None:
        notes.append(
            "executable campaign explained without --caller-path: the depth check "
            "(EXE-14) is skipped; name the callers from level 0 to include it"
        )
    if given is not None and not rules.triggers:
        notes.append(
            f"campaign {campaign.name!r} has no triggers, so activity {given.id} does not "
            "decide anything (SL-2)"
        )
    if given is not None and given.activity_type_id == StandardActivity.REQUEST_CAMPAIGN:
        notes.append(
            f"activity {given.id} is a Request Campaign activity: the engine does not match "
            "it against triggers but fires the request's target if the request was accepted "
            "(REQ-6, REQ-10); the trigger check above shows the trigger's own conditions only"
        )
    if campaign.type is CampaignType.DEFAULT and not campaign.executable:
        notes.append(
            f"campaign {campaign.name!r} has neither triggers nor filters: it can be neither "
            "run nor triggered, so nobody enters it that way (CMP-2, CMP-8)"
        )
    if rules.triggers and not campaign.active:
        notes.append(
            f"campaign {campaign.name!r} is inactive: activities are offered to it only "
            "once it is activated (CMP-14)"
        )
    return tuple(notes)


def _given_activity(
    connection: Connection, activity_id: int | None, person_id: int, now: datetime
) -> Activity | None:
    if activity_id is None:
        return None
    row = connection.execute(select(activity).where(activity.c.id == activity_id)).mappings()
    found = row.first()
    if found is None:
        raise NotFoundError(f"there is no activity with id {activity_id}")
    given = activity_from_row(found)
    if given.person_id != person_id:
        raise UserError(
            f"activity {activity_id} belongs to person {given.person_id}, not {person_id}; "
            f"name one of person {person_id}'s activities or drop --activity"
        )
    if given.activity_date > now:
        raise UserError(
            f"activity {activity_id} happened at {given.activity_date.isoformat()}, after the "
            f"instant explained ({now.isoformat()}); choose a later --at"
        )
    return given


def _check_triggers(
    connection: Connection,
    rules: SmartListRules,
    ctx: CompileContext,
    person_id: int,
    given: Activity | None,
    now: datetime,
) -> tuple[TriggerCheck, ...]:
    """Each trigger against the given activity, else the latest of its type (EXPL-4)."""
    checks = []
    for number, rule in enumerate(rules.triggers, start=1):
        subject = given
        if subject is None:
            type_id = trigger_type(rule, ctx.catalogue)
            subject = None if type_id is None else _latest(connection, person_id, type_id, now)
        checks.append(check_trigger(number, rule, ctx.catalogue, ctx.moment, subject))
    return tuple(checks)


def _latest(connection: Connection, person_id: int, type_id: int, now: datetime) -> Activity | None:
    statement = (
        select(activity)
        .where(
            activity.c.person_id == person_id,
            activity.c.activity_type_id == type_id,
            activity.c.activity_date <= now,
        )
        .order_by(activity.c.activity_date.desc(), activity.c.id.desc())
        .limit(1)
    )
    row = connection.execute(statement).mappings().first()
    return activity_from_row(row) if row is not None else None


def _own_errors(definitions: Definitions, campaign: Campaign) -> tuple[list[str], list[str]]:
    """The campaign's own error findings (CMP-3): (about its smart list, about the rest).

    The split is the engine's (EXE-12 / EXE-13); an executable with a step the run engine
    does not execute yet is refused as ``invalid campaign`` there, and so here.
    """
    assert campaign.id is not None
    problems = campaign_problems(definitions).get(campaign.id)
    smart_list = list(problems.smart_list) if problems else []
    rest = list(problems.flow) if problems else []
    if campaign.executable and unsupported_by_engine(campaign):
        rest.append(
            f"campaign {campaign.name!r} has a step the run engine does not execute yet, so "
            "its flow would not run"
        )
    return smart_list, rest


def _call_check(
    definitions: Definitions, campaign: Campaign, caller_path: Sequence[str]
) -> CallCheck | None:
    """The call chain named by ``--caller-path``, checked link by link (EXE-5, EXE-7)."""
    if not caller_path:
        return None
    if not campaign.executable:
        raise UserError(
            f"campaign {campaign.name!r} is not executable, so it is never called: "
            "--caller-path applies to executable campaigns only (EXE-2)"
        )
    callers = [find_campaign(definitions, name, campaign.workspace) for name in caller_path]
    if callers[0].executable:
        raise UserError(
            f"campaign {callers[0].name!r} is executable, so it cannot be the run's top "
            "campaign (level 0); start --caller-path with the batch, trigger or requested "
            "campaign (EXE-7)"
        )
    for level, caller in enumerate(callers[1:], start=1):
        if not caller.executable:
            raise UserError(
                f"campaign {caller.name!r} is not executable, so it cannot be called at "
                f"level {level} of --caller-path (EXE-2)"
            )
    for caller, child in zip(callers, [*callers[1:], campaign], strict=True):
        if not _calls(definitions, caller, child):
            raise UserError(
                f"campaign {caller.name!r} has no Execute Campaign step calling "
                f"{child.name!r}; --caller-path lists the callers from level 0 down, each "
                "calling the next"
            )
    settings = definitions.settings
    return CallCheck(
        callers=tuple(c.name for c in callers),
        level=len(callers),
        max_depth=settings.max_execute_depth if settings else MAX_EXECUTE_DEPTH,
    )


def _calls(definitions: Definitions, caller: Campaign, child: Campaign) -> bool:
    """Whether an executing branch of one of ``caller``'s Execute Campaign steps names
    ``child`` (EXE-5), resolved as the engine resolves it."""
    for step in caller.flow:
        if step.type is not StepType.EXECUTE_CAMPAIGN:
            continue
        for reference in child_references(step):
            target = campaign_named(definitions, reference, caller.workspace)
            if target is not None and target.id == child.id:
                return True
    return False


def _qualification(
    connection: Connection, campaign: Campaign, person_id: int, now: datetime
) -> QualificationCheck:
    assert campaign.id is not None
    rule = campaign.schedule.qualification
    history = connection.execute(
        select(campaign_member.c.created_at, campaign_member.c.updated_at).where(
            campaign_member.c.campaign_id == campaign.id,
            campaign_member.c.person_id == person_id,
        )
    ).first()
    passed = bool(connection.execute(select(eligible(rule, campaign.id, person_id, now))).scalar())
    first = history.created_at if history is not None else None
    last = history.updated_at if history is not None else None
    next_eligible: datetime | None = now
    if last is not None and rule.type is QualificationRuleType.ONCE:
        next_eligible = None
    elif last is not None and rule.type is QualificationRuleType.INTERVAL:
        assert rule.interval is not None and rule.unit is not None
        next_eligible = max(now, last + rule.interval * QUALIFICATION_UNITS[rule.unit])
    return QualificationCheck(
        rule=rule,
        first_qualification=first,
        last_qualification=last,
        next_eligible=next_eligible,
        passed=passed,
    )
