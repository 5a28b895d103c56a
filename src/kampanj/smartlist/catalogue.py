"""The filter and trigger catalogue as data (SL-12..SL-24, SL-26, ACT-3).

One ``CatalogueEntry`` per filter or trigger type: attribute filters for every field,
activity filters, inactivity filters (``Not …``) and triggers for every activity type
that has them, and the four membership filters. Each entry says which conditions it
takes (subject, primary attribute, constraints), which operators each condition
accepts and what its values must look like. Validation reads it today; the SQL
compiler and explain will hang one function pair off each ``RuleKind`` later.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from kampanj.model.activities import (
    ActivityTypeDef,
    ActivityTypeRegistry,
    StandardActivity,
)
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.names import fold
from kampanj.model.smartlists import Condition, Value


class RuleKind(StrEnum):
    """Families of rules; the API reports Attribute, Activity or Membership (API-26)."""

    ATTRIBUTE = "Attribute"
    ACTIVITY = "Activity"
    INACTIVITY = "Inactivity"
    MEMBERSHIP = "Membership"
    TRIGGER = "Trigger"


class ValueKind(StrEnum):
    """What the values of a condition must be."""

    TEXT = "text"
    NUMBER = "number"
    INTEGER = "integer"
    DATE = "date"
    BOOLEAN = "boolean"
    STATIC_LIST = "static list"
    SMART_LIST = "smart list"
    PROGRAM = "program"
    PROGRAM_STATUS = "program status"
    CAMPAIGN = "campaign"

    @property
    def is_reference(self) -> bool:
        return self in _REFERENCE_KINDS


_REFERENCE_KINDS = frozenset(
    {
        ValueKind.STATIC_LIST,
        ValueKind.SMART_LIST,
        ValueKind.PROGRAM,
        ValueKind.PROGRAM_STATUS,
        ValueKind.CAMPAIGN,
    }
)


class Arity(StrEnum):
    """How many values an operator takes."""

    NONE = "none"
    ONE = "one"
    PAIR = "two"
    MANY = "one or more"


TEXT_OPERATORS = (
    "is",
    "is not",
    "starts with",
    "not starts with",
    "contains",
    "not contains",
    "is empty",
    "is not empty",
)  # SL-12
NUMBER_OPERATORS = (
    "is",
    "is not",
    "between",
    "greater than",
    "less than",
    "at least",
    "at most",
    "is empty",
    "is not empty",
)  # SL-13
DATE_OPERATORS = (
    "is",
    "is not",
    "between",
    "after",
    "before",
    "on or after",
    "on or before",
    "in past",
    "in past before",
    "in future",
    "in future after",
    "in time frame",
    "is empty",
    "is not empty",
)  # SL-14
BOOLEAN_OPERATORS = ("is true", "is false")  # SL-18
LIST_OPERATORS = ("in", "not in")  # SL-24
IS_OPERATORS = ("is", "is not")  # SL-24
ANY_OPERATOR = "is any"  # SL-20, SL-23: primary of any value

ARITY: dict[str, Arity] = {
    "is empty": Arity.NONE,
    "is not empty": Arity.NONE,
    "is true": Arity.NONE,
    "is false": Arity.NONE,
    ANY_OPERATOR: Arity.NONE,
    "between": Arity.PAIR,
    **{
        op: Arity.ONE
        for op in (
            "greater than",
            "less than",
            "at least",
            "at most",
            "after",
            "before",
            "on or after",
            "on or before",
            "in past",
            "in past before",
            "in future",
            "in future after",
            "in time frame",
        )
    },
}
ALL_OPERATORS: tuple[str, ...] = tuple(
    dict.fromkeys(
        (
            *TEXT_OPERATORS,
            *NUMBER_OPERATORS,
            *DATE_OPERATORS,
            *BOOLEAN_OPERATORS,
            *LIST_OPERATORS,
            ANY_OPERATOR,
        )
    )
)
RELATIVE_OPERATORS = frozenset({"in past", "in past before", "in future", "in future after"})
TIME_FRAMES = (
    "today",
    "yesterday",
    "this week",
    "last week",
    "this month",
    "last month",
    "this quarter",
    "last quarter",
    "this year",
    "last year",
)  # SL-17
RELATIVE_UNITS = ("minute", "hour", "day", "week", "month", "year")  # SL-15
_RELATIVE = re.compile(r"^\s*(\d+)\s+([A-Za-z]+?)s?\s*$")

DATE_OF_ACTIVITY = "Date of Activity"
MIN_NUMBER_OF_TIMES = "Min. Number of Times"
DEFAULT_ACTIVITY_WINDOW = Condition(
    name=DATE_OF_ACTIVITY, operator="in past", values=("30 days",)
)  # SL-22, LIM-22
PRIMARY = "primary"
INACTIVITY_PREFIX = "Not "  # SL-23
REQUEST_SOURCES = ("Marketo Flow Action", "Web Service API", "Sales Insight")  # REQ-4

MEMBER_OF_LIST = "Member of List"
MEMBER_OF_SMART_LIST = "Member of Smart List"
MEMBER_OF_PROGRAM = "Member of Program"
MEMBER_OF_SMART_CAMPAIGN = "Member of Smart Campaign"

_CONSTRAINT_ALIASES = {
    "Old Value": ("Previous Value",),
    "New Value": ("New Score",),
    "Change Value": ("Change",),
}  # SL-21

# Labels Marketo shows for the primary attribute of standard activity rules.
_PRIMARY_LABELS: dict[int, tuple[str, ...]] = {
    StandardActivity.VISIT_WEBPAGE: ("Web Page",),
    StandardActivity.FILL_OUT_FORM: ("Form", "Form Name"),
    StandardActivity.CLICK_LINK: ("Link",),
    StandardActivity.SEND_EMAIL: ("Email",),
    StandardActivity.EMAIL_DELIVERED: ("Email",),
    StandardActivity.EMAIL_BOUNCED: ("Email",),
    StandardActivity.UNSUBSCRIBE_EMAIL: ("Email",),
    StandardActivity.OPEN_EMAIL: ("Email",),
    StandardActivity.CLICK_EMAIL: ("Email",),
    StandardActivity.SEND_ALERT: ("Email",),
    StandardActivity.EMAIL_BLOCKED: ("Email",),
    StandardActivity.ADD_TO_LIST: ("List",),
    StandardActivity.REMOVE_FROM_LIST: ("List",),
    StandardActivity.REQUEST_CAMPAIGN: ("Campaign",),
    StandardActivity.EXECUTE_CAMPAIGN: ("Campaign",),
    StandardActivity.REMOVE_FROM_FLOW: ("Campaign",),
    StandardActivity.CHANGE_STATUS_IN_PROGRESSION: ("Program",),
    StandardActivity.CHANGE_PROGRAM_MEMBER_DATA: ("Program",),
    StandardActivity.PUSH_LEAD: ("Program",),
    StandardActivity.CALL_WEBHOOK: ("Webhook",),
}


def operators_for(kind: ValueKind) -> tuple[str, ...]:
    """Operators a condition on values of ``kind`` accepts."""
    match kind:
        case ValueKind.TEXT:
            return TEXT_OPERATORS
        case ValueKind.NUMBER | ValueKind.INTEGER:
            return NUMBER_OPERATORS
        case ValueKind.DATE:
            return DATE_OPERATORS
        case ValueKind.BOOLEAN:
            return BOOLEAN_OPERATORS
        case ValueKind.STATIC_LIST | ValueKind.SMART_LIST:
            return LIST_OPERATORS
        case _:
            return IS_OPERATORS


def value_kind_of(data_type: FieldType) -> ValueKind:
    """Value kind of a field or attribute type."""
    if data_type.is_textual:
        return ValueKind.TEXT
    if data_type in (FieldType.INTEGER, FieldType.SCORE):
        return ValueKind.INTEGER
    if data_type.is_numeric:
        return ValueKind.NUMBER
    if data_type.is_temporal:
        return ValueKind.DATE
    return ValueKind.BOOLEAN


match_key = fold
"""Case- and whitespace-insensitive form of a catalogue name (GEN-7)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ConditionSpec:
    """One condition a rule takes: its subject value, primary attribute or a constraint."""

    name: str
    """Canonical name (``Date of Activity``, ``Webpage ID``, a field's display name)."""
    value_kind: ValueKind
    """What its values are."""
    operators: tuple[str, ...]
    """Operators it accepts, canonical casing."""
    aliases: tuple[str, ...] = ()
    """Other accepted names."""
    choices: tuple[str, ...] = ()
    """Allowed values when the values are an enumeration."""
    filter_only: bool = False
    """Only filters take it; on a trigger it is ``SL_INVALID`` (SL-21)."""

    def accepts(self, name: str) -> bool:
        wanted = match_key(name)
        return wanted == match_key(self.name) or any(match_key(a) == wanted for a in self.aliases)

    def operator(self, name: str) -> str | None:
        """Canonical spelling of operator ``name`` if this condition accepts it."""
        wanted = match_key(name)
        for operator in self.operators:
            if operator == wanted:
                return operator
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class CatalogueEntry:
    """One filter or trigger type."""

    name: str
    """Name users write, canonical casing."""
    kind: RuleKind
    """Attribute, activity, inactivity, membership filter or trigger."""
    subject: ConditionSpec | None = None
    """Operator and values of attribute and membership rules."""
    primary: ConditionSpec | None = None
    """Primary attribute of activity rules."""
    constraints: tuple[ConditionSpec, ...] = ()
    """Constraints (activity and membership rules)."""
    aliases: tuple[str, ...] = ()
    """Other accepted names (a field's REST name)."""
    field: FieldDef | None = None
    """The field of an attribute filter."""
    activity_type: ActivityTypeDef | None = None
    """The activity type of activity rules."""

    def constraint(self, name: str) -> ConditionSpec | None:
        """The constraint called ``name`` (or an alias), case-insensitively."""
        for spec in self.constraints:
            if spec.accepts(name):
                return spec
        return None

    @property
    def is_activity(self) -> bool:
        return self.kind in (RuleKind.ACTIVITY, RuleKind.INACTIVITY, RuleKind.TRIGGER)


