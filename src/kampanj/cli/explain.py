"""`kampanj explain`: why a person is or is not in a smart list or campaign (EXPL-1..5)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Annotated, Any

import typer

from kampanj.cli.common import DbOption, JsonOption, console, handle_user_errors, open_database
from kampanj.cli.common import print_json as print_document
from kampanj.clock import Clock, FixedClock, SystemClock
from kampanj.errors import UserError
from kampanj.ingest.account import account_zone
from kampanj.model.conversions import ValueConversionError, parse_datetime
from kampanj.services.explain_campaign import CampaignExplanation, explain_campaign
from kampanj.smartlist.evaluation import DEFAULT_WORKSPACE, load_smart_list
from kampanj.smartlist.explain import Explanation, explain_rules
from kampanj.smartlist.explain_triggers import TriggerCheck
from kampanj.store.database import Database


@handle_user_errors
def explain_command(
    campaign: Annotated[
        str | None,
        typer.Option("--campaign", help="Campaign to explain (name or Folder/…/Name path)."),
    ] = None,
    smart_list: Annotated[
        str | None, typer.Option("--smart-list", help="Stand-alone smart list to explain.")
    ] = None,
    person: Annotated[int | None, typer.Option("--person", help="Person id.")] = None,
    activity: Annotated[
        int | None,
        typer.Option(
            "--activity",
            help="Activity id the triggers are checked against (default: the person's latest "
            "activity of each trigger's type).",
        ),
    ] = None,
    at: Annotated[
        str | None,
        typer.Option(
            "--at",
            help="Evaluate as of this ISO-8601 instant (no offset: account time zone); "
            "default now.",
        ),
    ] = None,
    caller_path: Annotated[
        str | None,
        typer.Option(
            "--caller-path",
            help="Executable campaigns: the callers from level 0 down, comma-separated.",
        ),
    ] = None,
    workspace: Annotated[
        str | None,
        typer.Option("--workspace", help="Workspace of the smart list or campaign."),
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Why a person would or would not qualify (EXPL-1, EXPL-2); writes nothing."""
    if (campaign is None) == (smart_list is None):
        raise UserError("name what to explain: either --campaign NAME or --smart-list NAME")
    if person is None:
        raise UserError("name the person to explain: --person ID")
    database = open_database(db)
    clock = _clock(database, at)
    if smart_list is not None:
        if activity is not None or caller_path is not None:
            raise UserError("--activity and --caller-path apply to campaigns; use --campaign NAME")
        _explain_smart_list(database, clock, smart_list, person, workspace, as_json)
        return
    assert campaign is not None
    explanation = explain_campaign(
        database,
        clock,
        campaign,
        person,
        activity_id=activity,
        caller_path=_callers(caller_path),
        workspace=workspace,
    )
    if as_json:
        print_document(explanation.to_json())
        return
    for line in campaign_tree(explanation).lines():
        typer.echo(line)


def _clock(database: Database, at: str | None) -> Clock:
    if at is None:
        return SystemClock()
    with database.read() as connection:
        zone = account_zone(connection)
    try:
        return FixedClock(parse_datetime(at, zone))
    except ValueConversionError as error:
        raise UserError(f"--at: {error}") from None


def _callers(text: str | None) -> tuple[str, ...]:
    if text is None:
        return ()
    names = tuple(name.strip() for name in text.split(","))
    if not all(names):
        raise UserError(
            f"--caller-path {text!r} has an empty name; write the callers from level 0 down, "
            "separated by commas"
        )
    return names


def _explain_smart_list(
    database: Database,
    clock: Clock,
    name: str,
    person: int,
    workspace: str | None,
    as_json: bool,
) -> None:
    with database.read() as connection:
        loaded = load_smart_list(connection, clock, name, workspace=workspace or DEFAULT_WORKSPACE)
        explanation = explain_rules(connection, loaded.smart_list.rules, loaded.context, person)
    if as_json:
        print_document({"smartList": loaded.smart_list.name, **explanation.to_json()})
        return
    verdict = "qualifies" if explanation.result else "does not qualify"
    console.print(
        f"Person {person} {verdict} for smart list {loaded.smart_list.name!r}", highlight=False
    )
    for problem in explanation.problems:
        console.print(f"  invalid: {problem}", highlight=False)
    for item in explanation.filters:
        mark = "pass" if item.passed else "fail"
        console.print(f"  {item.number}. {item.name}: {mark}", highlight=False)
        for key, value in item.details.items():
            console.print(f"       {key}: {plain(value)}", highlight=False)
    for step in explanation.steps:
        console.print(f"  {step.expression} = {plain(step.value)}", highlight=False)


