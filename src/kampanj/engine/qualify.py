"""Batch cohorts: smart list over everyone, qualification rule, person restriction, membership.

All set-based (CMP-5..7, CMP-17..20): the cohort is written as ``run_member`` rows by one
INSERT … SELECT, already split into person-id chunks.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    delete,
    exists,
    func,
    insert,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from kampanj.engine.runs import MemberState
from kampanj.model.campaigns import QualificationRule, QualificationRuleType, QualificationUnit
from kampanj.smartlist.compiler import CompiledSmartList
from kampanj.smartlist.context import CompileContext
from kampanj.store.schema import campaign_member, run_member

QUALIFICATION_UNITS = {  # CMP-17: month = 30 days, week = 7 days, day = 24 h
    QualificationUnit.HOUR: timedelta(hours=1),
    QualificationUnit.DAY: timedelta(days=1),
    QualificationUnit.WEEK: timedelta(days=7),
    QualificationUnit.MONTH: timedelta(days=30),
}


def eligible(
    rule: QualificationRule, campaign_id: int, person_id: Any, now: datetime
) -> ColumnElement[bool]:
    """The CMP-17 rule as SQL over the campaign's membership history."""
    member = and_(
        campaign_member.c.campaign_id == campaign_id, campaign_member.c.person_id == person_id
    )
    match rule.type:
        case QualificationRuleType.ANY:
            return true()
        case QualificationRuleType.ONCE:
            return ~exists().where(member)
        case QualificationRuleType.INTERVAL:
            assert rule.interval is not None and rule.unit is not None
            since = now - rule.interval * QUALIFICATION_UNITS[rule.unit]
            return ~exists().where(member, campaign_member.c.updated_at > since)
    raise ValueError(rule.type)  # pragma: no cover


def everyone_matching_qualifies(
    connection: Connection, rule: QualificationRule, campaign_id: int
) -> bool:
    """Whether `eligible` is true for every person: an ``every time`` rule, or a campaign
    nobody has been a member of yet (CMP-17 looks only at membership). Then the cohort's
    size is the number qualified, and the smart list need not be counted apart."""
    if rule.type is QualificationRuleType.ANY:
        return True
    anyone = exists().where(campaign_member.c.campaign_id == campaign_id)
    return not connection.execute(select(anyone)).scalar_one()


def count_matching(connection: Connection, compiled: CompiledSmartList, ctx: CompileContext) -> int:
    statement = select(func.count()).select_from(ctx.person).where(compiled.predicate)
    return int(connection.execute(statement).scalar_one())


def insert_cohort(
    connection: Connection,
    *,
    run_id: int,
    campaign_id: int,
    compiled: CompiledSmartList,
    ctx: CompileContext,
    rule: QualificationRule,
    now: datetime,
    chunk_size: int,
) -> int:
    """Write the qualified persons as ``run_member`` rows, chunked by person id; their count.

    ``next_step`` stays NULL: every member starts where its chunk starts (`runs.at_step`).
    """
    person = ctx.person
    rank = func.row_number().over(order_by=person.c.id) - 1
    selected = select(
        literal(run_id).label("run_id"),
        person.c.id.label("person_id"),
        person.c.id.label("entry_id"),
        (rank // chunk_size).label("chunk"),
        literal(MemberState.ACTIVE.value).label("state"),
    ).where(compiled.predicate, eligible(rule, campaign_id, person.c.id, now))
    connection.execute(
        insert(run_member).from_select(
            ["run_id", "person_id", "entry_id", "chunk", "state"], selected
        )
    )
    counted = select(func.count()).select_from(run_member).where(run_member.c.run_id == run_id)
    return int(connection.execute(counted).scalar_one())


def drop_cohort(connection: Connection, run_id: int) -> None:
    """A blocked run records nothing (CMP-6)."""
    connection.execute(delete(run_member).where(run_member.c.run_id == run_id))


def record_membership(
    connection: Connection, *, run_id: int, campaign_id: int, now: datetime
) -> None:
    """Qualified persons become (or stay) campaign members (CMP-20, CMP-7)."""
    cohort = select(run_member.c.person_id).where(run_member.c.run_id == run_id)
    record_membership_of(connection, campaign_id=campaign_id, persons=cohort, now=now)


def record_membership_of(
    connection: Connection, *, campaign_id: int, persons: Select[Any], now: datetime
) -> None:
    """``persons`` (a SELECT of person ids) become or stay members (CMP-20, EXE-11): one
    upsert — new members get ``created_at``, existing ones a fresh ``updated_at``. Ids are
    made distinct here: PostgreSQL refuses to update one row twice in an upsert."""
    cohort = persons.distinct().subquery("qualified")
    stamp = literal(now, campaign_member.c.created_at.type)
    new = select(
        literal(campaign_id).label("campaign_id"),
        cohort.c.person_id,
        stamp.label("created_at"),
        stamp.label("updated_at"),
    ).where(true())  # SQLite would read ON CONFLICT as a join constraint of the SELECT
    dialect_insert = postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert
    statement = dialect_insert(campaign_member).from_select(
        ["campaign_id", "person_id", "created_at", "updated_at"], new
    )
    connection.execute(
        statement.on_conflict_do_update(
            index_elements=["campaign_id", "person_id"],
            set_={"updated_at": statement.excluded.updated_at},
        )
    )
