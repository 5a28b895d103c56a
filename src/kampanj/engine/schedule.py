"""Scheduled batch runs: single runs at a time (CMP-8), recurrences (CMP-9/10), cancel (CMP-11).

A ``scheduled_run`` row is ``pending`` until a tick starts it. Recurrence occurrences become
rows only when due, each with a unique ``occurrence_key``, so however often ticks run an
occurrence starts at most once. Starting claims the row in the transaction that creates the
run (``run_batch(claim=…)``): a row is ``started`` iff its run exists.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from kampanj.clock import Clock, FixedClock
from kampanj.definitions.lookup import find_campaign
from kampanj.engine import triggers
from kampanj.engine.batch import (
    StartedRun,
    check_runnable,
    check_steps,
    run_batch,
)
from kampanj.engine.recurrence import due_occurrences, next_occurrence
from kampanj.engine.runs import RunStatus, set_status
from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign, CampaignType
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.schema import campaign as campaign_table
from kampanj.store.schema import run, scheduled_run
from kampanj.tokens.overrides import OverrideRequest, check_overrides
from kampanj.tokens.stored import load_token_tree

INTERRUPTED = "RUN_START_INTERRUPTED"


class ScheduleStatus(StrEnum):
    """Where a scheduled run is."""

    PENDING = "pending"
    STARTED = "started"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    """The campaign could not be run any more when the run was due (deleted, changed type)."""


class Origin(StrEnum):
    """Why a scheduled run exists."""

    SINGLE = "single"
    """``kampanj run CAMPAIGN --at TIME`` (CMP-8)."""
    RECURRENCE = "recurrence"
    """An occurrence of the campaign's recurrence (CMP-10)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Scheduled:
    """One scheduled run as stored."""

    id: int
    campaign_id: int
    run_at: datetime
    origin: Origin
    status: ScheduleStatus
    run_id: int | None
    token_overrides: Mapping[str, str]

    @classmethod
    def from_row(cls, row: Any) -> Scheduled:
        return cls(
            id=row["id"],
            campaign_id=row["campaign_id"],
            run_at=row["run_at"],
            origin=Origin(row["origin"]),
            status=ScheduleStatus(row["status"]),
            run_id=row["run_id"],
            token_overrides=dict(row["token_overrides"]),
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "campaignId": self.campaign_id,
            "runAt": self.run_at,
            "origin": self.origin.value,
            "status": self.status.value,
            "runId": self.run_id,
            "tokenOverrides": dict(self.token_overrides),
        }


def account_zone(definitions: Definitions) -> tzinfo:
    """The account time zone (GEN-1)."""
    return definitions.settings.zone() if definitions.settings else ZoneInfo("UTC")


def parse_time(text: str, zone: tzinfo) -> datetime:
    """An ISO-8601 date-time; without an offset it is account-local (CMP-8)."""
    try:
        instant = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        raise UserError(
            f"{text!r} is not a time; write ISO-8601 such as 2026-03-02T09:00 (account time "
            "zone) or 2026-03-02T09:00+01:00"
        ) from None
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=zone)
    return instant.astimezone(UTC)


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduledRequest:
    """A run scheduled for later, and the overrides it ignored (TOK-17)."""

    scheduled: Scheduled
    ignored: tuple[str, ...]


def schedule_run(
    database: Database,
    clock: Clock,
    campaign_name: str,
    at: str,
    *,
    workspace: str | None = None,
    overrides: Sequence[OverrideRequest] = (),
) -> ScheduledRequest:
    """A pending single run of a batch campaign at ``at`` ≥ now (CMP-8); several may coexist."""
    with database.read() as connection:
        definitions = read_definitions(connection)
        campaign = find_campaign(definitions, campaign_name, workspace)
        check_runnable(campaign)
        check_steps(campaign, definitions)  # executables it calls too
        tree, _ = load_token_tree(connection, definitions)
    check = check_overrides(overrides, tree, campaign)
    now = clock.now()
    run_at = parse_time(at, account_zone(definitions))
    if run_at < now:
        raise UserError(
            f"{at!r} is in the past ({run_at.isoformat()} < now {now.isoformat()}); a run is "
            "scheduled now or later (CMP-8); drop --at to run now"
        )
    assert campaign.id is not None
    with database.begin() as connection:
        row_id = connection.execute(
            insert(scheduled_run)
            .values(
                campaign_id=campaign.id,
                run_at=run_at,
                origin=Origin.SINGLE.value,
                occurrence_key=None,
                token_overrides={name: value for name, value in check.accepted},
                status=ScheduleStatus.PENDING.value,
                run_id=None,
                created_at=now,
            )
            .returning(scheduled_run.c.id)
        ).scalar_one()
        scheduled = load_scheduled(connection, int(row_id))
    return ScheduledRequest(
        scheduled=scheduled, ignored=tuple(item.message for item in check.ignored)
    )


