"""What every step implementation receives and returns, and the activity writers they share.

A step acts on a *cohort*: a SELECT of person ids (one branch of one chunk). Steps without
person tokens are a few set-based statements over it; steps whose value has person tokens
render the value for the cohort in bulk and apply it with bulk statements.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, tzinfo
from functools import reduce
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Connection,
    Select,
    String,
    Table,
    bindparam,
    case,
    cast,
    func,
    insert,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kampanj.engine.runs import Issue
from kampanj.model.campaigns import Campaign, ParamValue, Step
from kampanj.model.fields import FieldRegistry
from kampanj.smartlist.context import References
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.schema import activity
from kampanj.tokens.context import TokenContext
from kampanj.tokens.render import Template, compile_template

FLOW_SOURCE = "Marketo Flow Action"  # ACT-5: Source of activities written by steps


@dataclass(frozen=True, kw_only=True, slots=True)
class StepEnv:
    """One step of one run at one instant: what an implementation may read."""

    run_id: int
    """The run writing activities (ACT-1 ``runId``)."""
    campaign: Campaign
    """The campaign whose step executes (stored, so ``id`` is set)."""
    step: Step
    """The step."""
    now: datetime
    """The clock at this transaction (ACT-2)."""
    zone: tzinfo
    """Account time zone (FLOW-14 datetimes without offset)."""
    fields: FieldRegistry
    """Person fields."""
    person: Table
    """The ``person`` table with the account's custom columns."""
    tokens: TokenContext
    """Context tokens of this step (TOK-19..22)."""
    references: References
    """Assets by name (lists)."""
    call_path: str | None = None
    """LEDG-1 call path (step ids from level 0 down, ``s2/s1``); None at level 0 = the step id."""
    cohort_size: int | None = None
    """How many rows the cohort holds, when the caller counted them in this transaction
    (the partition's counts); None when unknown."""
    flagged: int | None = None
    """How many persons of the cohort the step type's precheck predicate (`STEP_PRECHECKS`)
    matches, counted with the partition in this transaction; None when not counted."""

    @property
    def campaign_id(self) -> int:
        assert self.campaign.id is not None
        return self.campaign.id

    def template(self, text: ParamValue) -> Template:
        """A token-bearing parameter compiled once for this step (context tokens resolved)."""
        return compile_template("" if text is None else str(text), self.tokens, self.fields)

    @property
    def ledger_path(self) -> str:
        """The call path of this step execution in ledger keys (LEDG-1)."""
        return self.call_path or self.step.id

    def issue(self, code: str, message: str, person_id: int | None = None) -> Issue:
        return Issue(
            code=code,
            message=message,
            campaign_id=self.campaign_id,
            step_id=self.step.id,
            person_id=person_id,
        )

    def flow_attributes(self) -> dict[str, str]:
        """Attributes every flow-written activity carries (ACT-3, ACT-5)."""
        return {
            "Campaign": self.campaign.name,
            "Reason": f"{self.campaign.name}: {self.step.type.value}",
            "Source": FLOW_SOURCE,
        }


@dataclass(kw_only=True, slots=True)
class StepOutcome:
    """What applying a step to one cohort did."""

    executed: int = 0
    """Persons it was applied to."""
    errors: list[Issue] = field(default_factory=list)
    """Per-person errors (FLOW-6): nothing was written for those persons."""
    warnings: list[Issue] = field(default_factory=list)
    """Per-person warnings (e.g. SCORE_CLAMPED)."""
    skipped: dict[str, int] = field(default_factory=dict)
    """Persons the step skipped, per reason (e.g. ``backwards``, FLOW-20): nothing written."""
    blocked: int = 0
    """Persons whose email was blocked (MAIL-5): Email Blocked written, not an error."""


def cohort_ids(connection: Connection, cohort: Select[Any]) -> list[int]:
    return list(connection.execute(cohort.order_by(None)).scalars())


def cohort_size(connection: Connection, cohort: Select[Any], known: int | None = None) -> int:
    """How many persons ``cohort`` holds: ``known`` when the caller counted it already in
    this transaction (`StepEnv.cohort_size`), else counted by the database."""
    if known is not None:
        return known
    counted = select(func.count()).select_from(cohort.order_by(None).subquery())
    return int(connection.execute(counted).scalar_one())


def insert_new(
    connection: Connection, table: Table, columns: Sequence[str], rows: Select[Any]
) -> None:
    """INSERT … SELECT ``rows`` skipping those whose primary key exists already.

    The primary key is probed by the insert anyway. A ``NOT EXISTS`` anti-join against the
    table being inserted into is planned from its statistics on PostgreSQL, and when those
    say "empty" the plan rescans the growing table per row (minutes at 800k rows).
    """
    keys = [column.name for column in table.primary_key.columns]
    # WHERE true: SQLite would read ON CONFLICT as a join constraint of the SELECT's FROM.
    source = rows.where(true())
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    connection.execute(
        dialect_insert(table)
        .from_select(columns, source)
        .on_conflict_do_nothing(index_elements=keys)
    )