_SHARED: dict[tuple[tuple[FieldDef, ...], tuple[ActivityTypeDef, ...]], Catalogue] = {}
_SHARED_LIMIT = 16


class Catalogue:
    """Every filter and trigger for one field registry and activity-type registry."""

    def __init__(self, fields: FieldRegistry, activity_types: ActivityTypeRegistry) -> None:
        self.fields = fields
        self.activity_types = activity_types
        self._filters: dict[str, CatalogueEntry] = {}
        self._triggers: dict[str, CatalogueEntry] = {}
        for entry in _membership_entries():
            self._add(self._filters, entry)
        for activity_type in activity_types:
            if activity_type.filter_name:
                self._add(self._filters, _activity_entry(activity_type, RuleKind.ACTIVITY))
                self._add(self._filters, _activity_entry(activity_type, RuleKind.INACTIVITY))
            if activity_type.trigger_name:
                self._add(self._triggers, _activity_entry(activity_type, RuleKind.TRIGGER))
        for field_def in fields:
            entry = _attribute_entry(field_def)
            for name in (entry.name, *entry.aliases):
                # Activity and membership names win over a field of the same name.
                self._filters.setdefault(match_key(name), entry)

    @classmethod
    def standard(cls) -> Catalogue:
        return cls(FieldRegistry.standard(), ActivityTypeRegistry.standard())

    @classmethod
    def shared(cls, fields: FieldRegistry, activity_types: ActivityTypeRegistry) -> Catalogue:
        """One catalogue per distinct pair of registries (it is never changed once built,
        and building it costs milliseconds: every run compiles against one)."""
        key = (tuple(fields), tuple(activity_types))
        found = _SHARED.get(key)
        if found is None:
            if len(_SHARED) >= _SHARED_LIMIT:
                _SHARED.clear()
            found = _SHARED[key] = cls(fields, activity_types)
        return found

    @staticmethod
    def _add(index: dict[str, CatalogueEntry], entry: CatalogueEntry) -> None:
        for name in (entry.name, *entry.aliases):
            index.setdefault(match_key(name), entry)

    def filter(self, name: str) -> CatalogueEntry | None:
        """The filter called ``name`` (GEN-7), or None."""
        return self._filters.get(match_key(name))

    def trigger(self, name: str) -> CatalogueEntry | None:
        """The trigger called ``name`` (GEN-7), or None."""
        return self._triggers.get(match_key(name))

    def filters(self) -> Iterator[CatalogueEntry]:
        return iter(dict.fromkeys(self._filters.values()))

    def triggers(self) -> Iterator[CatalogueEntry]:
        return iter(dict.fromkeys(self._triggers.values()))