def load_scheduled(connection: Connection, scheduled_id: int) -> Scheduled:
    row = (
        connection.execute(select(scheduled_run).where(scheduled_run.c.id == scheduled_id))
        .mappings()
        .first()
    )
    if row is None:
        raise NotFoundError(
            f"there is no scheduled run {scheduled_id}; `kampanj schedule list` lists them"
        )
    return Scheduled.from_row(row)


def list_scheduled(connection: Connection, *, pending_only: bool = True) -> list[Scheduled]:
    """Scheduled runs by due time (pending ones only unless asked)."""
    statement = select(scheduled_run).order_by(
        scheduled_run.c.run_at, scheduled_run.c.campaign_id, scheduled_run.c.id
    )
    if pending_only:
        statement = statement.where(scheduled_run.c.status == ScheduleStatus.PENDING.value)
    return [Scheduled.from_row(row) for row in connection.execute(statement).mappings()]


def cancel(database: Database, scheduled_id: int) -> Scheduled:
    """Cancel a pending run (CMP-11); a started one continues and cannot be cancelled."""
    with database.begin() as connection:
        found = load_scheduled(connection, scheduled_id)
        changed = connection.execute(
            update(scheduled_run)
            .where(
                scheduled_run.c.id == scheduled_id,
                scheduled_run.c.status == ScheduleStatus.PENDING.value,
            )
            .values(status=ScheduleStatus.CANCELLED.value)
        ).rowcount
        if changed != 1:
            hint = f"; abort run {found.run_id} instead" if found.run_id else ""
            raise UserError(
                f"scheduled run {scheduled_id} is {found.status.value}, not pending; only "
                f"pending runs can be cancelled (CMP-11){hint}"
            )
        return load_scheduled(connection, scheduled_id)


def recurring(definitions: Definitions) -> list[Campaign]:
    """Campaigns whose recurrence schedules runs: batch, not executable (EXE-23)."""
    return [
        c
        for c in definitions.campaigns
        if c.schedule.recurrence is not None
        and not c.executable
        and c.type is CampaignType.BATCH
        and c.id is not None
    ]


def _recurrence_end(campaign: Campaign, until: datetime) -> datetime:
    expires = campaign.schedule.expires_at  # CMP-22: expiry clears the recurrence
    return until if expires is None else min(until, expires)


def _last_occurrence(connection: Connection, campaign_id: int) -> datetime | None:
    statement = select(func.max(scheduled_run.c.run_at)).where(
        scheduled_run.c.campaign_id == campaign_id,
        scheduled_run.c.origin == Origin.RECURRENCE.value,
    )
    found: datetime | None = connection.execute(statement).scalar_one()
    return found


def occurrence_key(campaign_id: int, instant: datetime) -> str:
    return f"{campaign_id}@{instant.astimezone(UTC).isoformat()}"