def every_person_fails(
    connection: Connection, env: StepEnv, cohort: Select[Any], code: str, message: str
) -> StepOutcome:
    """The step cannot be applied to anyone in ``cohort``: one error per person (FLOW-6)."""
    ids = sorted(cohort_ids(connection, cohort))
    return StepOutcome(errors=[env.issue(code, message, person_id) for person_id in ids])


def attributes_document(connection: Connection, pairs: Mapping[str, ColumnElement[Any]]) -> Any:
    """The JSON object of ``pairs`` built in SQL, members whose value is NULL left out
    (empty attributes are omitted, ACT-1). Keys are bound or pre-serialised, never spliced.

    On SQLite the document is concatenated text: runs of constant members are serialised
    once in Python, and each per-row member becomes ``,"key":<json_quote(value)>`` or ''.
    That is about half the work of ``json_patch('{}', json_object(…))`` per row, and
    activities are most of what a batch step writes.
    """
    if connection.dialect.name == "postgresql":
        arguments: list[Any] = []
        for key, value in pairs.items():
            arguments.extend((literal(key, String), value))
        return func.jsonb_strip_nulls(func.jsonb_build_object(*arguments))
    pieces: list[Any] = []
    constant = ""
    for key, value in pairs.items():
        if isinstance(value, BindParameter) and isinstance(value.value, str):
            constant += f",{_json_text(key)}:{_json_text(value.value)}"
            continue
        if constant:
            pieces.append(literal(constant, String))
            constant = ""
        member = literal(f",{_json_text(key)}:", String).concat(func.json_quote(value))
        pieces.append(case((value.is_(None), literal("", String)), else_=member))
    if constant:
        pieces.append(literal(constant, String))
    if not pieces:
        return literal("{}", String)
    members = reduce(lambda left, right: left.concat(right), pieces)
    return literal("{", String).concat(func.substr(members, 2)).concat(literal("}", String))


def _json_text(value: str) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def json_bool(connection: Connection, predicate: ColumnElement[Any]) -> ColumnElement[Any]:
    """A JSON boolean attribute value (typed attributes, ACT-3) from a SQL predicate."""
    if connection.dialect.name == "postgresql":
        return predicate
    return func.json(case((predicate, "true"), else_="false"))


def text_value(value: str) -> ColumnElement[Any]:
    return literal(value, String)


def as_text(expression: ColumnElement[Any]) -> ColumnElement[Any]:
    return cast(expression, String)


def insert_activity_select(
    connection: Connection,
    env: StepEnv,
    *,
    source: Select[Any],
    person_id: ColumnElement[Any],
    activity_type_id: int,
    attributes: Mapping[str, ColumnElement[Any]],
    primary_value: str | None = None,
    primary_id: int | None = None,
) -> None:
    """INSERT … SELECT one activity per row of ``source`` (ordered by person id, ACT-2)."""
    pairs = {**{k: text_value(v) for k, v in env.flow_attributes().items()}, **attributes}
    constants = {
        "activity_type_id": activity_type_id,
        "activity_date": env.now,
        "campaign_id": env.campaign_id,
        "run_id": env.run_id,
        "primary_attribute_value_id": primary_id,
        "primary_attribute_value": primary_value,
    }
    columns = [
        person_id.label("person_id"),
        *(
            bindparam(f"c_{name}", value, type_=activity.c[name].type).label(name)
            for name, value in constants.items()
        ),
        attributes_document(connection, pairs).label("attributes"),
    ]
    selected = source.with_only_columns(*columns).order_by(person_id)
    connection.execute(
        insert(activity).from_select(["person_id", *constants, "attributes"], selected)
    )


def insert_activity_rows(
    connection: Connection,
    env: StepEnv,
    rows: Sequence[tuple[int, Mapping[str, object]]],
    *,
    activity_type_id: int,
    primary_value: str | None = None,
    primary_id: int | None = None,
) -> None:
    """Append one activity per ``(person_id, attributes)``, in the order given (ACT-2)."""
    shared = env.flow_attributes()
    insert_activities(
        connection,
        [
            activity_row(
                person_id=person_id,
                activity_type_id=activity_type_id,
                activity_date=env.now,
                attributes={**shared, **attributes},
                primary_attribute_value=primary_value,
                primary_attribute_value_id=primary_id,
                campaign_id=env.campaign_id,
                run_id=env.run_id,
            )
            for person_id, attributes in rows
        ],
    )


def update_each(
    connection: Connection, env: StepEnv, column: str, values: Sequence[tuple[int, Any]]
) -> None:
    """Set ``column`` per person in one executemany (values rendered per person)."""
    if not values:
        return
    statement = (
        update(env.person)
        .where(env.person.c.id == bindparam("b_person"))
        .values({column: bindparam("b_value"), "updated_at": env.now})
    )
    connection.execute(statement, [{"b_person": p, "b_value": v} for p, v in values])


def person_rows(
    connection: Connection, env: StepEnv, cohort: Select[Any], columns: Sequence[str]
) -> list[Mapping[str, Any]]:
    """The cohort's persons with ``columns`` (and ``id``), ascending id."""
    wanted = ["id", *(c for c in dict.fromkeys(columns) if c != "id")]
    statement = (
        select(*(env.person.c[c] for c in wanted))
        .where(env.person.c.id.in_(cohort))
        .order_by(env.person.c.id)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]
