"""`explain --campaign` on both databases: triggers, filters, rule, call path (EXPL-1..4)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.errors import NotFoundError, UserError
from kampanj.services.explain_campaign import CampaignExplanation, Reason, explain_campaign
from kampanj.store import schema
from kampanj.store.database import Database
from testsupport import dump_tables, write

runner = CliRunner()
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

WORLD = """\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
    campaigns:
      - name: Pricing Visitors
        active: true
        smartList:
          triggers:
            - Visits Web Page: {Web Page: {contains: pricing}, Query Parameters: {is not: utm=spam}}
            - Fills Out Form: {Form: is Contact}
          filters:
            - Lead Score: {at least: 10}
        flow:
          - Add to List: Hot
      - name: Weekly Visitors
        smartList:
          filters:
            - Lead Score: {at least: 10}
            - Visited Web Page: {Web Page: {contains: pricing}, Date of Activity: in past 7 days}
            - First Name: {starts with: z}
          logic: 1 and (2 or 3)
        flow:
          - Add to List: Hot
        schedule: {qualification: {every: 1 week}}
      - name: Top
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Execute Campaign: {campaign: Middle}
      - name: Middle
        executable: true
        flow:
          - Execute Campaign: {campaign: Child}
      - name: Idle
        flow:
          - Add to List: Hot
      - name: Child
        executable: true
        smartList:
          filters:
            - Lead Score: {at least: 10}
        flow:
          - Add to List: Hot
"""

PEOPLE = "email,firstName,leadScore\nann@x.com,Ann,12\nbo@x.com,Bo,3\n"


def _history(*rows: tuple[int, str, datetime, str, dict[str, Any]]) -> str:
    return "".join(
        json.dumps(
            {
                "personId": person,
                "activityType": kind,
                "activityDate": when.isoformat(),
                "primaryAttributeValue": primary,
                "attributes": attributes,
            }
        )
        + "\n"
        for person, kind, when, primary, attributes in rows
    )


# Visits V[0]..V[3] (people import writes a New Lead activity per person first).
HISTORY = _history(
    (1, "Visit Webpage", T0 - timedelta(days=5), "/pricing", {"Query Parameters": "utm=mail"}),
    (1, "Visit Webpage", T0 - timedelta(days=1), "/blog", {}),  # Ann's latest visit at T0
    (2, "Visit Webpage", T0 - timedelta(days=2), "/Pricing", {}),
    (1, "Visit Webpage", T0 + timedelta(days=1), "/pricing", {}),  # after T0
)


def _cli(*args: str) -> Any:
    result = runner.invoke(app, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture
def world(database: Database, database_url: str, tmp_path: Path) -> Database:
    _cli("apply", str(write(tmp_path, "world.yaml", WORLD)), "--db", database_url)
    _cli("people", "import", str(write(tmp_path, "p.csv", PEOPLE)), "--db", database_url)
    _cli("activities", "import", str(write(tmp_path, "h.jsonl", HISTORY)), "--db", database_url)
    return database


def _visits(database: Database) -> list[int]:
    activity = schema.activity
    with database.read() as connection:
        return list(
            connection.execute(
                sa.select(activity.c.id)
                .where(activity.c.activity_type_id == 1)
                .order_by(activity.c.id)
            ).scalars()
        )


def _explain(
    database: Database, campaign: str, person: int, at: datetime = T0, **options: Any
) -> CampaignExplanation:
    return explain_campaign(database, FixedClock(at), campaign, person, **options)


def _campaign_id(database: Database, name: str) -> int:
    with database.read() as connection:
        return int(
            connection.execute(
                sa.select(schema.campaign.c.id).where(schema.campaign.c.name == name)
            ).scalar_one()
        )


def _qualified_before(database: Database, campaign: str, person: int, when: datetime) -> None:
    with database.begin() as connection:
        connection.execute(
            sa.insert(schema.campaign_member).values(
                campaign_id=_campaign_id(database, campaign),
                person_id=person,
                created_at=when - timedelta(days=30),
                updated_at=when,
            )
        )


def test_trigger_checked_against_the_given_activity(world: Database) -> None:
    """EXPL-2, SL-20: each primary and constraint value against the expected values."""
    V = _visits(world)
    explanation = _explain(world, "Pricing Visitors", 1, activity_id=V[0])
    visit, form = explanation.triggers
    assert visit.matched and visit.activity is not None and visit.activity.id == V[0]
    assert [(c.name, c.operator, c.expected, c.actual, c.passed) for c in visit.conditions] == [
        ("Webpage ID", "contains", ("pricing",), "/pricing", True),
        ("Query Parameters", "is not", ("utm=spam",), "utm=mail", True),
    ]
    assert not form.matched and not form.type_matches  # a visit is not a form fill
    assert explanation.smart_list.result and explanation.qualification.passed
    assert explanation.qualifies and explanation.reason is None

    missed = _explain(world, "Pricing Visitors", 1, activity_id=V[1])
    assert missed.triggers[0].conditions[0].passed is False
    assert missed.triggers[0].conditions[0].actual == "/blog"
    assert missed.triggers_matched is False
    assert missed.reason is Reason.SMART_LIST


def test_without_activity_each_trigger_uses_the_latest_of_its_type(world: Database) -> None:
    """EXPL-4: the latest activity of each trigger's type as of the instant, or none."""
    V = _visits(world)
    explanation = _explain(world, "Pricing Visitors", 1)
    visit, form = explanation.triggers
    assert visit.activity is not None and visit.activity.id == V[1]  # V[3] lies after T0
    assert not visit.matched
    assert form.activity is None and not form.matched
    assert explanation.reason is Reason.SMART_LIST

    later = _explain(world, "Pricing Visitors", 1, at=T0 + timedelta(days=2))
    assert later.triggers[0].activity is not None and later.triggers[0].activity.id == V[3]
    assert later.qualifies


