"""Explain agrees with the engine on random data (EXPL-5), on every configured backend.

Batch: seeded random people, visits, list memberships, qualification history and batch
campaigns (random filters, logic and qualification rule); for each campaign, the people
explain says qualify at instant T are exactly those a batch run at T qualifies (their
membership's ``updatedAt`` becomes T, CMP-20). Campaigns run in order, so a later one's
*Member of Smart Campaign* filter sees the earlier runs, as explain does just before.

Trigger: random Visits Web Page triggers against every random visit; explain's trigger
verdict equals the compiled smart list's ``fired_by`` and its filter verdict the compiled
predicate for that person; and for each new activity the campaigns explain says qualify are
those the trigger dispatch enqueues a run for (CMP-14).

Executable: with ``--caller-path``, explain's reason per person handed over is the one on
the Execute Campaign activity the run writes (EXE-8..14).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.events import record_event
from kampanj.engine.triggers import dispatch
from kampanj.model.activities import StandardActivity
from kampanj.services.explain_campaign import explain_campaign
from kampanj.smartlist.compiler import compile_campaign_rules
from kampanj.smartlist.evaluation import compile_context
from kampanj.store import schema
from kampanj.store.activities_repo import activity_from_row, insert_activities
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from testsupport import write

SEEDS = range(int(os.environ.get("KAMPANJ_EXPLAIN_SEEDS", "3")))
PEOPLE = 24
VISIT = int(StandardActivity.VISIT_WEBPAGE)
# Imports stamp people with the wall clock; T lies after that, so "created" is in the past.
T = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)

runner = CliRunner()

FILTERS = [
    "Lead Score: {at least: 10}",
    "Lead Score: {between: [5, 50]}",
    "Lead Score: is 0",
    "Lead Score: is empty",
    "First Name: {starts with: a}",
    "First Name: is empty",
    "Country: {is: [Sweden, Norway]}",
    "Country: {is not: Sweden}",
    "Visited Web Page: {Web Page: {contains: pricing}, Date of Activity: in past 7 days}",
    "Visited Web Page: {Min. Number of Times: 2, Date of Activity: in past 30 days}",
    "Not Visited Web Page: {Date of Activity: in past 3 days}",
    "Visited Web Page: {Query Parameters: {contains: utm}, Date of Activity: in past 20 days}",
    "Member of List: in VIP",
    "Member of List: not in VIP",
    "Person was Created: {Date of Activity: in past 1 day}",
    "Member of Smart Campaign: {is: C0}",
    "Member of Smart Campaign: {is not: C1}",
]
RULES = ["once", "every time", "{every: 1 week}", "{every: 2 days}", "{every: 30 hours}"]
PAGES = ["/pricing", "/Pricing/plans", "/blog", "/", "/docs"]
QUERIES = [None, "utm=mail", "x=1", "UTM=ads"]
NAMES = ["Ann", "anna", "Bo", "", "Åsa", "Al"]
COUNTRIES = ["Sweden", "Norway", "Chile", ""]


def _logic(rng: random.Random, count: int) -> str:
    kind = rng.choice(["all", "any", "advanced"])
    if kind != "advanced" or count < 2:
        return kind if kind != "advanced" else "all"
    numbers = rng.sample(range(1, count + 1), count)
    expression = str(numbers[0])
    for number in numbers[1:]:
        negation = "not " if rng.random() < 0.3 else ""
        expression = f"({expression} {rng.choice(['and', 'or'])} {negation}{number})"
    return expression


def _definitions(rng: random.Random, campaigns: int) -> str:
    lines = ["workspace: Default", "folders:", "  - name: F", "    lists:"]
    lines += ["      - name: VIP", "      - name: Touched", "    campaigns:"]
    for index in range(campaigns):
        chosen = rng.sample(FILTERS[:15] if index == 0 else FILTERS, rng.randint(1, 4))
        if index <= 1:
            chosen = [f for f in chosen if "C0" not in f and "C1" not in f] or [FILTERS[0]]
        lines += [f"      - name: C{index}", "        smartList:", "          filters:"]
        lines += [f"            - {rule}" for rule in chosen]
        lines += [f"          logic: {_logic(rng, len(chosen))}"]
        lines += ["        flow:", "          - Add to List: Touched"]
        lines += [f"        schedule: {{qualification: {rng.choice(RULES)}}}"]
    return "\n".join(lines) + "\n"


def _people(rng: random.Random) -> str:
    rows = ["email,firstName,leadScore,country"]
    for number in range(PEOPLE):
        score = rng.choice(["", "0", "3", "10", "25", "80"])
        rows.append(f"p{number}@x.com,{rng.choice(NAMES)},{score},{rng.choice(COUNTRIES)}")
    return "\n".join(rows) + "\n"


def _visits(rng: random.Random, person_ids: list[int]) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for person in person_ids:
        for _ in range(rng.randint(0, 4)):
            query = rng.choice(QUERIES)
            rows.append(
                {
                    "person_id": person,
                    "activity_type_id": VISIT,
                    "activity_date": T - timedelta(hours=rng.randint(1, 40 * 24)),
                    "primary_attribute_value": rng.choice(PAGES),
                    "attributes": {"Query Parameters": query} if query else {},
                }
            )
    rows.sort(key=lambda row: row["activity_date"])  # type: ignore[arg-type, return-value]
    return rows


def _build(database: Database, url: str, directory: Path, seed: int, campaigns: int) -> None:
    rng = random.Random(seed)
    for name, text, command in (
        ("world.yaml", _definitions(rng, campaigns), ["apply"]),
        ("people.csv", _people(rng), ["people", "import"]),
    ):
        result = runner.invoke(app, [*command, str(write(directory, name, text)), "--db", url])
        assert result.exit_code == 0, result.output
    with database.begin() as connection:
        person_ids = sorted(connection.execute(sa.select(schema.person.c.id)).scalars())
        insert_activities(connection, _visits(rng, person_ids))
        lists = dict(
            connection.execute(sa.select(schema.static_list.c.name, schema.static_list.c.id)).all()
        )
        members = [p for p in person_ids if rng.random() < 0.4]
        if members:
            connection.execute(
                sa.insert(schema.list_member),
                [{"list_id": lists["VIP"], "person_id": p, "added_at": T - timedelta(days=9)}
                 for p in members],
            )  # fmt: skip
        ids = dict(
            connection.execute(sa.select(schema.campaign.c.name, schema.campaign.c.id)).all()
        )
        history = [
            {
                "campaign_id": campaign_id,
                "person_id": person,
                "created_at": T - timedelta(days=20),
                "updated_at": T - timedelta(hours=rng.randint(1, 10 * 24)),
            }
            for campaign_id in ids.values()
            for person in person_ids
            if rng.random() < 0.3
        ]
        if history:
            connection.execute(sa.insert(schema.campaign_member), history)


@pytest.mark.parametrize("seed", SEEDS)
def test_batch_explain_matches_the_run(
    seed: int, database: Database, database_url: str, tmp_path: Path
) -> None:
    """EXPL-5 for batch campaigns: explain's verdict per person equals a run at T."""
    campaigns = 4
    _build(database, database_url, tmp_path, seed, campaigns)
    clock = FixedClock(T)
    with database.read() as connection:
        person_ids = sorted(connection.execute(sa.select(schema.person.c.id)).scalars())
    reasons: Counter[str] = Counter()
    for index in range(campaigns):
        name = f"C{index}"
        verdicts = {p: explain_campaign(database, clock, name, p).reason for p in person_ids}
        reasons.update(str(reason) for reason in verdicts.values())
        explained = {person for person, reason in verdicts.items() if reason is None}
        result = run_batch(database, clock, name).result
        with database.read() as connection:
            qualified = set(
                connection.execute(
                    sa.select(schema.campaign_member.c.person_id).where(
                        schema.campaign_member.c.campaign_id == result.campaign_id,
                        schema.campaign_member.c.updated_at == T,
                    )
                ).scalars()
            )
        assert explained == qualified, (name, result.status)
        assert (result.qualified or 0) == len(qualified)
    # The data exercises every outcome, so agreement is not vacuous.
    assert {"None", "smart list"} <= set(reasons), reasons


