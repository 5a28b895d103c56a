"""Change Program Status and Change Program Success (FLOW-20..22): set-based over the cohort.

Both read the cohort's memberships of one program with one outer join, write their
activities with INSERT … SELECT from that join (old values), then change the memberships
with UPDATE / INSERT … SELECT.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Date,
    Integer,
    Select,
    String,
    and_,
    case,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    true,
    update,
)

from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    every_person_fails,
    insert_activity_select,
    insert_new,
    json_bool,
    text_value,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.model.names import fold
from kampanj.model.step_catalogue import THIS_PROGRAM
from kampanj.model.tree import ProgramStatus
from kampanj.smartlist.context import InvalidSmartList
from kampanj.store import codec
from kampanj.store.schema import channel, folder, program_member

INVALID_PROGRAM = "INVALID_PROGRAM"
INVALID_STATUS = "INVALID_STATUS"
INVALID_VALUE = "INVALID_VALUE"
BACKWARDS = "backwards"  # FLOW-20 ``skippedBackwards``: the status would not move forward
NOT_A_MEMBER = "not a member"  # FLOW-22: success changes apply to members only

_TRUE_WORDS = {"true", "yes", "1"}  # FLOW-14 booleans
_FALSE_WORDS = {"false", "no", "0"}
SUCCESS = "Success"
SUCCESS_DATE = "Success Date"


@dataclass(frozen=True, kw_only=True, slots=True)
class Program:
    """The program a step names, with its channel's progression."""

    id: int
    name: str
    statuses: tuple[ProgramStatus, ...]


def find_program(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue]
) -> Program | str:
    """The step's program (``this program``/absent = the campaign's own), or why not."""
    named = params.get("program")
    if named is None or fold(named) == THIS_PROGRAM:
        campaign = env.campaign
        location = env.tokens.tree.nearest_program(campaign.workspace, campaign.folder)
        if location is None or location.id is None:
            return f"campaign {campaign.name!r} is not inside a program"
        program_id = location.id
    else:
        try:
            program_id = env.references.program(env.campaign.workspace, str(named))
        except InvalidSmartList as error:
            return str(error)
    row = connection.execute(
        select(folder.c.name, channel.c.statuses)
        .select_from(folder.outerjoin(channel, channel.c.id == folder.c.channel_id))
        .where(folder.c.id == program_id)
    ).first()
    if row is None:
        return f"program {named!r} no longer exists"
    statuses = () if row.statuses is None else codec.statuses_from_json(row.statuses)
    return Program(id=program_id, name=row.name, statuses=statuses)


def _today(env: StepEnv) -> date:
    """Today in the account time zone (GEN-1)."""
    return env.now.astimezone(env.zone).date()


def _count(connection: Connection, statement: Select[Any]) -> int:
    return int(
        connection.execute(select(func.count()).select_from(statement.subquery())).scalar_one()
    )


