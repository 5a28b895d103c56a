"""Why a person is or is not in a smart list (EXPL-2, EXPL-5).

Each filter is compiled exactly as the compiler does, restricted to the one person
(``Placement.PERSON``), and evaluated on its own; its explain function reports the
values it looked at. The logic is then folded over those verdicts with the compiler's
own `evaluate_logic`, recording every sub-expression, so the verdict is the one a full
`members_query` would reach at the same instant.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, select

from kampanj.errors import NotFoundError
from kampanj.model.smartlists import SmartListRules
from kampanj.smartlist.compiler import evaluate_logic, family, filter_entry, logic_tree
from kampanj.smartlist.context import CompileContext, InvalidSmartList, Placement
from kampanj.smartlist.logic import And, FilterRef, LogicNode, Not, Or


@dataclass(frozen=True, kw_only=True, slots=True)
class FilterVerdict:
    """One filter's result for the person."""

    number: int
    """1-based filter number (SL-1)."""
    name: str
    """Filter name as written."""
    passed: bool
    """Whether it holds."""
    details: dict[str, Any]
    """Values looked at: field value, activity ids and window, memberships."""


@dataclass(frozen=True, kw_only=True, slots=True)
class LogicStep:
    """One sub-expression of the filter logic and its value."""

    expression: str
    value: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Explanation:
    """The whole answer."""

    person_id: int
    filters: tuple[FilterVerdict, ...]
    logic: str
    """The expression evaluated (``1 and 2 and …`` for All, ``1 or 2 …`` for Any)."""
    steps: tuple[LogicStep, ...]
    """Sub-expressions innermost first, the last one being the whole logic."""
    result: bool
    """Whether the person qualifies."""
    problems: tuple[str, ...] = ()
    """SL-9 reasons when the smart list is invalid (then nobody qualifies)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "personId": self.person_id,
            "valid": not self.problems,
            "problems": list(self.problems),
            "filters": [
                {"number": f.number, "name": f.name, "passed": f.passed, "details": f.details}
                for f in self.filters
            ],
            "logic": self.logic,
            "steps": [{"expression": s.expression, "value": s.value} for s in self.steps],
            "result": self.result,
        }


def explain_rules(
    connection: Connection, rules: SmartListRules, ctx: CompileContext, person_id: int
) -> Explanation:
    """Explain ``rules`` for ``person_id`` at ``ctx``'s instant."""
    person = ctx.person
    exists = connection.execute(select(person.c.id).where(person.c.id == person_id)).first()
    if exists is None:
        raise NotFoundError(f"there is no person with id {person_id}")
    probe = ctx.at(Placement.PERSON)
    verdicts: list[FilterVerdict] = []
    problems: list[str] = []
    for number, rule in enumerate(rules.filters, start=1):
        try:
            entry = filter_entry(rule, probe)
            compile_one, explain_one = family(entry)
            predicate = compile_one(rule, entry, probe)
            passed = bool(
                connection.execute(select(predicate).where(person.c.id == person_id)).scalar()
            )
            details = explain_one(connection, rule, entry, probe, person_id)
        except InvalidSmartList as error:
            problems.append(f"filter {number} ({rule.name}): {error}")
            verdicts.append(FilterVerdict(number=number, name=rule.name, passed=False, details={}))
            continue
        verdicts.append(
            FilterVerdict(number=number, name=rule.name, passed=passed, details=details)
        )
    tree: LogicNode | None = None
    try:
        tree = logic_tree(rules)
    except InvalidSmartList as error:
        problems.append(str(error))
    if problems:
        return Explanation(
            person_id=person_id,
            filters=tuple(verdicts),
            logic=rules.advanced_logic or "",
            steps=(),
            result=False,
            problems=tuple(problems),
        )
    if tree is None:
        step = LogicStep(expression="(no filters)", value=True)  # SL-3
        return Explanation(person_id=person_id, filters=(), logic="", steps=(step,), result=True)
    steps: list[LogicStep] = []

    def record(text: str, value: bool) -> tuple[str, bool]:
        steps.append(LogicStep(expression=text, value=value))
        return text, value

    leaves = [(str(v.number), v.passed) for v in verdicts]
    _, result = evaluate_logic(
        tree,
        leaves,
        both=lambda parts: record(
            "(" + " and ".join(t for t, _ in parts) + ")", all(v for _, v in parts)
        ),
        either=lambda parts: record(
            "(" + " or ".join(t for t, _ in parts) + ")", any(v for _, v in parts)
        ),
        negate=lambda part: record(f"not {part[0]}", not part[1]),
    )
    if not steps:
        steps.append(LogicStep(expression=leaves[0][0], value=result))
    return Explanation(
        person_id=person_id,
        filters=tuple(verdicts),
        logic=_text(tree),
        steps=tuple(steps),
        result=result,
    )


def _text(node: LogicNode) -> str:
    match node:
        case FilterRef(number):
            return str(number)
        case Not(operand):
            return f"not {_text(operand)}"
        case And(operands):
            return "(" + " and ".join(_text(o) for o in operands) + ")"
        case Or(operands):
            return "(" + " or ".join(_text(o) for o in operands) + ")"
    raise TypeError(node)  # pragma: no cover