def test_filters_fail_after_the_trigger_matches(world: Database) -> None:
    """CMP-14: filters are checked after the trigger; Bo's score fails filter 1."""
    V = _visits(world)
    explanation = _explain(world, "Pricing Visitors", 2, activity_id=V[2])
    assert explanation.triggers_matched is True
    assert [f.passed for f in explanation.smart_list.filters] == [False]
    assert explanation.smart_list.filters[0].details["actual"] == 3
    assert explanation.reason is Reason.SMART_LIST


def test_once_rule_blocks_a_second_qualification(world: Database) -> None:
    """CMP-17 once: a member never qualifies again; next eligible is never."""
    V = _visits(world)
    _qualified_before(world, "Pricing Visitors", 1, T0 - timedelta(days=400))
    explanation = _explain(world, "Pricing Visitors", 1, activity_id=V[0])
    rule = explanation.qualification
    assert rule.last_qualification == T0 - timedelta(days=400)
    assert rule.first_qualification == T0 - timedelta(days=430)
    assert not rule.passed and rule.next_eligible is None
    assert explanation.reason is Reason.QUALIFICATION_RULE


def test_at_moves_windows_and_intervals(world: Database) -> None:
    """EXPL-1 --at: the activity window and the interval are measured from the instant."""
    _qualified_before(world, "Weekly Visitors", 1, T0 - timedelta(days=6))
    now = _explain(world, "Weekly Visitors", 1)
    assert [f.passed for f in now.smart_list.filters] == [True, True, False]
    assert not now.qualification.passed
    assert now.qualification.next_eligible == T0 + timedelta(days=1)
    assert now.reason is Reason.QUALIFICATION_RULE
    assert now.smart_list.steps[-1].expression == "(1 and (2 or 3))"

    # One day on, the interval has passed; visit 4 (T0 + 1 day) keeps filter 2 true.
    later = _explain(world, "Weekly Visitors", 1, at=T0 + timedelta(days=1))
    assert later.qualification.passed and later.qualifies
    # Eight days after the last visit the window no longer holds it.
    gone = _explain(world, "Weekly Visitors", 1, at=T0 + timedelta(days=9))
    assert [f.passed for f in gone.smart_list.filters] == [True, False, False]
    assert gone.reason is Reason.SMART_LIST


