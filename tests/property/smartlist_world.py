"""A tiny world for smart-list tests: people, activities, a static list, written to a database.

Shared by the compiler-vs-reference property test, the explain agreement test and the
operator unit tests. The reference evaluator (`reference_filter`) is deliberately naive
and independent of `kampanj.smartlist`: it re-states SL-11..SL-24 per person in plain
Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, delete, insert, select

from kampanj.model.activities import StandardActivity
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.smartlists import Rule
from kampanj.smartlist.catalogue import Catalogue
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext, References
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import (
    add_custom_field,
    load_activity_types,
    load_field_registry,
    person_table,
)

NOW = datetime(2026, 11, 29, 12, 30, tzinfo=UTC)  # a Sunday
ZONE = ZoneInfo("Europe/Stockholm")
LIST_NAME = "VIP"
BIRTHDAY = FieldDef(
    name="birthday", display_name="Birthday", data_type=FieldType.DATE, column="", is_custom=True
)
RETENTION = {int(StandardActivity.VISIT_WEBPAGE): 90, int(StandardActivity.OPEN_EMAIL): 750}


@dataclass
class Person:
    id: int
    first_name: str | None
    lead_score: int | None
    unsubscribed: bool | None
    created_at: datetime
    birthday: date | None


@dataclass
class Act:
    id: int
    person_id: int
    type_id: int
    when: datetime
    primary: str | None
    attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class World:
    people: list[Person]
    activities: list[Act]
    list_members: set[int]


def prepare(database: Database) -> tuple[CompileContext, int]:
    """Add the custom date field and the static list once; the compile context to use."""
    with database.begin() as connection:
        add_custom_field(connection, BIRTHDAY)
        root = connection.execute(
            select(schema.folder.c.id).where(schema.folder.c.parent_id.is_(None))
        ).scalar_one()
        list_id = connection.execute(
            insert(schema.static_list)
            .values(
                workspace_id=1,
                folder_id=root,
                name=LIST_NAME,
                description="",
                created_at=NOW,
                updated_at=NOW,
            )
            .returning(schema.static_list.c.id)
        ).scalar_one()
        fields = load_field_registry(connection)
        types = load_activity_types(connection)
    ctx = CompileContext(
        catalogue=Catalogue(fields, types),
        person=person_table(fields),
        moment=Moment(now=NOW, zone=ZONE),
        references=References(static_lists={("default", "vip"): list_id}),
    )
    return ctx, list_id


def registry(ctx: CompileContext) -> FieldRegistry:
    return ctx.catalogue.fields


def write(connection: Connection, ctx: CompileContext, list_id: int, world: World) -> None:
    """Replace every person, activity and list membership with ``world``."""
    for table in (schema.list_member, schema.activity, ctx.person):
        connection.execute(delete(table))
    column = ctx.catalogue.fields["Birthday"].column
    if world.people:
        connection.execute(
            insert(ctx.person),
            [
                {
                    "id": p.id,
                    "first_name": p.first_name,
                    "lead_score": p.lead_score,
                    "unsubscribed": p.unsubscribed,
                    "created_at": p.created_at,
                    "updated_at": p.created_at,
                    column: p.birthday,
                }
                for p in world.people
            ],
        )
    if world.activities:
        connection.execute(
            insert(schema.activity),
            [
                {
                    "id": a.id,
                    "person_id": a.person_id,
                    "activity_type_id": a.type_id,
                    "activity_date": a.when,
                    "primary_attribute_value": a.primary,
                    "attributes": a.attributes,
                }
                for a in world.activities
            ],
        )
    if world.list_members:
        connection.execute(
            insert(schema.list_member),
            [{"list_id": list_id, "person_id": p, "added_at": NOW} for p in world.list_members],
        )


# -- the reference evaluator ---------------------------------------------------------------

UNITS = {"minute": 1 / 1440, "hour": 1 / 24, "day": 1, "week": 7, "month": 30, "year": 365}


def _span(text: str) -> timedelta:
    number, unit = text.split()
    return timedelta(days=int(number) * UNITS[unit.rstrip("s")])


def _frame(name: str) -> tuple[date, date]:
    """First and last day of a time frame preset around NOW in ZONE (SL-17)."""
    today = NOW.astimezone(ZONE).date()
    if name in ("today", "yesterday"):
        day = today - timedelta(days=0 if name == "today" else 1)
        return day, day
    if name.endswith("week"):
        monday = today - timedelta(days=today.weekday() + (7 if name == "last week" else 0))
        return monday, monday + timedelta(days=6)
    if name.endswith("month"):
        year, month = today.year, today.month - (1 if name == "last month" else 0)
        if month == 0:
            year, month = year - 1, 12
        following = date(year + month // 12, month % 12 + 1, 1)
        return date(year, month, 1), following - timedelta(days=1)
    if name.endswith("quarter"):
        quarter = (today.month - 1) // 3 - (1 if name == "last quarter" else 0)
        year = today.year + (quarter // 4)
        quarter %= 4
        first = date(year, quarter * 3 + 1, 1)
        after = date(year + (quarter == 3), (quarter * 3 + 3) % 12 + 1, 1)
        return first, after - timedelta(days=1)
    year = today.year - (1 if name == "last year" else 0)
    return date(year, 1, 1), date(year, 12, 31)


def date_matches(value: datetime | date | None, op: str, values: tuple[Any, ...]) -> bool:
    """SL-14..SL-17 for one value; dates (not datetimes) compare by calendar day."""
    is_day = value is not None and not isinstance(value, datetime)
    if value is None:
        return op in ("before", "on or before", "in past before", "is not", "is empty")  # SL-16
    day = value if is_day else value.astimezone(ZONE).date()  # type: ignore[union-attr]
    as_days = [date.fromisoformat(str(v)) for v in values] if op in _ABSOLUTE else []

    def instant_or_day(moment: datetime) -> Any:
        return moment.astimezone(ZONE).date() if is_day else moment

    here = day if is_day else value
    if op == "is":
        return day in as_days
    if op == "is not":
        return day not in as_days
    if op == "between":
        low, high = sorted(as_days)
        return low <= day <= high
    if op == "after":
        return day > as_days[0]
    if op == "before":
        return day < as_days[0]
    if op == "on or after":
        return day >= as_days[0]
    if op == "on or before":
        return day <= as_days[0]
    if op == "in past":
        return instant_or_day(NOW - _span(values[0])) <= here <= instant_or_day(NOW)
    if op == "in past before":
        return here < instant_or_day(NOW - _span(values[0]))
    if op == "in future":
        return instant_or_day(NOW) <= here <= instant_or_day(NOW + _span(values[0]))
    if op == "in future after":
        return here > instant_or_day(NOW + _span(values[0]))
    if op == "in time frame":
        first, last = _frame(values[0])
        return first <= day <= last
    if op == "is empty":
        return False
    assert op == "is not empty"
    return True


_ABSOLUTE = {"is", "is not", "between", "after", "before", "on or after", "on or before"}


def simple_lower(text: str) -> str:
    """Each character's simple Unicode lowercase mapping, one at a time (SL-12).

    This is PostgreSQL's ``lower()`` under a libc UTF-8 locale: no final-sigma context
    (``Σ`` is always ``σ``) and ``İ`` becomes plain ``i``.
    """
    return "".join("i" if char == "\u0130" else char.lower() for char in text)


def text_matches(value: str | None, op: str, values: tuple[Any, ...]) -> bool:
    """SL-11, SL-12."""
    empty = value is None or value == ""
    if op == "is empty":
        return empty
    if op == "is not empty":
        return not empty
    text = simple_lower(value or "")
    wanted = [simple_lower(str(v)) for v in values]
    positive = {
        "is": lambda w: text == w,
        "starts with": lambda w: text.startswith(w),
        "contains": lambda w: w in text,
    }
    if op.startswith("not ") or op == "is not":
        base = "is" if op == "is not" else op[4:]
        return empty or not any(positive[base](w) for w in wanted)
    return not empty and any(positive[op](w) for w in wanted)


def number_matches(value: float | None, op: str, values: tuple[Any, ...]) -> bool:
    """SL-13."""
    numbers = [float(v) for v in values]
    if op == "is":
        return (value or 0) in numbers
    if op == "is not":
        return (value or 0) not in numbers
    if op == "is empty":
        return value is None
    if op == "is not empty":
        return value is not None
    if value is None:
        return False
    return {
        "between": lambda: min(numbers) <= value <= max(numbers),
        "greater than": lambda: value > numbers[0],
        "less than": lambda: value < numbers[0],
        "at least": lambda: value >= numbers[0],
        "at most": lambda: value <= numbers[0],
    }[op]()


def boolean_matches(value: bool | None, op: str) -> bool:
    """SL-18."""
    return value is (op == "is true")


def reference_filter(rule: Rule, person: Person, world: World) -> bool:
    """Whether ``person`` passes ``rule``, computed the obvious way."""
    name = rule.name
    if name == "First Name":
        return text_matches(person.first_name, rule.operator or "", rule.values)
    if name == "Lead Score":
        score = None if person.lead_score is None else float(person.lead_score)
        return number_matches(score, rule.operator or "", rule.values)
    if name == "Unsubscribed":
        return boolean_matches(person.unsubscribed, rule.operator or "")
    if name == "Created At":
        return date_matches(person.created_at, rule.operator or "", rule.values)
    if name == "Birthday":
        return date_matches(person.birthday, rule.operator or "", rule.values)
    if name == "Member of List":
        member = person.id in world.list_members
        return member if rule.operator == "in" else not member
    negate = name.startswith("Not ")
    type_id = {
        "Visited Web Page": int(StandardActivity.VISIT_WEBPAGE),
        "Opened Email": int(StandardActivity.OPEN_EMAIL),
    }[name.removeprefix("Not ")]
    window = ("in past", ("30 days",))
    minimum = 1
    checks = []
    for condition in rule.constraints:
        if condition.name == "Date of Activity":
            window = (condition.operator, condition.values)
        elif condition.name == "Min. Number of Times":
            minimum = int(condition.values[0])
        else:
            checks.append(condition)
    count = 0
    for act in world.activities:
        if act.person_id != person.id or act.type_id != type_id:
            continue
        if act.when < NOW - timedelta(days=RETENTION[type_id]):  # ACT-8
            continue
        if rule.primary is not None and not text_matches(
            act.primary, rule.primary.operator, rule.primary.values
        ):
            continue
        if not date_matches(act.when, window[0], window[1]):
            continue
        ok = True
        for condition in checks:
            raw = act.attributes.get(condition.name)  # absent = empty (SL-20)
            if condition.name == "Is Mobile Device":
                ok &= boolean_matches(raw, condition.operator)
            elif condition.name == "Campaign Run ID":
                ok &= number_matches(raw, condition.operator, condition.values)
            else:
                ok &= text_matches(raw, condition.operator, condition.values)
        count += ok
    if negate:
        return count == 0  # SL-23
    return count >= minimum  # SL-22
