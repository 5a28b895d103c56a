"""Wait (WAIT-1..10): parks the cohort until its resume time; writes no activity.

Parked members get state ``waiting``, their resume time fixed now (WAIT-7) and, as
``next_step``, the step after the Wait; a tick resumes them (engine/waits.py). Members with
no wait (a past date, an empty date token) stay active and the engine moves them on.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, bindparam, select, update

from kampanj.engine.runs import MemberState, at_step
from kampanj.engine.steps.base import StepEnv, StepOutcome, cohort_ids, person_rows
from kampanj.model.campaigns import ParamValue
from kampanj.model.wait import (
    date_resume,
    duration_resume,
    parse_duration,
    parse_time_of_day,
    parse_weekdays,
    token_resume,
)
from kampanj.store.schema import run_member

TOKEN_EMPTY = "WAIT_TOKEN_EMPTY"  # WAIT-6
WAIT_INVALID = "INVALID_VALUE"


def following_step(env: StepEnv) -> str | None:
    """The id of the step after this Wait in the (pinned) flow, None when it is the last."""
    ids = [step.id for step in env.campaign.flow]
    position = ids.index(env.step.id)
    return ids[position + 1] if position + 1 < len(ids) else None


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    if params.get("token") not in (None, ""):
        return _park_by_token(connection, env, params, cohort)
    ids = cohort_ids(connection, cohort)
    resume: datetime | None
    duration = parse_duration(params.get("duration"))
    if duration is not None:
        resume = duration_resume(
            env.now,
            duration,
            env.zone,
            weekdays=parse_weekdays(params["endOnWeekdays"])
            if params.get("endOnWeekdays") not in (None, ())
            else None,
            at=parse_time_of_day(params.get("endOnAt")),
        )
    elif params.get("date") not in (None, ""):
        resume = date_resume(env.now, params.get("date"), env.zone)
    else:  # lint refuses this; a forced write must not silently skip (WAIT-2)
        message = "the Wait has no valid duration, date or token (WAIT-2..6)"
        return StepOutcome(errors=[env.issue(WAIT_INVALID, message, p) for p in sorted(ids)])
    if resume is not None:
        _park(connection, env, cohort, resume)
    return StepOutcome(executed=len(ids))


def _park(connection: Connection, env: StepEnv, cohort: Select[Any], resume: datetime) -> None:
    # The cohort selects from run_member itself: a derived table keeps it uncorrelated.
    ids = cohort.subquery("cohort")
    connection.execute(
        update(run_member)
        .where(*_parkable(env), run_member.c.person_id.in_(select(ids.c.person_id)))
        .values(_parked(env, resume))
    )


def _parkable(env: StepEnv) -> tuple[Any, ...]:
    return (
        run_member.c.run_id == env.run_id,
        run_member.c.state == MemberState.ACTIVE.value,
        at_step(env.step.id),
    )


def _parked(env: StepEnv, resume: Any) -> dict[str, Any]:
    return {
        "state": MemberState.WAITING.value,
        "wake_at": resume,
        "next_step": following_step(env),
        "branch": None,
    }


def _park_by_token(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """WAIT-6: each person's own resume time from a date token (trigger campaigns only)."""
    value = env.template(params.get("token"))
    offset = env.template(params.get("offsetDays") or 0)
    columns = sorted(value.person_columns | offset.person_columns)
    rows = person_rows(connection, env, cohort, columns)
    outcome = StepOutcome(executed=len(rows))
    texts = value.render_many(rows)
    offsets = offset.render_many(rows)
    anniversary = params.get("anniversary") is True
    parked: list[tuple[int, datetime]] = []
    for row, text, days in zip(rows, texts, offsets, strict=True):
        if not text.strip():
            outcome.warnings.append(
                env.issue(TOKEN_EMPTY, "the date token is empty: no wait (WAIT-6)", row["id"])
            )
            continue
        try:
            offset_days = int(days.strip() or 0)
        except ValueError:
            offset_days = 0
        resume = token_resume(
            env.now, text, env.zone, anniversary=anniversary, offset_days=offset_days
        )
        if resume is not None:
            parked.append((row["id"], resume))
    _park_each(connection, env, parked)
    return outcome


def _park_each(
    connection: Connection, env: StepEnv, parked: Sequence[tuple[int, datetime]]
) -> None:
    if not parked:
        return
    statement = (
        update(run_member)
        .where(*_parkable(env), run_member.c.person_id == bindparam("b_person"))
        .values(_parked(env, bindparam("b_wake", type_=run_member.c.wake_at.type)))
    )
    connection.execute(statement, [{"b_person": p, "b_wake": w} for p, w in parked])