def test_caller_path_level_and_depth_limit(world: Database) -> None:
    """EXPL-3, EXE-7, EXE-14: the level from the callers; above maxExecuteDepth, depth limit."""
    explanation = _explain(world, "Child", 1, caller_path=("Top", "Middle"))
    assert explanation.call is not None
    assert (explanation.call.level, explanation.call.max_depth) == (2, 3)
    assert explanation.qualifies
    assert _explain(world, "Child", 2, caller_path=("Top", "Middle")).reason is Reason.SMART_LIST

    with world.begin() as connection:  # GEN-9: the guard reads the current setting
        connection.execute(
            sa.delete(schema.setting).where(schema.setting.c.name == "maxExecuteDepth")
        )
        connection.execute(sa.insert(schema.setting).values(name="maxExecuteDepth", value=1))
    limited = _explain(world, "Child", 2, caller_path=("Top", "Middle"))
    assert limited.call is not None and not limited.call.within_limit
    assert limited.reason is Reason.DEPTH_LIMIT  # before any other reason (EXE-10)
    assert _explain(world, "Middle", 1, caller_path=("Top",)).qualifies  # level 1


def test_executable_without_caller_path_says_the_depth_is_unchecked(world: Database) -> None:
    """EXE-8: the person is the universe; without callers the depth check is skipped."""
    explanation = _explain(world, "Middle", 2)
    assert explanation.call is None and explanation.qualifies  # no filters: everyone
    assert any("--caller-path" in note for note in explanation.notes)


def test_request_campaign_activity_is_noted(world: Database) -> None:
    """REQ-6: a Request Campaign activity fires its target, not triggers; explain says so."""
    with world.begin() as connection:
        found = connection.execute(
            sa.insert(schema.activity)
            .values(
                person_id=1,
                activity_type_id=47,
                activity_date=T0 - timedelta(hours=1),
                primary_attribute_value="Pricing Visitors",
                attributes={"Source": "Marketo Flow Action"},
            )
            .returning(schema.activity.c.id)
        ).scalar_one()
    explanation = _explain(world, "Pricing Visitors", 1, activity_id=found)
    assert any("Request Campaign activity" in note for note in explanation.notes)
    assert explanation.triggers_matched is False


def test_notes_on_campaigns_that_never_take_anyone_this_way(world: Database) -> None:
    """CMP-2, CMP-8, CMP-14: notes say why a verdict may never be acted on."""
    idle = _explain(world, "Idle", 1)
    assert idle.qualifies and any("neither triggers nor filters" in n for n in idle.notes)
    with world.begin() as connection:
        connection.execute(sa.update(schema.campaign).values(active=False))
    inactive = _explain(world, "Pricing Visitors", 1, activity_id=_visits(world)[0])
    assert inactive.qualifies and any("is inactive" in n for n in inactive.notes)


@pytest.mark.parametrize(
    ("campaign", "callers", "message"),
    [
        ("Top", ("Middle",), "'Top' is not executable"),
        ("Child", ("Middle",), "cannot be the run's top campaign"),
        ("Child", ("Top",), "'Top' has no Execute Campaign step calling 'Child'"),
        ("Child", ("Top", "Weekly Visitors"), "'Weekly Visitors' is not executable"),
        ("Child", ("Top", "Nobody"), "no campaign named 'Nobody'"),
    ],
)
def test_bad_caller_paths_are_user_errors(
    world: Database, campaign: str, callers: tuple[str, ...], message: str
) -> None:
    """EXE-5, EXE-7: every link of --caller-path must be a real call."""
    with pytest.raises(UserError, match=message):
        _explain(world, campaign, 1, caller_path=callers)


def test_unknown_names_and_foreign_activities(world: Database) -> None:
    """Bad input names what to fix."""
    V = _visits(world)
    with pytest.raises(NotFoundError, match="no campaign named 'Pricing'"):
        _explain(world, "Pricing", 1)
    with pytest.raises(NotFoundError, match="no person with id 9"):
        _explain(world, "Top", 9)
    with pytest.raises(NotFoundError, match="no activity with id 99"):
        _explain(world, "Pricing Visitors", 1, activity_id=99)
    with pytest.raises(UserError, match=f"activity {V[2]} belongs to person 2, not 1"):
        _explain(world, "Pricing Visitors", 1, activity_id=V[2])
    with pytest.raises(UserError, match="after the instant explained"):
        _explain(world, "Pricing Visitors", 1, activity_id=V[3])


INVALID = """\
workspace: Default
folders:
  - name: G
    smartLists:
      - name: Broken
        filters:
          - Lead Score: {at least: many}
    campaigns:
      - name: Uses Broken
        smartList:
          filters:
            - Member of Smart List: {in: [Broken]}
        flow:
          - Add to List: Nowhere
      - name: Bad Flow
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Add to List: Nowhere
      - name: Bad List
        smartList:
          filters:
            - Member of Smart List: {in: [Broken]}
"""


