"""The batch campaign of ``bench/batch_campaign.py`` written by hand as plain SQL.

This is the yardstick for the engine: the fewest statements a person who knows the schema
would write to reach the same end state (person fields, list membership, campaign
membership, the activity log modulo ids and timestamps) for this one campaign on this
data. It knows nothing the engine could not know, but it hard-codes everything the engine
has to find out (the filters, the token values, the choice conditions, that the list
starts empty), keeps no run bookkeeping (cohort rows, per-step counts, progress markers)
and runs every step over the whole cohort in one transaction, unchunked.

With a child (``--with-executable``) step 3 is an Execute Campaign: every cohort member
gets one Execute Campaign activity (Qualified true/false, ``Reason`` only when false), the
qualified become members of the child and take the child's two steps, whose activities
carry the child's campaign id and name.

The semantics are the engine's for this data: "is not" matches empty values and compares
case-insensitively (``lower`` folds the ASCII countries exactly), Change Data Value writes
only changed values, and each activity carries the flow attributes of ACT-5.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, bindparam, text

from kampanj.store.types import UtcDateTime

FLOW_SOURCE = "Marketo Flow Action"


@dataclass(frozen=True, kw_only=True, slots=True)
class HandChild:
    """What the script hard-codes about the executable child step 3 calls."""

    child_id: int
    child_name: str
    child_min_score: int  # filter 1: Lead Score at least
    child_excluded_status: str  # filter 2: Lead Status is not
    child_bonus: int  # the child's {{my.Bonus}}: the parent's value with its context
    use_parent_context: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class HandCampaign:
    """What the script hard-codes about the campaign (ids come from the database)."""

    campaign_id: int
    campaign_name: str
    list_id: int
    list_name: str
    bonus: int  # the My Token's value, "+7" → 7
    min_score: int
    excluded_country: str
    qualified_score: int  # choice 1 of step 3
    skipped_country: str  # choice 2 of step 3 (Do Nothing)
    moment_type: str
    moment_description: str
    child: HandChild | None = None  # step 3 executes it instead of changing Lead Status


def _json(postgres: bool, pairs: str) -> str:
    return f"{'jsonb_build_object' if postgres else 'json_object'}({pairs})"


def _flow(step: str, name: str = ":cname") -> str:
    """The ACT-5 attributes every flow activity starts with, for step type ``step`` of the
    campaign whose name is bound to ``name``."""
    return (
        f"'Campaign', CAST({name} AS TEXT), "
        f"'Reason', CAST({name} AS TEXT) || ': {step}', 'Source', CAST(:source AS TEXT)"
    )


COLUMNS = (
    "INSERT INTO activity (person_id, activity_type_id, activity_date, campaign_id, "
    "primary_attribute_value_id, primary_attribute_value, attributes) "
)


def _lead_status(postgres: bool, cohort: str, cid: str, name: str) -> list[str]:
    """Change Data Value Lead Status with two choices, for ``cohort`` (a FROM item with a
    ``person_id`` column) as campaign ``cid`` / ``name`` (bind parameter names)."""
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
    new_status = (
        "CASE WHEN p.lead_score >= :qualified THEN 'Qualified' "
        "WHEN p.country IS NOT NULL AND lower(p.country) = lower(CAST(:skipped AS TEXT)) THEN NULL "
        "ELSE 'Contacted' END"
    )
    return [
        COLUMNS
        + f"SELECT p.id, 13, :now, {cid}, NULL, 'Lead Status', "
        + _json(
            postgres,
            _flow("Change Data Value", name) + ", 'Attribute Name', 'Lead Status', "
            f"'Old Value', p.lead_status, 'New Value', {new_status}",
        )
        + f" FROM {cohort} c JOIN person p ON p.id = c.person_id "
        f"WHERE {new_status} IS NOT NULL AND p.lead_status {distinct} {new_status} "
        "ORDER BY p.id",
        f"UPDATE person AS p SET lead_status = {new_status}, updated_at = :now "
        f"WHERE p.id IN (SELECT person_id FROM {cohort}) AND {new_status} IS NOT NULL "
        f"AND p.lead_status {distinct} {new_status}",
    ]


def _change_score(postgres: bool, cohort: str, cid: str, name: str, bonus: str) -> list[str]:
    """Change Score Lead Score by the bound ``bonus`` (``bonus_text`` its token text)."""
    return [
        COLUMNS
        + f"SELECT p.id, 22, :now, {cid}, NULL, 'Lead Score', "
        + _json(
            postgres,
            _flow("Change Score", name) + ", 'Score Name', 'Lead Score', "
            f"'Change Value', CAST({bonus}_text AS TEXT), "
            "'Old Value', CAST(COALESCE(p.lead_score, 0) AS TEXT), "
            f"'New Value', CAST(COALESCE(p.lead_score, 0) + {bonus} AS TEXT)",
        )
        + f" FROM {cohort} c JOIN person p ON p.id = c.person_id ORDER BY p.id",
        f"UPDATE person SET lead_score = COALESCE(lead_score, 0) + {bonus}, updated_at = :now "
        f"WHERE id IN (SELECT person_id FROM {cohort})",
    ]


def _execute_child(postgres: bool) -> list[str]:
    """Step 3 with a child: the call's qualification, 901s, membership and the child's flow."""
    boolean = "qualified" if postgres else "json(CASE WHEN qualified THEN 'true' ELSE 'false' END)"
    context = "CAST(:context AS BOOLEAN)" if postgres else "json(:context)"
    attributes = (
        "'Campaign', CAST(:cname AS TEXT), 'Source', CAST(:source AS TEXT), "
        f"'Qualified', {boolean}, 'Parent Campaign ID', CAST(:cid AS INTEGER), 'Depth', 1, "
        f"'Use Parent Token Context', {context}"
    )
    refused = attributes + ", 'Reason', 'smart list'"
    return [
        "CREATE TEMPORARY TABLE hand_call "
        "(person_id INTEGER PRIMARY KEY, qualified BOOLEAN NOT NULL)",
        # The child's two filters over current data, then its "once" rule (EXE-8, EXE-9).
        "INSERT INTO hand_call SELECT p.id, CASE WHEN p.lead_score >= :child_min "
        "AND (p.lead_status IS NULL "
        "OR lower(p.lead_status) <> lower(CAST(:child_excluded AS TEXT))) "
        "AND NOT EXISTS (SELECT 1 FROM campaign_member m "
        "WHERE m.campaign_id = :child_id AND m.person_id = p.id) THEN true ELSE false END "
        "FROM hand_cohort c JOIN person p ON p.id = c.person_id",
        # One Execute Campaign (901) per person handed over, Reason only when not qualified.
        COLUMNS
        + "SELECT person_id, 901, :now, :cid, :child_id, :child_name, CASE WHEN qualified "
        + f"THEN {_json(postgres, attributes)} "
        + f"ELSE {_json(postgres, refused)} END "
        + "FROM hand_call ORDER BY person_id",
        "INSERT INTO campaign_member (campaign_id, person_id, created_at, updated_at) "
        "SELECT :child_id, person_id, :now, :now FROM hand_call WHERE qualified",
        "CREATE TEMPORARY TABLE hand_child (person_id INTEGER PRIMARY KEY)",
        "INSERT INTO hand_child SELECT person_id FROM hand_call WHERE qualified",
        *_lead_status(postgres, "hand_child", ":child_id", ":child_name"),
        *_change_score(postgres, "hand_child", ":child_id", ":child_name", ":child_bonus"),
        "DROP TABLE hand_child",
        "DROP TABLE hand_call",
    ]


def statements(postgres: bool, *, with_child: bool = False) -> list[str]:
    """The script, one SQL statement per item, for SQLite or PostgreSQL."""
    false = "false" if postgres else "0"
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
    new_title = "COALESCE(p.company, '') || ' contact'"
    columns = COLUMNS
    step_3 = (
        _execute_child(postgres)
        if with_child
        else _lead_status(postgres, "hand_cohort", ":cid", ":cname")
    )
    return [
        "CREATE TEMPORARY TABLE hand_cohort (person_id INTEGER PRIMARY KEY)",
        # Qualification: the three filters, and "once" over the campaign's members.
        "INSERT INTO hand_cohort SELECT p.id FROM person p "
        f"WHERE p.lead_score >= :min_score AND p.unsubscribed = {false} "
        "AND (p.country IS NULL OR lower(p.country) <> lower(CAST(:excluded AS TEXT))) "
        "AND NOT EXISTS (SELECT 1 FROM campaign_member m "
        "WHERE m.campaign_id = :cid AND m.person_id = p.id)",
        "INSERT INTO campaign_member (campaign_id, person_id, created_at, updated_at) "
        "SELECT :cid, person_id, :now, :now FROM hand_cohort",
        # 1. Change Score by the My Token.
        *_change_score(postgres, "hand_cohort", ":cid", ":cname", ":bonus"),
        # 2. Change Data Value with a person token: Job Title = "{{lead.Company Name}} contact".
        columns
        + "SELECT p.id, 13, :now, :cid, NULL, 'Job Title', "
        + _json(
            postgres,
            _flow("Change Data Value") + ", 'Attribute Name', 'Job Title', "
            f"'Old Value', p.title, 'New Value', {new_title}",
        )
        + " FROM hand_cohort c JOIN person p ON p.id = c.person_id "
        f"WHERE p.title {distinct} {new_title} ORDER BY p.id",
        f"UPDATE person AS p SET title = {new_title}, updated_at = :now "
        f"WHERE p.id IN (SELECT person_id FROM hand_cohort) AND p.title {distinct} {new_title}",
        # 3. Change Data Value with two choices: Lead Status, or Execute Campaign of a child.
        *step_3,
        # 4. Add to List (the list starts empty: everyone joins).
        columns
        + "SELECT person_id, 24, :now, :cid, :list_id, :list_name, "
        + _json(postgres, _flow("Add to List"))
        + " FROM hand_cohort ORDER BY person_id",
        "INSERT INTO list_member (list_id, person_id, added_at) "
        "SELECT :list_id, person_id, :now FROM hand_cohort",
        # 5. Interesting Moment.
        columns
        + "SELECT person_id, 46, :now, :cid, NULL, :moment_type, "
        + _json(postgres, _flow("Interesting Moment") + ", 'Description', CAST(:moment AS TEXT)")
        + " FROM hand_cohort ORDER BY person_id",
        "DROP TABLE hand_cohort",
    ]


def run_hand(connection: Connection, campaign: HandCampaign, now: datetime) -> None:
    """Execute the script in ``connection``'s transaction."""
    postgres = connection.dialect.name == "postgresql"
    child = campaign.child
    values: dict[str, object] = {
        "cid": campaign.campaign_id,
        "cname": campaign.campaign_name,
        "source": FLOW_SOURCE,
        "min_score": campaign.min_score,
        "excluded": campaign.excluded_country,
        "bonus": campaign.bonus,
        "bonus_text": f"{campaign.bonus:+d}",
        "qualified": campaign.qualified_score,
        "skipped": campaign.skipped_country,
        "list_id": campaign.list_id,
        "list_name": campaign.list_name,
        "moment_type": campaign.moment_type,
        "moment": campaign.moment_description,
    }
    if child is not None:
        values |= {
            "child_id": child.child_id,
            "child_name": child.child_name,
            "child_min": child.child_min_score,
            "child_excluded": child.child_excluded_status,
            "child_bonus": child.child_bonus,
            "child_bonus_text": f"{child.child_bonus:+d}",
            "context": "true" if child.use_parent_context else "false",
        }
    for sql in statements(postgres, with_child=child is not None):
        statement = text(sql)
        names = {name for name in values if re.search(rf":{name}\b", sql)}
        binds = [bindparam(name, type_=None) for name in sorted(names)]
        if ":now" in sql:
            binds.append(bindparam("now", type_=UtcDateTime()))
        statement = statement.bindparams(*binds)
        wanted = {name: values[name] for name in names}
        if ":now" in sql:
            wanted["now"] = now
        connection.execute(statement, wanted)
