"""Execute Campaign on the set-based engine agrees with a per-person interpreter (DESIGN §2).

Hypothesis draws a population and a batch campaign C plus executables X1..X3 (Xi calls
only Xj with j > i, so the graph is acyclic and at most three levels deep). Flows mix
field, score, list and moment steps with Execute Campaign (choices picking different
children or Do Nothing, parent context true or false) and Remove from Flow (this, an
ancestor, or a campaign off the chain). Children have 0-1 filters and rule once or every
time. After one run of C, fields, list memberships, campaign memberships and the activity
multiset must equal `execute_reference.interpret_calls` (EXE-6..11, EXE-18, EXE-21,
FLOW-12, FLOW-18/19, ACT-4).
"""

from __future__ import annotations

import json
import os
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from engine_reference import Choice, Condition, Outcome, Person, StepDef
from execute_reference import CampaignDef, interpret_calls
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from testsupport import ACCOUNT_YAML, write

EXAMPLES = int(os.environ.get("KAMPANJ_EXECUTE_EXAMPLES", "20"))
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
LISTS = ("Hot", "Cold")
CHILDREN = ("X1", "X2", "X3")
runner = CliRunner()

# -- strategies ---------------------------------------------------------------------------


@st.composite
def populations(draw: st.DrawFn) -> list[Person]:
    count = draw(st.integers(min_value=0, max_value=8))
    return [
        Person(
            id=index + 1,
            lead_score=draw(st.sampled_from([None, 0, 5, 60, -3])),
            title=draw(st.sampled_from([None, "Lead", "an", "Anna"])),
            lists=set(draw(st.sets(st.sampled_from(LISTS)))),
        )
        for index in range(count)
    ]


@st.composite
def conditions(draw: st.DrawFn) -> Condition:
    if draw(st.booleans()):
        op = draw(st.sampled_from(["at least", "less than", "is empty"]))
        values = () if "empty" in op else (draw(st.sampled_from([0, 5, 60, 61])),)
        return Condition("Lead Score", op, values)
    op = draw(st.sampled_from(["contains", "is empty", "is not empty"]))
    values = () if "empty" in op else (draw(st.sampled_from(["an", "Lead", "x"])),)
    return Condition("Job Title", op, values)


@st.composite
def plain_steps(draw: st.DrawFn) -> StepDef:
    kind = draw(st.sampled_from(["score", "title", "add", "remove", "moment"]))
    if kind == "score":
        change = draw(st.sampled_from(["+5", "-3", "=60", "+{{lead.Lead Score}}"]))
        return StepDef("Change Score", {"scoreName": "Lead Score", "change": change})
    if kind == "title":
        value = draw(st.sampled_from(["Lead", "an", "NULL", "{{lead.Lead Score}}"]))
        return StepDef("Change Data Value", {"attribute": "Job Title", "newValue": value})
    if kind in ("add", "remove"):
        step_type = "Add to List" if kind == "add" else "Remove from List"
        return StepDef(step_type, {"list": draw(st.sampled_from(LISTS))})
    description = draw(st.sampled_from(["hi", "at {{lead.Lead Score}}"]))
    return StepDef("Interesting Moment", {"type": "Web", "description": description})


@st.composite
def execute_steps(draw: st.DrawFn, callable_children: tuple[str, ...]) -> StepDef:
    target = draw(st.sampled_from(callable_children))
    params: dict[str, Any] = {"campaign": target, "useParentContext": draw(st.booleans())}
    choices = []
    if draw(st.booleans()):
        if draw(st.booleans()):
            choices.append(Choice(draw(conditions()), {}, do_nothing=True))
        else:
            other = draw(st.sampled_from(callable_children))
            choices.append(Choice(draw(conditions()), {"campaign": other}))
    return StepDef("Execute Campaign", params, tuple(choices))


@st.composite
def remove_steps(draw: st.DrawFn) -> StepDef:
    names = st.sampled_from(["this", "C", *CHILDREN])
    targets = tuple(dict.fromkeys(draw(st.lists(names, min_size=1, max_size=2))))
    if draw(st.booleans()):
        return StepDef("Remove from Flow", {"campaigns": targets})
    # Default Do Nothing (empty params), one choice removes.
    return StepDef("Remove from Flow", {}, (Choice(draw(conditions()), {"campaigns": targets}),))


@st.composite
def flows(draw: st.DrawFn, callable_children: tuple[str, ...]) -> tuple[StepDef, ...]:
    steps: list[StepDef] = []
    for _ in range(draw(st.integers(min_value=1, max_value=4))):
        kind = draw(st.integers(min_value=0, max_value=5))
        if kind <= 2 and callable_children:
            steps.append(draw(execute_steps(callable_children)))
        elif kind == 3:
            steps.append(draw(remove_steps()))
        else:
            steps.append(draw(plain_steps()))
    return tuple(steps)


@st.composite
def worlds(draw: st.DrawFn) -> dict[str, CampaignDef]:
    campaigns = {
        "C": CampaignDef(name="C", flow=draw(flows(CHILDREN)), executable=False),
    }
    for index, name in enumerate(CHILDREN):
        campaigns[name] = CampaignDef(
            name=name,
            flow=draw(flows(CHILDREN[index + 1 :])),
            filters=tuple(draw(st.lists(conditions(), max_size=1))),
            once=draw(st.booleans()),
        )
    return campaigns


