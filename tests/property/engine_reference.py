"""A per-person reference interpreter of batch flows (DESIGN §2), for the engine property test.

Deliberately slow and plain: for each person in ascending id, for each step in order, the
first matching choice decides the parameters; then the step's rule is applied to that one
person in memory and the activities ACT-4 prescribes are appended. It imports nothing from
`kampanj.engine`, `kampanj.tokens` or the conversion code; choice conditions reuse the
smart-list reference evaluator (`smartlist_world`).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from smartlist_world import number_matches, text_matches

SCORE_MIN = -(2**31)
SCORE_MAX = 2**31 - 1
SOURCE = "Marketo Flow Action"  # ACT-5

# The two person fields the interpreter knows: stored column → display name and type.
FIELDS = {"Lead Score": ("lead_score", "score"), "Job Title": ("title", "string")}
TYPE_IDS = {
    "Change Data Value": 13,
    "Change Score": 22,
    "Add to List": 24,
    "Remove from List": 25,
    "Interesting Moment": 46,
    "Change Program Status": 104,
    "Change Program Success": 123,
    "Send Email": 6,
    "Delete Person": 37,
}
EMAIL_BLOCKED = 902

# The program steps act on program P of channel Webinar (FLOW-20): (status, success).
STATUSES = (("Not in Program", False), ("Invited", False), ("Attended", True))
OPERATIONAL = {"Hello": False, "Ops": True}  # emails the flows may send (MAIL-3)
COMM_LIMIT_PER_DAY = 2  # MAIL-6 setting of the property test's account
RUN = "RUN"  # stands for the run id in Send Email / Email Blocked attributes


@dataclass
class Membership:
    """A person's membership of program P (FLOW-20..22)."""

    status: str
    rank: int
    success: bool = False
    success_date: date | None = None
    acquired_by: bool = False


@dataclass
class Person:
    id: int
    lead_score: int | None
    title: str | None
    lists: set[str] = field(default_factory=set)
    email: str | None = None
    unsubscribed: bool | None = None
    email_invalid: bool | None = None
    membership: Membership | None = None
    acquisition: int | None = None


@dataclass(frozen=True)
class Condition:
    """A choice condition: one simple field filter (SL-11/SL-13)."""

    field: str
    operator: str
    values: tuple[Any, ...]


@dataclass(frozen=True)
class Choice:
    condition: Condition
    params: dict[str, str]
    do_nothing: bool = False


@dataclass(frozen=True)
class StepDef:
    type: str
    params: dict[str, str]
    choices: tuple[Choice, ...] = ()


@dataclass
class Outcome:
    people: dict[int, Person]
    activities: Counter[tuple[int, int, str | None, str]]
    sends: Counter[tuple[int, str, str]] = field(default_factory=Counter)
    """Outbox intents: (person, email name, step id) (MAIL-2, LEDG-1)."""


def matches(condition: Condition, person: Person) -> bool:
    if condition.field == "Lead Score":
        score = None if person.lead_score is None else float(person.lead_score)
        return number_matches(score, condition.operator, condition.values)
    return text_matches(person.title, condition.operator, condition.values)


def render(text: str, person: Person) -> str:
    """``{{lead.X}}`` → the person's value as text, empty when empty (TOK-4, TOK-5)."""

    def value(match: re.Match[str]) -> str:
        stored = getattr(person, FIELDS[match.group(1)][0])
        return "" if stored is None else str(stored)

    return re.sub(r"\{\{lead\.([^}]+)\}\}", value, text)


def convert(kind: str, text: str) -> tuple[str, Any]:
    """FLOW-13/14: ("skip", _) for blank, ("set", value) or ("error", _)."""
    if text.strip() == "":
        return "skip", None
    if text == "NULL":
        return "set", None
    if kind == "string":
        return "set", text
    if re.fullmatch(r"[+-]?[0-9]+", text) and SCORE_MIN <= int(text) <= SCORE_MAX:
        return "set", int(text)
    return "error", None


def parse_change(text: str) -> tuple[bool, int, str] | None:
    """FLOW-16: (sets, signed amount, text without surrounding spaces) or None."""
    stripped = text.strip(" \t\n\r\f\v")
    match = re.fullmatch(r"(=?)([+-]?)([0-9]+)", stripped)
    if match is None:
        return None
    amount = int(match.group(3)) * (-1 if match.group(2) == "-" else 1)
    return match.group(1) == "=", amount, stripped