def _attribute_entry(field_def: FieldDef) -> CatalogueEntry:
    kind = value_kind_of(field_def.data_type)
    aliases = tuple(
        name for name in (field_def.name, *field_def.aliases) if name != field_def.display_name
    )
    return CatalogueEntry(
        name=field_def.display_name,
        kind=RuleKind.ATTRIBUTE,
        subject=ConditionSpec(
            name=field_def.display_name, value_kind=kind, operators=operators_for(kind)
        ),
        aliases=aliases,
        field=field_def,
    )


def _membership_entries() -> tuple[CatalogueEntry, ...]:
    def subject(name: str, kind: ValueKind) -> ConditionSpec:
        return ConditionSpec(name=name, value_kind=kind, operators=operators_for(kind))

    return (
        CatalogueEntry(
            name=MEMBER_OF_LIST,
            kind=RuleKind.MEMBERSHIP,
            subject=subject("List", ValueKind.STATIC_LIST),
        ),
        CatalogueEntry(
            name=MEMBER_OF_SMART_LIST,
            kind=RuleKind.MEMBERSHIP,
            subject=subject("Smart List", ValueKind.SMART_LIST),
        ),
        CatalogueEntry(
            name=MEMBER_OF_PROGRAM,
            kind=RuleKind.MEMBERSHIP,
            subject=subject("Program", ValueKind.PROGRAM),
            constraints=(
                subject("Program Status", ValueKind.PROGRAM_STATUS),
                subject("Success", ValueKind.BOOLEAN),
                subject("Acquired By", ValueKind.BOOLEAN),
                subject("Membership Date", ValueKind.DATE),
            ),
        ),
        CatalogueEntry(
            name=MEMBER_OF_SMART_CAMPAIGN,
            kind=RuleKind.MEMBERSHIP,
            subject=subject("Smart Campaign", ValueKind.CAMPAIGN),
        ),
    )


