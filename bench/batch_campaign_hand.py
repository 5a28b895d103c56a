"""The batch campaign of ``bench/batch_campaign.py`` written by hand as plain SQL.

This is the yardstick for the engine: the fewest statements a person who knows the schema
would write to reach the same end state (person fields, list membership, campaign
membership, the activity log modulo ids and timestamps) for this one campaign on this
data. It knows nothing the engine could not know, but it hard-codes everything the engine
has to find out (the filters, the token values, the choice conditions, that the list
starts empty), keeps no run bookkeeping (cohort rows, per-step counts, progress markers)
and runs every step over the whole cohort in one transaction, unchunked.

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


def _json(postgres: bool, pairs: str) -> str:
    return f"{'jsonb_build_object' if postgres else 'json_object'}({pairs})"


def _flow(step: str) -> str:
    """The ACT-5 attributes every flow activity starts with, for step type ``step``."""
    return (
        "'Campaign', CAST(:cname AS TEXT), "
        f"'Reason', CAST(:cname AS TEXT) || ': {step}', 'Source', CAST(:source AS TEXT)"
    )


def statements(postgres: bool) -> list[str]:
    """The script, one SQL statement per item, for SQLite or PostgreSQL."""
    false = "false" if postgres else "0"
    distinct = "IS DISTINCT FROM" if postgres else "IS NOT"
    new_title = "COALESCE(p.company, '') || ' contact'"
    new_status = (
        "CASE WHEN p.lead_score >= :qualified THEN 'Qualified' "
        "WHEN p.country IS NOT NULL AND lower(p.country) = lower(CAST(:skipped AS TEXT)) THEN NULL "
        "ELSE 'Contacted' END"
    )
    columns = (
        "INSERT INTO activity (person_id, activity_type_id, activity_date, campaign_id, "
        "primary_attribute_value_id, primary_attribute_value, attributes) "
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
        columns
        + "SELECT p.id, 22, :now, :cid, NULL, 'Lead Score', "
        + _json(
            postgres,
            _flow("Change Score") + ", 'Score Name', 'Lead Score', "
            "'Change Value', CAST(:bonus_text AS TEXT), "
            "'Old Value', CAST(COALESCE(p.lead_score, 0) AS TEXT), "
            "'New Value', CAST(COALESCE(p.lead_score, 0) + :bonus AS TEXT)",
        )
        + " FROM hand_cohort c JOIN person p ON p.id = c.person_id ORDER BY p.id",
        "UPDATE person SET lead_score = COALESCE(lead_score, 0) + :bonus, updated_at = :now "
        "WHERE id IN (SELECT person_id FROM hand_cohort)",
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
        # 3. Change Data Value with two choices: Lead Status.
        columns
        + "SELECT p.id, 13, :now, :cid, NULL, 'Lead Status', "
        + _json(
            postgres,
            _flow("Change Data Value") + ", 'Attribute Name', 'Lead Status', "
            f"'Old Value', p.lead_status, 'New Value', {new_status}",
        )
        + " FROM hand_cohort c JOIN person p ON p.id = c.person_id "
        f"WHERE {new_status} IS NOT NULL AND p.lead_status {distinct} {new_status} "
        "ORDER BY p.id",
        f"UPDATE person AS p SET lead_status = {new_status}, updated_at = :now "
        f"WHERE p.id IN (SELECT person_id FROM hand_cohort) AND {new_status} IS NOT NULL "
        f"AND p.lead_status {distinct} {new_status}",
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
    values = {
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
    for sql in statements(postgres):
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