TRIGGERS = [
    "Visits Web Page: {Web Page: {contains: pricing}}",
    "Visits Web Page: {Web Page: {starts with: /p}, Query Parameters: {is not: x=1}}",
    "Visits Web Page: {Query Parameters: {contains: utm}}",
    "Visits Web Page: {Web Page: {is: [/, /docs]}}",
    "Visits Web Page: {Query Parameters: is empty}",
    "Visits Web Page",
]


@pytest.mark.parametrize("seed", SEEDS)
def test_trigger_explain_matches_the_compiled_rules(
    seed: int, database: Database, database_url: str, tmp_path: Path
) -> None:
    """EXPL-5 for trigger campaigns: trigger and filter verdicts equal the compiled list's."""
    rng = random.Random(1000 + seed)
    lines = ["workspace: Default", "folders:", "  - name: F", "    lists:", "      - name: VIP"]
    lines += ["    campaigns:"]
    for index in range(3):
        lines += [f"      - name: T{index}", "        smartList:", "          triggers:"]
        lines += [f"            - {t}" for t in rng.sample(TRIGGERS, rng.randint(1, 2))]
        lines += ["          filters:"]
        lines += [f"            - {f}" for f in rng.sample(FILTERS[:14], rng.randint(1, 2))]
        lines += ["        flow:", "          - Add to List: VIP"]
    write(tmp_path, "world.yaml", "\n".join(lines) + "\n")
    result = runner.invoke(app, ["apply", str(tmp_path / "world.yaml"), "--db", database_url])
    assert result.exit_code == 0, result.output
    write(tmp_path, "people.csv", _people(rng))
    result = runner.invoke(app, ["people", "import", str(tmp_path / "people.csv"),
                                 "--db", database_url])  # fmt: skip
    assert result.exit_code == 0, result.output
    with database.begin() as connection:
        person_ids = sorted(connection.execute(sa.select(schema.person.c.id)).scalars())
        insert_activities(connection, _visits(rng, person_ids))
    clock = FixedClock(T)
    with database.read() as connection:
        visits = [
            activity_from_row(row)
            for row in connection.execute(
                sa.select(schema.activity).where(schema.activity.c.activity_type_id == VISIT)
            ).mappings()
        ]
        definitions = read_definitions(connection)
        ctx = compile_context(connection, clock, workspace="Default", definitions=definitions)
        compiled = {
            c.name: compile_campaign_rules(c.smart_list, ctx) for c in definitions.campaigns
        }
        in_list = {
            name: {
                person
                for person in person_ids
                if connection.execute(
                    sa.select(rules.predicate).where(ctx.person.c.id == person)
                ).scalar()
            }
            for name, rules in compiled.items()
        }
    assert visits
    for name, rules in compiled.items():
        assert rules.valid, rules.problems
        for visit in visits:
            explanation = explain_campaign(
                database, clock, name, visit.person_id, activity_id=visit.id
            )
            assert explanation.triggers_matched is rules.fired_by(visit), (name, visit)
            assert explanation.smart_list.result is (visit.person_id in in_list[name])