def _activity_entry(activity_type: ActivityTypeDef, kind: RuleKind) -> CatalogueEntry:
    primary: ConditionSpec | None = None
    if activity_type.primary is not None:
        primary_kind = value_kind_of(activity_type.primary.data_type)
        stripped = re.sub(r"\s+ID$", "", activity_type.primary.name)
        labels = (PRIMARY, stripped, *_PRIMARY_LABELS.get(activity_type.id, ()))
        primary = ConditionSpec(
            name=activity_type.primary.name,
            value_kind=primary_kind,
            operators=(*operators_for(primary_kind), ANY_OPERATOR),
            aliases=tuple(dict.fromkeys(a for a in labels if a != activity_type.primary.name)),
        )
    constraints: list[ConditionSpec] = []
    for attribute in activity_type.attributes:
        value_kind = value_kind_of(attribute.data_type)
        operators = operators_for(value_kind)
        choices: tuple[str, ...] = ()
        if activity_type.id == StandardActivity.REQUEST_CAMPAIGN and attribute.name == "Source":
            operators, choices = ("is", ANY_OPERATOR), REQUEST_SOURCES  # REQ-5
        constraints.append(
            ConditionSpec(
                name=attribute.name,
                value_kind=value_kind,
                operators=operators,
                aliases=_CONSTRAINT_ALIASES.get(attribute.name, ()),
                choices=choices,
            )
        )
    constraints.append(
        ConditionSpec(
            name=DATE_OF_ACTIVITY,
            value_kind=ValueKind.DATE,
            operators=tuple(op for op in DATE_OPERATORS if "empty" not in op),
            filter_only=True,
        )
    )
    if kind is not RuleKind.INACTIVITY:
        # On a trigger it exists only to be refused with a clear SL-21 message.
        constraints.append(
            ConditionSpec(
                name=MIN_NUMBER_OF_TIMES,
                value_kind=ValueKind.INTEGER,
                operators=("at least",),
                filter_only=True,
            )
        )
    if kind is RuleKind.TRIGGER:
        name = activity_type.trigger_name or activity_type.name
    else:
        name = activity_type.filter_name or activity_type.name
        if kind is RuleKind.INACTIVITY:
            name = INACTIVITY_PREFIX + name
    return CatalogueEntry(
        name=name,
        kind=kind,
        primary=primary,
        constraints=tuple(constraints),
        activity_type=activity_type,
    )