@dataclass
class Tree:
    """A labelled node drawn with box-drawing guides; labels are never wrapped or cut."""

    label: str
    children: list[Tree] = field(default_factory=list)

    def add(self, label: str) -> Tree:
        child = Tree(label)
        self.children.append(child)
        return child

    def lines(self) -> list[str]:
        drawn = [self.label]
        for index, child in enumerate(self.children):
            last = index == len(self.children) - 1
            head, rest = ("└── ", "    ") if last else ("├── ", "│   ")
            below = child.lines()
            drawn.append(head + below[0])
            drawn.extend(rest + line for line in below[1:])
        return drawn


def campaign_tree(explanation: CampaignExplanation) -> Tree:
    """The campaign explanation as a tree: call, triggers, filters, logic, rule, verdict."""
    campaign = explanation.campaign
    verdict = "qualifies" if explanation.qualifies else "does not qualify"
    root = Tree(
        f"Person {explanation.person_id} {verdict} for campaign {campaign.name!r} "
        f"({_kind(explanation)}) at {plain(explanation.at)}"
    )
    if explanation.call is not None:
        call = explanation.call
        chain = " > ".join((*call.callers, campaign.name))
        mark = "within the limit" if call.within_limit else "above the limit"
        root.add(f"call: level {call.level} ({chain}), maxExecuteDepth {call.max_depth}: {mark}")
    if explanation.campaign_problems:
        branch = root.add("campaign: invalid")
        for problem in explanation.campaign_problems:
            branch.add(problem)
    if explanation.triggers:
        branch = root.add("triggers (any one fires)")
        for trigger in explanation.triggers:
            _add_trigger(branch, trigger)
    _add_smart_list(root, explanation.smart_list, explanation.smart_list_problems)
    qualification = explanation.qualification
    rule = qualification.rule
    every = f" every {rule.interval} {rule.unit.value}" if rule.interval and rule.unit else ""
    branch = root.add(
        f"qualification rule: {rule.type.value}{every}: {_mark(qualification.passed)}"
    )
    for label, instant in (
        ("first qualification", qualification.first_qualification),
        ("last qualification", qualification.last_qualification),
    ):
        branch.add(f"{label}: {'never' if instant is None else plain(instant)}")
    next_text = (
        "never again" if qualification.next_eligible is None else plain(qualification.next_eligible)
    )
    branch.add(f"next eligible: {next_text}")
    if explanation.notes:
        branch = root.add("notes")
        for note in explanation.notes:
            branch.add(note)
    reason = explanation.reason
    root.add("verdict: qualifies" if reason is None else f"verdict: not qualified: {reason}")
    return root


def _kind(explanation: CampaignExplanation) -> str:
    campaign = explanation.campaign
    if campaign.executable:
        return "executable"
    return f"{campaign.type.value}, {'active' if campaign.active else 'inactive'}"


def _add_trigger(branch: Tree, trigger: TriggerCheck) -> None:
    head = f"{trigger.number}. {trigger.name}: "
    if trigger.problem is not None:
        branch.add(f"{head}invalid: {trigger.problem}")
        return
    found = trigger.activity
    if found is None:
        branch.add(f"{head}no activity ({trigger.activity_type})")
        return
    where = f"activity {found.id} at {plain(found.activity_date)}"
    if not trigger.type_matches:
        branch.add(f"{head}not matched: {where} is not a {trigger.activity_type} activity")
        return
    node = branch.add(f"{head}{'matched' if trigger.matched else 'not matched'}: {where}")
    for condition in trigger.conditions:
        node.add(
            f"{condition.name} {condition.operator} {plain(list(condition.expected))}: "
            f"actual {plain(condition.actual)}: {_mark(condition.passed)}"
        )


def _add_smart_list(root: Tree, explanation: Explanation, problems: tuple[str, ...]) -> None:
    if problems:
        branch = root.add("smart list: invalid, qualifies nobody (SL-10)")
        for problem in problems:
            branch.add(problem)
    if explanation.filters:
        branch = root.add("filters")
        for item in explanation.filters:
            node = branch.add(f"{item.number}. {item.name}: {_mark(item.passed)}")
            for key, value in item.details.items():
                node.add(f"{key}: {plain(value)}")
    if explanation.steps:
        branch = root.add(f"logic: {explanation.logic or '(no filters)'}")
        for step in explanation.steps:
            branch.add(f"{step.expression} = {plain(step.value)}")


def _mark(passed: bool) -> str:
    return "pass" if passed else "fail"


def plain(value: Any) -> str:
    """A detail value as a person reads it: ISO instants, lists and maps without quotes."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(plain(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {plain(v)}" for k, v in value.items()) + "}"
    if value is None:
        return "(empty)"
    return str(value).lower() if isinstance(value, bool) else str(value)