def add_due_occurrences(database: Database, now: datetime) -> list[Scheduled]:
    """Pending rows for every recurrence occurrence due by ``now`` not yet recorded (CMP-10)."""
    with database.read() as connection:
        definitions = read_definitions(connection)
        zone = account_zone(definitions)
        plans = [
            (campaign, _last_occurrence(connection, campaign.id or 0))
            for campaign in recurring(definitions)
        ]
    added: list[Scheduled] = []
    for campaign, last in plans:
        assert campaign.id is not None and campaign.schedule.recurrence is not None
        until = _recurrence_end(campaign, now)
        for instant in due_occurrences(campaign.schedule.recurrence, zone, after=last, until=until):
            try:
                with database.begin() as connection:
                    row_id = connection.execute(
                        insert(scheduled_run)
                        .values(
                            campaign_id=campaign.id,
                            run_at=instant,
                            origin=Origin.RECURRENCE.value,
                            occurrence_key=occurrence_key(campaign.id, instant),
                            token_overrides={},
                            status=ScheduleStatus.PENDING.value,
                            run_id=None,
                            created_at=now,
                        )
                        .returning(scheduled_run.c.id)
                    ).scalar_one()
                    added.append(load_scheduled(connection, int(row_id)))
            except IntegrityError:
                continue  # another tick recorded this occurrence first
    return added


def upcoming(definitions: Definitions, now: datetime, connection: Connection) -> list[Any]:
    """The next not yet recorded occurrence of each recurring campaign (for listings)."""
    zone = account_zone(definitions)
    found = []
    for campaign in recurring(definitions):
        assert campaign.id is not None and campaign.schedule.recurrence is not None
        last = _last_occurrence(connection, campaign.id)
        instant = next_occurrence(campaign.schedule.recurrence, zone, last)
        if instant is not None and instant <= _recurrence_end(campaign, instant):
            found.append({"campaignId": campaign.id, "campaign": campaign.name, "runAt": instant})
    return sorted(found, key=lambda item: (item["runAt"], item["campaignId"]))


def next_pending(connection: Connection, now: datetime) -> Scheduled | None:
    """The first pending run due by ``now``, ties by campaign id then id (ORD-3)."""
    statement = (
        select(scheduled_run)
        .where(
            scheduled_run.c.status == ScheduleStatus.PENDING.value,
            scheduled_run.c.run_at <= now,
        )
        .order_by(scheduled_run.c.run_at, scheduled_run.c.campaign_id, scheduled_run.c.id)
        .limit(1)
    )
    row = connection.execute(statement).mappings().first()
    return None if row is None else Scheduled.from_row(row)


_START_LOCK = 0x4B53
"""PostgreSQL advisory lock namespace: a scheduled run some process is starting."""


@contextmanager
def _starting(database: Database, scheduled_id: int) -> Iterator[None]:
    """PostgreSQL: a session advisory lock on the scheduled run while a process starts it.
    It ends with that process's connection, so recovery can tell a start still qualifying
    (a long transaction, possibly longer than the tick lease) from one whose process died."""
    if database.dialect != "postgresql":
        yield
        return
    with database.engine.connect() as raw:
        connection = raw.execution_options(isolation_level="AUTOCOMMIT")
        connection.execute(select(func.pg_advisory_lock(_START_LOCK, scheduled_id)))
        try:
            yield
        finally:
            connection.execute(select(func.pg_advisory_unlock(_START_LOCK, scheduled_id)))