def change_status(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """FLOW-20/21: join or move forward; backwards or equal moves are skipped."""
    program = find_program(connection, env, params)
    if isinstance(program, str):
        return every_person_fails(connection, env, cohort, INVALID_PROGRAM, program)
    wanted = str(params.get("newStatus") or "")
    rank = next((i for i, s in enumerate(program.statuses) if fold(s.name) == fold(wanted)), None)
    if rank is None:
        return every_person_fails(
            connection,
            env,
            cohort,
            INVALID_STATUS,
            f"{wanted!r} is not a status of program {program.name!r}'s channel (FLOW-20)",
        )
    status = program.statuses[rank]
    person = env.person
    pm = program_member
    ids = cohort.subquery("cohort")
    joined = select(ids.c.person_id).select_from(
        ids.outerjoin(pm, and_(pm.c.program_id == program.id, pm.c.person_id == ids.c.person_id))
    )
    total = _count(connection, joined)
    backwards = _count(connection, joined.where(pm.c.status_rank >= rank))
    is_member = pm.c.person_id.is_not(None)
    moving = joined.join(person, person.c.id == ids.c.person_id).where(
        or_(~is_member, pm.c.status_rank < rank)
    )
    acquisition = person.c.acquisition_program_id
    joins_acquired = or_(acquisition.is_(None), acquisition == program.id)
    acquired = or_(and_(~is_member, joins_acquired), pm.c.acquired_by.is_(True))
    insert_activity_select(
        connection,
        env,
        source=moving,
        person_id=ids.c.person_id,
        activity_type_id=StandardActivity.CHANGE_STATUS_IN_PROGRESSION,
        primary_value=program.name,
        primary_id=program.id,
        attributes={
            "Old Status": pm.c.status,
            "Old Status ID": pm.c.status_rank,
            "New Status": text_value(status.name),
            "New Status ID": literal(rank, Integer),
            SUCCESS: json_bool(connection, true() if status.success else pm.c.success.is_(True)),
            "Acquired By": json_bool(connection, acquired),
        },
    )
    today = _today(env)
    forward: dict[str, Any] = {"status": status.name, "status_rank": rank, "updated_at": env.now}
    if status.success:
        # FLOW-21: success is stamped when first reached and never unset by status moves.
        forward["success"] = True
        forward["success_date"] = case(
            (pm.c.success.is_(True), pm.c.success_date), else_=literal(today, Date)
        )
    connection.execute(
        update(pm)
        .where(pm.c.program_id == program.id, pm.c.person_id.in_(cohort), pm.c.status_rank < rank)
        .values(forward)
    )
    present = select(ids.c.person_id).join(person, person.c.id == ids.c.person_id)
    joining = present.where(
        ~exists().where(pm.c.program_id == program.id, pm.c.person_id == ids.c.person_id)
    )
    # FLOW-21: the first membership of a person without one sets acquisitionProgramId;
    # the new membership is then the one that acquired them.
    connection.execute(
        update(person)
        .where(
            person.c.id.in_(joining.with_only_columns(ids.c.person_id).correlate(None)),
            person.c.acquisition_program_id.is_(None),
        )
        .values(acquisition_program_id=program.id, updated_at=env.now)
    )
    # Members already in the program are the primary key conflicts insert_new skips.
    insert_new(
        connection,
        pm,
        [
            "program_id",
            "person_id",
            "status",
            "status_rank",
            "success",
            "success_date",
            "acquired_by",
            "membership_date",
            "updated_at",
        ],
        present.with_only_columns(
            literal(program.id, Integer),
            ids.c.person_id,
            literal(status.name, String),
            literal(rank, Integer),
            literal(status.success, pm.c.success.type),
            literal(today, Date) if status.success else null(),
            # Never NULL (NOT NULL is checked before the conflict on a member without one).
            and_(
                person.c.acquisition_program_id.is_not(None),
                person.c.acquisition_program_id == program.id,
            ),
            literal(env.now, pm.c.membership_date.type),
            literal(env.now, pm.c.updated_at.type),
        ),
    )
    skipped = {BACKWARDS: backwards} if backwards else {}
    return StepOutcome(executed=total - backwards, skipped=skipped)


def _parse_success(attribute: str, text: str, env: StepEnv) -> tuple[bool, date | None] | str:
    """(Success, Success Date or None = keep/stamp) for a FLOW-22 value, or why not."""
    word = text.strip().casefold()
    if attribute == fold(SUCCESS):
        if word in _TRUE_WORDS:
            return True, None
        if word in _FALSE_WORDS:
            return False, None
        return f"Success takes true or false, not {text!r} (FLOW-22)"
    try:
        if len(word) == 10:
            return True, date.fromisoformat(word)
        instant = datetime.fromisoformat(text.strip())
    except ValueError:
        return f"Success Date takes a date yyyy-MM-dd, not {text!r} (FLOW-22)"
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=env.zone)
    return True, instant.astimezone(env.zone).date()


def _bool_text(predicate: ColumnElement[Any]) -> ColumnElement[Any]:
    return case((predicate, "true"), else_="false")


def change_success(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """FLOW-22: Success / Success Date of members; one 123 per changed attribute."""
    program = find_program(connection, env, params)
    if isinstance(program, str):
        return every_person_fails(connection, env, cohort, INVALID_PROGRAM, program)
    attribute = fold(params.get("attribute") or "")
    if attribute not in (fold(SUCCESS), fold(SUCCESS_DATE)):
        return every_person_fails(
            connection,
            env,
            cohort,
            INVALID_VALUE,
            f"attribute must be Success or Success Date, not {params.get('attribute')!r}",
        )
    parsed = _parse_success(attribute, str(params.get("newValue") or ""), env)
    if isinstance(parsed, str):
        return every_person_fails(connection, env, cohort, INVALID_VALUE, parsed)
    success, stamped = parsed
    pm = program_member
    ids = cohort.subquery("cohort")
    members = select(ids.c.person_id).join(
        pm, and_(pm.c.program_id == program.id, pm.c.person_id == ids.c.person_id)
    )
    total = _count(connection, select(ids.c.person_id))
    member_count = _count(connection, members)
    new_date: ColumnElement[Any]
    if not success:
        new_date = null()  # Success = false clears Success Date
    elif stamped is not None:
        new_date = literal(stamped, Date)
    else:  # Success = true stamps today when it becomes true
        new_date = case(
            (pm.c.success.is_(True), pm.c.success_date), else_=literal(_today(env), Date)
        )
    success_changes = pm.c.success.is_distinct_from(literal(success, pm.c.success.type))
    date_changes = pm.c.success_date.is_distinct_from(new_date)
    success_text = text_value(str(success).lower())
    for name, changed, old, new in (
        (SUCCESS, success_changes, _bool_text(pm.c.success.is_(True)), success_text),
        (SUCCESS_DATE, date_changes, cast(pm.c.success_date, String), cast(new_date, String)),
    ):
        insert_activity_select(
            connection,
            env,
            source=members.where(changed),
            person_id=ids.c.person_id,
            activity_type_id=StandardActivity.CHANGE_PROGRAM_MEMBER_DATA,
            primary_value=program.name,
            primary_id=program.id,
            attributes={"Attribute Name": text_value(name), "Old Value": old, "New Value": new},
        )
    connection.execute(
        update(pm)
        .where(
            pm.c.program_id == program.id,
            pm.c.person_id.in_(cohort),
            or_(success_changes, date_changes),
        )
        .values(success=success, success_date=new_date, updated_at=env.now)
    )
    outside = total - member_count
    return StepOutcome(executed=member_count, skipped={NOT_A_MEMBER: outside} if outside else {})