# -- the engine side ---------------------------------------------------------------------


def _condition_yaml(condition: Condition) -> dict[str, Any]:
    if not condition.values:
        return {condition.field: condition.operator}
    return {condition.field: {condition.operator: condition.values[0]}}


def _step_yaml(step: StepDef) -> dict[str, Any]:
    body: dict[str, Any] = {
        k: list(v) if isinstance(v, tuple) else v for k, v in step.params.items()
    }
    if not step.params:
        body["doNothing"] = True
    if step.choices:
        body["choices"] = [
            {"if": _condition_yaml(c.condition)}
            | ({"doNothing": True} if c.do_nothing else {})
            | {k: list(v) if isinstance(v, tuple) else v for k, v in c.params.items()}
            for c in step.choices
        ]
    return {step.type: body}


def world_yaml(campaigns: dict[str, CampaignDef]) -> str:
    items = []
    for campaign in campaigns.values():
        item: dict[str, Any] = {
            "name": campaign.name,
            "flow": [_step_yaml(step) for step in campaign.flow],
            "schedule": {"qualification": "once" if campaign.once else "every time"},
        }
        if campaign.executable:
            item["executable"] = True
            if campaign.filters:
                item["smartList"] = {"filters": [_condition_yaml(c) for c in campaign.filters]}
        else:
            item["smartList"] = {"filters": [{"Email Address": "is not empty"}]}
        items.append(item)
    document = {
        "workspace": "Default",
        "folders": [{"name": "F", "lists": [{"name": n} for n in LISTS], "campaigns": items}],
    }
    return json.dumps(document)


def _cli(*args: str) -> None:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output


_APPLIED: set[str] = set()


def load(database: Database, directory: Path, people: list[Person], text: str) -> dict[str, int]:
    """Apply the account once and the world each time; replace people, runs, history."""
    if database.url not in _APPLIED:
        _cli("apply", str(write(directory, "account.yaml", ACCOUNT_YAML)), "--db", database.url)
        _APPLIED.add(database.url)
    _cli("apply", str(write(directory, "world.yaml", text)), "--db", database.url)
    with database.begin() as connection:
        person = person_table(load_field_registry(connection))
        for table in (
            schema.activity,
            schema.run_progress,
            schema.run_step,
            schema.run_member,
            schema.call_member,
            schema.run,
            schema.campaign_member,
            schema.list_member,
            person,
        ):
            connection.execute(sa.delete(table))
        if people:
            connection.execute(
                sa.insert(person),
                [
                    {
                        "id": p.id,
                        "email": f"p{p.id}@x.com",
                        "lead_score": p.lead_score,
                        "title": p.title,
                        "created_at": T0,
                        "updated_at": T0,
                    }
                    for p in people
                ],
            )
        named = sa.select(schema.static_list.c.name, schema.static_list.c.id)
        list_ids = {row.name: row.id for row in connection.execute(named)}
        members = [
            {"list_id": list_ids[name], "person_id": p.id, "added_at": T0}
            for p in people
            for name in sorted(p.lists)
        ]
        if members:
            connection.execute(sa.insert(schema.list_member), members)
        campaigns = sa.select(schema.campaign.c.name, schema.campaign.c.id)
        return {row.name: row.id for row in connection.execute(campaigns)}


def engine_state(database: Database, ids: dict[str, int]) -> tuple[Outcome, set[tuple[str, int]]]:
    names = {campaign_id: name for name, campaign_id in ids.items()}
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        people = {
            row.id: Person(row.id, row.lead_score, row.title)
            for row in connection.execute(
                sa.select(person.c.id, person.c.lead_score, person.c.title)
            )
        }
        joined = sa.select(schema.list_member.c.person_id, schema.static_list.c.name).join(
            schema.static_list, schema.static_list.c.id == schema.list_member.c.list_id
        )
        for person_id, name in connection.execute(joined):
            people[person_id].lists.add(name)
        activity = schema.activity
        log = Counter(
            (
                row.person_id,
                row.activity_type_id,
                row.primary_attribute_value,
                repr(sorted(row.attributes.items())),
            )
            for row in connection.execute(
                sa.select(activity).where(activity.c.campaign_id.is_not(None))
            )
        )
        member = schema.campaign_member
        memberships = {
            (names[row.campaign_id], row.person_id)
            for row in connection.execute(sa.select(member.c.campaign_id, member.c.person_id))
        }
    return Outcome(people=people, activities=log), memberships


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(people=populations(), campaigns=worlds())
def test_engine_with_calls_reaches_the_reference_end_state(
    database: Database, tmp_path: Path, people: list[Person], campaigns: dict[str, CampaignDef]
) -> None:
    """EXE-6..11, EXE-18, EXE-21, FLOW-12, FLOW-18/19: same fields, lists, memberships and
    activity multiset as the per-person interpreter, with chunks of 3 people."""
    ids = load(database, tmp_path, people, world_yaml(campaigns))
    result = run_batch(database, FixedClock(T0), "C", chunk_size=3).result
    assert result.status.value == "completed", result.errors
    expected, expected_members = interpret_calls(people, campaigns, "C", ids)
    actual, actual_members = engine_state(database, ids)
    assert actual.people == expected.people
    assert actual.activities == expected.activities
    assert actual_members == expected_members