def test_invalid_smart_list_and_invalid_campaign(
    world: Database, database_url: str, tmp_path: Path
) -> None:
    """EXE-12, EXE-13, SL-10: the first applicable reason in EXE-10 order."""
    result = runner.invoke(
        app, ["apply", str(write(tmp_path, "bad.yaml", INVALID)), "--db", database_url, "--force"]
    )
    assert result.exit_code in (0, 1), result.output
    both = _explain(world, "Uses Broken", 1)
    assert both.campaign_problems and both.smart_list_problems
    assert both.reason is Reason.INVALID_CAMPAIGN  # listed before invalid smart list
    flow_only = _explain(world, "Bad Flow", 1)
    assert flow_only.reason is Reason.INVALID_CAMPAIGN and not flow_only.smart_list_problems
    list_only = _explain(world, "Bad List", 1)
    assert list_only.reason is Reason.INVALID_SMART_LIST and not list_only.campaign_problems
    assert not list_only.smart_list.result


def test_cli_json_text_and_no_writes(world: Database, database_url: str) -> None:
    """EXPL-1: one JSON document, a readable tree, exit 1 on bad input; nothing written."""
    V = _visits(world)
    _qualified_before(world, "Weekly Visitors", 1, T0 - timedelta(days=6))
    before = dump_tables(database_url)
    base = ["explain", "--db", database_url, "--at", T0.isoformat()]

    visit = str(V[0])
    result = _cli(*base, "--campaign", "Pricing Visitors", "--person", "1", "--activity", visit,
                  "--json")  # fmt: skip
    document = json.loads(result.stdout)
    assert document["qualifies"] is True and document["reason"] is None
    assert document["triggers"][0]["conditions"][0] == {
        "name": "Webpage ID",
        "operator": "contains",
        "expected": ["pricing"],
        "actual": "/pricing",
        "passed": True,
    }
    form = document["triggers"][1]
    assert form["activityId"] == V[0] and not form["matched"] and not form["typeMatches"]
    assert document["smartList"]["steps"] == [{"expression": "1", "value": True}]
    assert document["at"] == T0.isoformat()

    result = _cli(*base, "--campaign", "Weekly Visitors", "--person", "1")
    lines = [line.rstrip() for line in result.stdout.splitlines()]
    assert lines[0] == (
        "Person 1 does not qualify for campaign 'Weekly Visitors' (batch, inactive) at "
        "2026-03-02T09:00:00+00:00"
    )
    text = "\n".join(lines)
    assert "filters" in text and "2. Visited Web Page: pass" in text
    assert "(1 and (2 or 3)) = true" in text
    assert "qualification rule: interval every 1 week: fail" in text
    assert "next eligible: 2026-03-03T09:00:00+00:00" in text
    assert lines[-1].endswith("verdict: not qualified: qualification rule")

    result = _cli(*base, "--campaign", "Child", "--person", "1", "--caller-path", "Top, Middle")
    assert "call: level 2 (Top > Middle > Child), maxExecuteDepth 3: within the limit" in (
        result.stdout
    )
    result = _cli(*base, "--campaign", "Pricing Visitors", "--person", "1")
    assert "2. Fills Out Form: no activity (Fill Out Form)" in result.stdout

    for args, message in [
        (["--campaign", "Nope", "--person", "1"], "no campaign named 'Nope'"),
        (["--campaign", "Top", "--person", "7"], "no person with id 7"),
        (["--campaign", "Pricing Visitors", "--person", "1", "--activity", str(V[2])],
         "belongs to person 2"),
        (["--campaign", "Top", "--smart-list", "X", "--person", "1"], "either --campaign"),
        (["--campaign", "Top", "--person", "1", "--at", "soon"], "--at: 'soon' is not"),
        (["--campaign", "Child", "--person", "1", "--caller-path", "Top,,Middle"],
         "empty name"),
    ]:  # fmt: skip
        failed = runner.invoke(app, [*base, *args])
        assert failed.exit_code == 1, failed.output
        assert message in failed.stderr
        assert len(failed.stderr.strip().splitlines()) == 1, failed.stderr
        failed = runner.invoke(app, [*base, *args, "--json"])
        assert failed.exit_code == 1 and message in json.loads(failed.stdout)["error"]

    assert dump_tables(database_url) == before