def parse_relative(text: str) -> tuple[int, str] | None:
    """``30 days`` → (30, "day") per SL-15, or None."""
    match = _RELATIVE.match(text)
    if not match:
        return None
    unit = match.group(2).casefold()
    if unit not in RELATIVE_UNITS:
        return None
    return int(match.group(1)), unit


def is_date_text(text: str) -> bool:
    """``yyyy-MM-dd`` or an ISO-8601 date-time."""
    candidate = text.strip()
    try:
        date.fromisoformat(candidate)
        return True
    except ValueError:
        pass
    try:
        datetime.fromisoformat(candidate.replace("Z", "+00:00"))
        return True
    except ValueError:
        return False


def value_problem(spec: ConditionSpec, operator: str, values: Sequence[Value]) -> str | None:
    """Why ``values`` do not fit ``operator`` on ``spec`` (SL-9), or None when they do."""
    arity = ARITY.get(operator, Arity.MANY)
    count = len(values)
    if arity is Arity.NONE and count:
        return f"'{operator}' takes no value; remove {list(values)!r}"
    if arity is Arity.ONE and count != 1:
        return f"'{operator}' takes exactly one value"
    if arity is Arity.PAIR and count != 2:
        return f"'{operator}' takes two values, e.g. '{operator} 10 and 20'"
    if arity is Arity.MANY and count == 0:
        return f"'{operator}' needs at least one value"
    for value in values:
        problem = _single_value_problem(spec, operator, value)
        if problem:
            return problem
    return None


def _single_value_problem(spec: ConditionSpec, operator: str, value: Value) -> str | None:
    if isinstance(value, str) and not value.strip():
        return "values cannot be empty; use 'is empty' to match empty values"
    if spec.choices:
        if match_key(str(value)) not in {match_key(c) for c in spec.choices}:
            return f"{value!r} is not one of {', '.join(spec.choices)}"
        return None
    kind = spec.value_kind
    if kind is ValueKind.DATE:
        text = str(value)
        if operator in RELATIVE_OPERATORS:
            if parse_relative(text) is None:
                return (
                    f"'{operator}' needs a number and a unit such as '30 days' "
                    f"(units: {', '.join(RELATIVE_UNITS)}), not {text!r}"
                )
        elif operator == "in time frame":
            if match_key(text) not in TIME_FRAMES:
                return f"time frame must be one of {', '.join(TIME_FRAMES)}, not {text!r}"
        elif not is_date_text(text):
            return f"'{operator}' needs a date yyyy-MM-dd, not {text!r}"
        return None
    if kind in (ValueKind.NUMBER, ValueKind.INTEGER):
        if isinstance(value, bool):
            return f"{spec.name} holds numbers, not {value!r}"
        if isinstance(value, int | float):
            if kind is ValueKind.INTEGER and isinstance(value, float) and not value.is_integer():
                return f"{spec.name} holds whole numbers, not {value!r}"
            return None
        try:
            number = Decimal(str(value).strip())
        except InvalidOperation:
            return f"{spec.name} holds numbers, not {value!r}"
        if kind is ValueKind.INTEGER and number != number.to_integral_value():
            return f"{spec.name} holds whole numbers, not {value!r}"
        return None
    if isinstance(value, bool) and kind is not ValueKind.BOOLEAN:
        return f"{spec.name} does not hold true/false; write the value as text"
    return None