class _AlreadyStarted(Exception):
    """Another tick claimed the scheduled run first."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StartOutcome:
    """What starting one scheduled run did."""

    scheduled: Scheduled
    started: StartedRun | None = None
    refused: str | None = None


def start(database: Database, scheduled: Scheduled, *, execute_now: bool = True) -> StartOutcome:
    """Start a due scheduled run with the clock at its due time (GEN-4); maxMembers is
    checked anew for every occurrence (CMP-6). ``execute_now=False`` leaves the qualified
    run ``running`` for the workers (engine/handoff.py)."""

    def claim(connection: Connection, run_id: int) -> None:
        changed = connection.execute(
            update(scheduled_run)
            .where(
                scheduled_run.c.id == scheduled.id,
                scheduled_run.c.status == ScheduleStatus.PENDING.value,
            )
            .values(status=ScheduleStatus.STARTED.value, run_id=run_id)
        ).rowcount
        if changed != 1:
            raise _AlreadyStarted

    with database.read() as connection:
        definitions = read_definitions(connection)
    campaign = next((c for c in definitions.campaigns if c.id == scheduled.campaign_id), None)
    try:
        if campaign is None:
            raise NotFoundError(f"campaign {scheduled.campaign_id} no longer exists")
        with _starting(database, scheduled.id):
            started = run_batch(
                database,
                FixedClock(scheduled.run_at),
                "/".join((*campaign.folder, campaign.name)),
                workspace=campaign.workspace,
                overrides=[
                    OverrideRequest(name=f"my.{name}", value=value)
                    for name, value in scheduled.token_overrides.items()
                ],
                claim=claim,
                execute_now=execute_now,
            )
    except _AlreadyStarted:
        with database.read() as connection:
            return StartOutcome(scheduled=load_scheduled(connection, scheduled.id))
    except UserError as error:
        with database.begin() as connection:
            connection.execute(
                update(scheduled_run)
                .where(
                    scheduled_run.c.id == scheduled.id,
                    scheduled_run.c.status == ScheduleStatus.PENDING.value,
                )
                .values(status=ScheduleStatus.REFUSED.value)
            )
            return StartOutcome(
                scheduled=load_scheduled(connection, scheduled.id), refused=str(error)
            )
    with database.read() as connection:
        return StartOutcome(scheduled=load_scheduled(connection, scheduled.id), started=started)


def expire_trigger_campaigns(database: Database, clock: Clock) -> list[int]:
    """CMP-22: active trigger campaigns whose ``expiresAt`` has come are deactivated (as
    `kampanj deactivate` does: people in the flow and queued runs finish, CMP-13). Their ids."""
    now = clock.now()
    with database.begin() as connection:
        stored = triggers.current_index(connection, clock).campaigns.values()
        due = [
            c.id
            for c in stored
            if c.id is not None
            and c.active
            and not c.executable
            and c.type is CampaignType.TRIGGER
            and c.schedule.expires_at is not None
            and c.schedule.expires_at <= now
        ]
        if not due:
            return []
        expired = connection.execute(
            update(campaign_table)
            .where(campaign_table.c.id.in_(due), campaign_table.c.active.is_(True))
            .values(active=False, updated_at=now)
            .returning(campaign_table.c.id)
        ).scalars()
        return sorted(expired)


def recover_interrupted_starts(database: Database, now: datetime) -> list[int]:
    """Scheduled runs whose start died before qualification committed run again (LEDG-4).

    Such a run is still ``queued`` (qualification is one transaction); it is closed as
    ``aborted`` with error RUN_START_INTERRUPTED and its scheduled row is pending again.
    On PostgreSQL a start still in progress holds its advisory lock (``_starting``) and is
    left alone; on SQLite writers are serialised, so only the instant between the claim and
    the qualification transaction is unguarded.
    """
    with database.begin() as connection:
        rows = list(
            connection.execute(
                select(scheduled_run.c.id, scheduled_run.c.run_id)
                .join(run, run.c.id == scheduled_run.c.run_id)
                .where(
                    scheduled_run.c.status == ScheduleStatus.STARTED.value,
                    run.c.status == RunStatus.QUEUED.value,
                )
                .order_by(scheduled_run.c.id)
            )
        )
        restarted: list[int] = []
        for row in rows:
            if (
                connection.dialect.name == "postgresql"
                and not connection.execute(
                    select(func.pg_try_advisory_xact_lock(_START_LOCK, row.id))
                ).scalar_one()
            ):
                continue  # its start is still qualifying
            status = connection.execute(
                select(run.c.status).where(run.c.id == row.run_id).with_for_update()
            ).scalar_one()
            if status != RunStatus.QUEUED.value:
                continue  # its start committed meanwhile
            issue = {
                "code": INTERRUPTED,
                "campaignId": None,
                "stepId": None,
                "personId": None,
                "message": f"the process starting this run died before qualification "
                f"committed; scheduled run {row.id} was started again",
            }
            set_status(connection, row.run_id, RunStatus.ABORTED, now, errors=[issue])
            restarted.append(row.run_id)
            connection.execute(
                update(scheduled_run)
                .where(scheduled_run.c.id == row.id)
                .values(status=ScheduleStatus.PENDING.value, run_id=None)
            )
    return restarted
