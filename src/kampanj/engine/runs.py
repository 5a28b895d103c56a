"""Runs as stored: statuses, kinds, the run row and the GEN-6 run result."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, or_, select, update

from kampanj.errors import NotFoundError
from kampanj.store.schema import run, run_issue, run_member, run_step

DEFAULT_CHUNK_SIZE = 50_000  # people per step transaction; bounds lock time and memory


class RunStatus(StrEnum):
    """Where a run is (GEN-6)."""

    QUEUED = "queued"
    RUNNING = "running"
    COMPLETED = "completed"
    ABORTED = "aborted"
    BLOCKED = "blocked"
    INVALID = "invalid"

    @property
    def finished(self) -> bool:
        return self not in (RunStatus.QUEUED, RunStatus.RUNNING)


class RunKind(StrEnum):
    """What started a run (GEN-6)."""

    BATCH = "batch"
    TRIGGER = "trigger"
    REQUESTED = "requested"
    SINGLE = "single"


class MemberState(StrEnum):
    """Where one flow instance of a run is."""

    ACTIVE = "active"
    """Has steps left and is not waiting."""
    COMPLETED = "completed"
    """Left the flow after its last step (FLOW-3)."""
    WAITING = "waiting"
    """Parked by a Wait until ``wake_at`` (WAIT-10); ``next_step`` is where it resumes."""
    REMOVED = "removed"
    """Ended early: Remove from Flow, Delete Person or abort (FLOW-3, FLOW-18, CMP-29)."""


def at_step(step_id: str) -> ColumnElement[bool]:
    """Active members who take ``step_id`` now: those whose ``next_step`` names it, and
    those with no ``next_step``, who are wherever their chunk is.

    A chunk executes its steps in flow order, each (step, chunk) once (LEDG-1, LEDG-2), so
    a member who takes every step with its chunk needs no row write per step. ``next_step``
    is written only where a member's position may differ from its chunk's: a trigger
    cohort's first step, a Wait's resume step (WAIT-10), and on leaving the flow.
    """
    return or_(run_member.c.next_step.is_(None), run_member.c.next_step == step_id)


@dataclass(frozen=True, kw_only=True, slots=True)
class Issue:
    """One run error or warning (GEN-6)."""

    code: str
    """e.g. ``INVALID_VALUE``, ``SCORE_CLAMPED``."""
    message: str
    """What happened, for a person to read."""
    campaign_id: int | None = None
    """Campaign whose step raised it."""
    step_id: str | None = None
    """Step id within that campaign's flow."""
    person_id: int | None = None
    """Person concerned, when there is one."""

    def to_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "campaignId": self.campaign_id,
            "stepId": self.step_id,
            "personId": self.person_id,
            "message": self.message,
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class StepResult:
    """Counts of one step of a run (GEN-6)."""

    executed: int = 0
    """Persons the step's action was applied to (errors excluded)."""
    skipped: int = 0
    """Persons who took a Do Nothing choice or were skipped (reasons below)."""
    blocked: int = 0
    """Persons blocked (communication limits, later issues)."""
    errors: int = 0
    """Persons for whom the step could not be applied (FLOW-6)."""
    choices: Mapping[str, int] = field(default_factory=dict)
    """Persons per choice: ``"1"``, ``"2"``, … and ``"default"`` (FLOW-9)."""
    skip_reasons: Mapping[str, int] = field(default_factory=dict)
    """Why persons were skipped, e.g. ``person deleted`` (FLOW-7), ``do nothing``."""

    def to_json(self) -> dict[str, Any]:
        return {
            "executed": self.executed,
            "skipped": self.skipped,
            "blocked": self.blocked,
            "errors": self.errors,
            "choices": dict(self.choices),
            "skipReasons": dict(self.skip_reasons),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    """A run as GEN-6 reports it."""

    run_id: int
    campaign_id: int
    kind: RunKind
    status: RunStatus
    trigger_activity_id: int | None
    started_at: datetime | None
    finished_at: datetime | None
    cohort: int | None
    qualified: int | None
    waiting: int
    steps: Mapping[str, StepResult]
    errors: tuple[dict[str, Any], ...]
    warnings: tuple[dict[str, Any], ...]
    token_overrides: Mapping[str, str] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "runId": self.run_id,
            "campaignId": self.campaign_id,
            "kind": self.kind.value,
            "status": self.status.value,
            "triggerActivityId": self.trigger_activity_id,
            "startedAt": self.started_at,
            "finishedAt": self.finished_at,
            "cohort": self.cohort,
            "qualified": self.qualified,
            "waiting": self.waiting,
            "steps": {path: step.to_json() for path, step in self.steps.items()},
            "errors": list(self.errors),
            "warnings": list(self.warnings),
            "tokenOverrides": dict(self.token_overrides),
        }


