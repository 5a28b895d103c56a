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
from dataclasses import dataclass, field
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
}


@dataclass
class Person:
    id: int
    lead_score: int | None
    title: str | None
    lists: set[str] = field(default_factory=set)


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
    person_id: int, step_type: str, primary: str | None, extra: dict[str, Any]
) -> tuple[int, int, str | None, str]:
    attributes = {
        "Campaign": CAMPAIGN,
        "Reason": f"{CAMPAIGN}: {step_type}",
        "Source": SOURCE,
        **extra,
    }
    present = {k: v for k, v in attributes.items() if v not in (None, "")}  # SL-20
    return person_id, TYPE_IDS[step_type], primary, repr(sorted(present.items()))


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


def interpret(people: list[Person], flow: list[StepDef]) -> Outcome:
    """Run ``flow`` for every person, one at a time, ascending id (FLOW-2, FLOW-8, FLOW-9)."""
    state = {p.id: Person(p.id, p.lead_score, p.title, set(p.lists)) for p in people}
    log: list[Any] = []
    for person_id in sorted(state):
        person = state[person_id]
        for step in flow:
            params = dict(step.params)
            for choice in step.choices:
                if matches(choice.condition, person):
                    if choice.do_nothing:
                        params = {}
                    else:
                        params = {**step.params, **choice.params}
                    break
            if params:
                apply_step(person, step.type, params, log)
    return Outcome(people=state, activities=Counter(log))