def _reasons_written(database: Database, child: str) -> dict[int, str | None]:
    """The EXE-10 verdict of each Execute Campaign activity calling ``child``."""
    activity = schema.activity
    with database.read() as connection:
        rows = connection.execute(
            sa.select(activity.c.person_id, activity.c.attributes).where(
                activity.c.activity_type_id == int(StandardActivity.EXECUTE_CAMPAIGN),
                activity.c.primary_attribute_value == child,
            )
        ).all()
    return {
        person: None if attributes["Qualified"] else attributes["Reason"]
        for person, attributes in rows
    }


@pytest.mark.parametrize("seed", SEEDS)
def test_executable_explain_matches_the_execute_activities(
    seed: int, database: Database, database_url: str, tmp_path: Path
) -> None:
    """EXPL-3, EXPL-5: with --caller-path, explain's reason for every person handed over is
    the one the engine writes on its Execute Campaign activity (EXE-8..14)."""
    rng = random.Random(2000 + seed)
    plain = [f for f in FILTERS if "Smart Campaign" not in f]

    def campaign(name: str, executable: bool, filters: int, step: str) -> list[str]:
        lines = [f"      - name: {name}", f"        executable: {str(executable).lower()}"]
        chosen = rng.sample(plain, filters)
        if chosen:
            lines += ["        smartList:", "          filters:"]
            lines += [f"            - {rule}" for rule in chosen]
            lines += [f"          logic: {_logic(rng, len(chosen))}"]
        lines += ["        flow:", f"          - {step}"]
        return [*lines, f"        schedule: {{qualification: {rng.choice(RULES)}}}"]

    lines = ["workspace: Default", "folders:", "  - name: F", "    lists:", "      - name: VIP"]
    lines += ["      - name: Touched", "    campaigns:"]
    lines += campaign("Top", False, 1, "Execute Campaign: {campaign: Middle}")
    lines += campaign("Middle", True, rng.randint(0, 2), "Execute Campaign: {campaign: Child}")
    lines += campaign("Child", True, rng.randint(1, 3), "Add to List: Touched")
    write(tmp_path, "world.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "people.csv", _people(rng))
    for command in (["apply", "world.yaml"], ["people", "import", "people.csv"]):
        path = str(tmp_path / command[-1])
        result = runner.invoke(app, [*command[:-1], path, "--db", database_url])
        assert result.exit_code == 0, result.output
    with database.begin() as connection:
        person_ids = sorted(connection.execute(sa.select(schema.person.c.id)).scalars())
        insert_activities(connection, _visits(rng, person_ids))
        ids = dict(
            connection.execute(sa.select(schema.campaign.c.name, schema.campaign.c.id)).all()
        )
        history = [
            {
                "campaign_id": ids[name],
                "person_id": person,
                "created_at": T - timedelta(days=20),
                "updated_at": T - timedelta(hours=rng.randint(1, 10 * 24)),
            }
            for name in ("Middle", "Child")
            for person in person_ids
            if rng.random() < 0.3
        ]
        if history:
            connection.execute(sa.insert(schema.campaign_member), history)
        if seed % 3 == 2:  # Child at level 2 is above the limit (EXE-14)
            connection.execute(sa.insert(schema.setting).values(name="maxExecuteDepth", value=1))
    clock = FixedClock(T)
    expected = {
        name: {
            p: explain_campaign(database, clock, name, p, caller_path=callers).reason
            for p in person_ids
        }
        for name, callers in (("Middle", ("Top",)), ("Child", ("Top", "Middle")))
    }
    result = run_batch(database, clock, "Top").result
    assert result.status.value == "completed", result
    middle, child = _reasons_written(database, "Middle"), _reasons_written(database, "Child")
    assert middle, "nobody was handed to Middle; the seed tests nothing"
    assert middle == {p: expected["Middle"][p] for p in middle}
    assert set(child) == {p for p, reason in middle.items() if reason is None}
    assert child == {p: expected["Child"][p] for p in child}


@pytest.mark.parametrize("seed", SEEDS)
def test_trigger_explain_matches_the_dispatch(
    seed: int, database: Database, database_url: str, tmp_path: Path
) -> None:
    """EXPL-5, CMP-14: for each new activity, the active trigger campaigns explain says the
    person qualifies for are exactly those the trigger dispatch enqueues a run for."""
    rng = random.Random(3000 + seed)
    lines = ["workspace: Default", "folders:", "  - name: F", "    lists:", "      - name: VIP"]
    lines += ["    campaigns:"]
    for index in range(4):
        lines += [f"      - name: T{index}", "        active: true", "        smartList:"]
        lines += ["          triggers:"]
        lines += [f"            - {t}" for t in rng.sample(TRIGGERS, rng.randint(1, 2))]
        lines += ["          filters:"]
        lines += [f"            - {f}" for f in rng.sample(FILTERS[:14], rng.randint(1, 2))]
        lines += ["        flow:", "          - Add to List: VIP"]
        lines += [f"        schedule: {{qualification: {rng.choice(RULES)}}}"]
    write(tmp_path, "world.yaml", "\n".join(lines) + "\n")
    write(tmp_path, "people.csv", _people(rng))
    for command in (["apply", "world.yaml"], ["people", "import", "people.csv"]):
        path = str(tmp_path / command[-1])
        result = runner.invoke(app, [*command[:-1], path, "--db", database_url])
        assert result.exit_code == 0, result.output
    with database.begin() as connection:
        person_ids = sorted(connection.execute(sa.select(schema.person.c.id)).scalars())
        insert_activities(connection, _visits(rng, person_ids))
        ids = dict(
            connection.execute(sa.select(schema.campaign.c.name, schema.campaign.c.id)).all()
        )
    clock = FixedClock(T)
    dispatch(database, clock)  # the seeded visits fire first: qualification history at T
    outcomes: Counter[bool] = Counter()
    for _ in range(30):
        query = rng.choice(QUERIES)
        event = record_event(
            database,
            clock,
            "Visit Webpage",
            person_id=rng.choice(person_ids),
            primary=rng.choice(PAGES),
            attributes={"Query Parameters": query} if query else {},
            offer=False,
        )
        explained = {
            ids[name]
            for name in ids
            if explain_campaign(
                database, clock, name, event.person_id, activity_id=event.activity_id
            ).qualifies
        }
        report = dispatch(database, clock)
        enqueued = {e.campaign_id for e in report.enqueued if event.activity_id in e.activity_ids}
        assert explained == enqueued, event
        outcomes[bool(enqueued)] += 1
    assert outcomes[True] and outcomes[False], outcomes