def create_run(
    connection: Connection,
    *,
    campaign_id: int,
    kind: RunKind,
    now: datetime,
    overrides: Mapping[str, str],
    warnings: Sequence[Issue] = (),
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    causation_depth: int = 0,
    trigger_activity_id: int | None = None,
) -> int:
    """A new queued run; its accepted token overrides persist with it (TOK-18)."""
    statement = insert(run).values(
        campaign_id=campaign_id,
        kind=kind.value,
        status=RunStatus.QUEUED.value,
        causation_depth=causation_depth,
        trigger_activity_id=trigger_activity_id,
        token_overrides=dict(overrides),
        chunk_size=chunk_size,
        created_at=now,
        errors=[],
        warnings=[w.to_json() for w in warnings],
    )
    return int(connection.execute(statement.returning(run.c.id)).scalar_one())


def set_status(
    connection: Connection,
    run_id: int,
    status: RunStatus,
    now: datetime,
    **values: Any,
) -> None:
    """Move a run to ``status``; starting stamps ``started_at``, finishing ``finished_at``."""
    changes: dict[str, Any] = {"status": status.value, **values}
    if status is RunStatus.RUNNING:
        changes["started_at"] = now
    if status.finished:
        changes["finished_at"] = now
    connection.execute(update(run).where(run.c.id == run_id).values(changes))


def add_issues(
    connection: Connection,
    run_id: int,
    *,
    errors: Sequence[Issue] = (),
    warnings: Sequence[Issue] = (),
) -> None:
    """Append errors and warnings to the run, in the caller's transaction: rows of their
    own, so chunks committing in parallel never rewrite the run row (DESIGN.md §5)."""
    rows = [
        *({"run_id": run_id, "kind": _ERROR, "document": e.to_json()} for e in errors),
        *({"run_id": run_id, "kind": _WARNING, "document": w.to_json()} for w in warnings),
    ]
    if rows:
        connection.execute(insert(run_issue), rows)


_ERROR = "error"
_WARNING = "warning"


def _issues(connection: Connection, run_id: int) -> dict[str, list[Any]]:
    """Issues recorded by steps, in the order they committed."""
    found: dict[str, list[Any]] = {_ERROR: [], _WARNING: []}
    statement = (
        select(run_issue.c.kind, run_issue.c.document)
        .where(run_issue.c.run_id == run_id)
        .order_by(run_issue.c.id)
    )
    for kind, document in connection.execute(statement):
        found[kind].append(document)
    return found


def load_run_row(connection: Connection, run_id: int) -> Any:
    row = connection.execute(select(run).where(run.c.id == run_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"there is no run {run_id}; `kampanj runs` lists them")
    return row


def load_result(connection: Connection, run_id: int) -> RunResult:
    """The GEN-6 result of a stored run."""
    row = load_run_row(connection, run_id)
    issues = _issues(connection, run_id)
    steps = {
        s.call_path: StepResult(
            executed=s.executed,
            skipped=s.skipped,
            blocked=s.blocked,
            errors=s.errors,
            choices=s.choices,
            skip_reasons=s.skip_reasons,
        )
        for s in connection.execute(
            select(run_step).where(run_step.c.run_id == run_id).order_by(run_step.c.position)
        )
    }
    return RunResult(
        run_id=row["id"],
        campaign_id=row["campaign_id"],
        kind=RunKind(row["kind"]),
        status=RunStatus(row["status"]),
        trigger_activity_id=row["trigger_activity_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        cohort=row["cohort"],
        qualified=row["qualified"],
        waiting=_waiting(connection, run_id),
        steps=steps,
        errors=(*row["errors"], *issues[_ERROR]),
        warnings=(*row["warnings"], *issues[_WARNING]),
        token_overrides=dict(row["token_overrides"]),
    )


def _waiting(connection: Connection, run_id: int) -> int:
    statement = (
        select(func.count())
        .select_from(run_member)
        .where(run_member.c.run_id == run_id, run_member.c.state == MemberState.WAITING.value)
    )
    return int(connection.execute(statement).scalar_one())


def list_runs(connection: Connection, limit: int | None = None) -> list[Any]:
    """Stored runs, newest first."""
    statement = select(run).order_by(run.c.id.desc())
    if limit is not None:
        statement = statement.limit(limit)
    return list(connection.execute(statement).mappings())