def log_key(
    person_id: int,
    step_type: str,
    primary: str | None,
    extra: dict[str, Any],
    type_id: int | None = None,
) -> tuple[int, int, str | None, str]:
    attributes = {
        "Campaign": CAMPAIGN,
        "Reason": f"{CAMPAIGN}: {step_type}",
        "Source": SOURCE,
        **extra,
    }
    present = {k: v for k, v in attributes.items() if v not in (None, "")}  # SL-20
    type_id = TYPE_IDS[step_type] if type_id is None else type_id
    return person_id, type_id, primary, repr(sorted(present.items()))


CAMPAIGN = "C"


def apply_step(person: Person, step_type: str, params: dict[str, str], log: list[Any]) -> None:
    """One step's rule for one person (FLOW-13..17, FLOW-23, ACT-4)."""
    if step_type == "Change Data Value":
        name = params["attribute"]
        column, kind = FIELDS[name]
        verdict, value = convert(kind, render(params["newValue"], person))
        old = getattr(person, column)
        if verdict == "set" and old != value:  # FLOW-15: 13 only on change
            log.append(
                log_key(
                    person.id,
                    step_type,
                    name,
                    {
                        "Attribute Name": name,
                        "Old Value": None if old is None else str(old),
                        "New Value": None if value is None else str(value),
                    },
                )
            )
            setattr(person, column, value)
    elif step_type == "Change Score":
        name = params["scoreName"]
        change = parse_change(render(params["change"], person))
        if change is None:
            return  # INVALID_CHANGE: nothing written for this person
        sets, amount, text = change
        old = person.lead_score or 0  # FLOW-16: empty counts as 0
        new = max(SCORE_MIN, min(SCORE_MAX, amount if sets else old + amount))
        log.append(
            log_key(
                person.id,
                step_type,
                name,
                {
                    "Score Name": name,
                    "Change Value": text,
                    "Old Value": str(old),
                    "New Value": str(new),
                },
            )
        )
        person.lead_score = new
    elif step_type == "Add to List":
        if params["list"] not in person.lists:
            person.lists.add(params["list"])
            log.append(log_key(person.id, step_type, params["list"], {}))
    elif step_type == "Remove from List":
        if params["list"] in person.lists:
            person.lists.discard(params["list"])
            log.append(log_key(person.id, step_type, params["list"], {}))
    else:
        assert step_type == "Interesting Moment"
        description = render(params["description"], person)
        log.append(log_key(person.id, step_type, params["type"], {"Description": description}))


def interpret(
    people: list[Person], flow: list[StepDef], *, program_id: int = 0, today: date | None = None
) -> Outcome:
    """Run ``flow`` for every person, one at a time, ascending id (FLOW-2, FLOW-8, FLOW-9)."""
    state = {
        p.id: replace(
            p,
            lists=set(p.lists),
            membership=None if p.membership is None else replace(p.membership),
        )
        for p in people
    }
    log: list[Any] = []
    world = World(program_id=program_id, today=today)
    for person_id in sorted(state):
        person = state[person_id]
        world.sent_today = 0
        for position, step in enumerate(flow, start=1):
            params = dict(step.params)
            acts = True  # Delete Person acts with no params at all
            for choice in step.choices:
                if matches(choice.condition, person):
                    if choice.do_nothing:
                        params, acts = {}, False
                    else:
                        params = {**step.params, **choice.params}
                    break
            if acts and step.type in MORE_STEPS:
                MORE_STEPS[step.type](person, params, log, world, f"s{position}")
                if person.id in world.deleted:
                    break
            elif params:
                apply_step(person, step.type, params, log)
    # FLOW-25: a deleted person keeps only Delete Lead in the log.
    kept = [e for e in log if e[0] not in world.deleted or e[1] == TYPE_IDS["Delete Person"]]
    for person_id in world.deleted:
        del state[person_id]
    # Handed-off messages stay in the outbox ledger of a deleted person.
    return Outcome(people=state, activities=Counter(kept), sends=Counter(world.sends))


# -- program, email and delete steps (FLOW-20..22, FLOW-25, MAIL-2..6) ------------------


@dataclass
class World:
    """What the program / email / delete steps read beyond the person."""

    program_id: int
    today: date | None
    sent_today: int = 0
    """The current person's non-operational sends so far (MAIL-6; all happen today)."""
    sends: list[tuple[int, str, str]] = field(default_factory=list)
    deleted: set[int] = field(default_factory=set)


def _change_status(
    person: Person, params: dict[str, str], log: list[Any], world: World, step_id: str
) -> None:
    """FLOW-20/21: join or move forward; otherwise nothing (skipped backwards)."""
    names = [name.casefold() for name, _ in STATUSES]
    rank = names.index(params["newStatus"].casefold())
    name, success = STATUSES[rank]
    old = person.membership
    if old is not None and old.rank >= rank:
        return
    acquired = (
        old.acquired_by if old is not None else person.acquisition in (None, world.program_id)
    )
    already = old is not None and old.success
    new = Membership(
        status=name,
        rank=rank,
        success=success or already,
        success_date=(old.success_date if old is not None else None)
        if already or not success
        else world.today,
        acquired_by=acquired,
    )
    log.append(
        log_key(
            person.id,
            "Change Program Status",
            "P",
            {
                "Old Status": None if old is None else old.status,
                "Old Status ID": None if old is None else old.rank,
                "New Status": name,
                "New Status ID": rank,
                "Success": new.success,
                "Acquired By": acquired,
            },
        )
    )
    person.membership = new
    if old is None and acquired:
        person.acquisition = world.program_id


def _text(value: object) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _change_success(
    person: Person, params: dict[str, str], log: list[Any], world: World, step_id: str
) -> None:
    """FLOW-22: members only; one 123 per changed attribute, Success first."""
    member = person.membership
    if member is None:
        return
    if params["attribute"] == "Success":
        success = params["newValue"] in ("true", "yes", "1")
        if not success:
            new_date = None
        else:
            new_date = member.success_date if member.success else world.today
    else:
        success, new_date = True, date.fromisoformat(params["newValue"])
    for name, old, new in (
        ("Success", member.success, success),
        ("Success Date", member.success_date, new_date),
    ):
        if old != new:
            log.append(
                log_key(
                    person.id,
                    "Change Program Success",
                    "P",
                    {"Attribute Name": name, "Old Value": _text(old), "New Value": _text(new)},
                )
            )
    member.success, member.success_date = success, new_date


def _block_reason(person: Person, operational: bool, world: World) -> str | None:
    """MAIL-3/4: the first reason that applies (blocklisted and suspended are never set)."""
    address = person.email or ""
    if address == "":
        return "empty email"
    local, _, domain = address.partition("@")
    if address.count("@") != 1 or local == "" or "." not in domain:
        return "invalid email"
    if person.email_invalid:
        return "email invalid"
    if operational:
        return None
    if person.unsubscribed:
        return "unsubscribed"
    if world.sent_today >= COMM_LIMIT_PER_DAY:
        return "communication limit"
    return None


def _send_email(
    person: Person, params: dict[str, str], log: list[Any], world: World, step_id: str
) -> None:
    """MAIL-2..6: Email Blocked with its reason, or an outbox intent and Send Email."""
    name = params["email"]
    operational = OPERATIONAL[name]
    reason = _block_reason(person, operational, world)
    attributes: dict[str, Any] = {"Campaign Run ID": RUN, "Step ID": step_id}
    if reason is not None:
        log.append(
            log_key(
                person.id,
                "Send Email",
                name,
                {**attributes, "Reason": reason},
                type_id=EMAIL_BLOCKED,
            )
        )
        return
    log.append(log_key(person.id, "Send Email", name, attributes))
    world.sends.append((person.id, name, step_id))
    if not operational:
        world.sent_today += 1


def _delete(
    person: Person, params: dict[str, str], log: list[Any], world: World, step_id: str
) -> None:
    """FLOW-25: Delete Lead, then the person leaves the flow and the database."""
    log.append(log_key(person.id, "Delete Person", None, {}))
    world.deleted.add(person.id)


MORE_STEPS = {
    "Change Program Status": _change_status,
    "Change Program Success": _change_success,
    "Send Email": _send_email,
    "Delete Person": _delete,
}
