"""Send Email (MAIL-1..9): block checks as one SQL CASE, then render and hand off via the outbox.

One statement reads the cohort with the first applicable MAIL-4 reason (communication
limits MAIL-6/7 as correlated counts over the person's Send Email activities and pending
email intents), the person
columns the email's tokens need and each flow instance's entry id. Blocked persons get
Email Blocked (902); the others are rendered in bulk and get one outbox ``intent`` row each
(ledger key LEDG-1), all in the step's transaction: a committed (step, chunk) is never
executed again and a rolled-back one wrote nothing, so a message is
handed off once (LEDG-2/3/4). Send Email (6) is written by delivery, in the transaction
recording the outcome, so a refused message never claims a send (MAIL-9).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, case, func, or_, select

from kampanj.engine.runs import MemberState
from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    every_person_fails,
    insert_activity_rows,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.assets import Email
from kampanj.model.campaigns import ParamValue
from kampanj.model.names import fold
from kampanj.model.settings import AccountSettings
from kampanj.store import codec
from kampanj.store.outbox_repo import (
    OutboxIntent,
    OutboxKind,
    OutboxState,
    insert_intents,
    ledger_key,
)
from kampanj.store.schema import activity, outbox, run_member, setting, workspace
from kampanj.store.schema import email as email_table
from kampanj.tokens.context import TokenContext
from kampanj.tokens.formats import Encoder, html_email_encoding, no_encoding
from kampanj.tokens.render import PersonRow, Template, compile_template

EMAIL_NOT_APPROVED = "EMAIL_NOT_APPROVED"  # MAIL-1, FLOW-6
UNKNOWN_EMAIL = "REF_UNKNOWN"
SEVEN_DAYS = timedelta(hours=168)  # MAIL-6: rolling window


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredEmail:
    """An email asset with its storage id."""

    id: int
    email: Email


def find_email(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue]
) -> StoredEmail | str:
    """The step's email in the campaign's workspace (GEN-7 names), or why there is none."""
    name = str(params.get("email") or "")
    rows = connection.execute(
        select(
            email_table.c.id,
            email_table.c.name,
            email_table.c.definition,
            workspace.c.name.label("workspace"),
        ).join(workspace, workspace.c.id == email_table.c.workspace_id)
    )
    here = fold(env.campaign.workspace)
    for row in rows:
        if fold(row.workspace) == here and fold(row.name) == fold(name):
            fields = codec.email_fields_from_json(row.definition)
            found = Email(workspace=env.campaign.workspace, folder=(), name=row.name, **fields)
            return StoredEmail(id=row.id, email=found)
    return f"there is no email {name!r} in workspace {env.campaign.workspace!r}"


def load_settings(connection: Connection) -> AccountSettings:
    """The current account settings (GEN-9: runtime guards read the current values)."""
    values = {row.name: row.value for row in connection.execute(select(setting))}
    return codec.settings_from_json(values)


def refuse(
    connection: Connection, env: StepEnv, cohort: Select[Any], found: StoredEmail | str
) -> StepOutcome | None:
    """Every person fails when the email is unknown or unapproved at run time (FLOW-6)."""
    if isinstance(found, str):
        return every_person_fails(connection, env, cohort, UNKNOWN_EMAIL, found)
    if not found.email.approved:
        return every_person_fails(
            connection,
            env,
            cohort,
            EMAIL_NOT_APPROVED,
            f"email {found.email.name!r} is not approved, so it cannot be sent (MAIL-1)",
        )
    return None


# -- block checks (MAIL-3, MAIL-4, MAIL-6) ------------------------------------------------


def _position(connection: Connection, text: Any, part: str) -> Any:
    if connection.dialect.name == "postgresql":
        return func.strpos(text, part)
    return func.instr(text, part)


def _operational_ids(connection: Connection) -> list[int]:
    rows = connection.execute(select(email_table.c.id, email_table.c.definition))
    return [row.id for row in rows if row.definition.get("operational")]


def _sends_since(
    connection: Connection, env: StepEnv, since: datetime, operational: Sequence[int]
) -> Any:
    """The person's non-operational sends in [since, now] (MAIL-6): Send Email activities
    plus email intents still waiting for delivery."""
    counted = [
        activity.c.person_id == env.person.c.id,
        activity.c.activity_type_id == StandardActivity.SEND_EMAIL,
        activity.c.activity_date >= since,
        activity.c.activity_date <= env.now,
    ]
    if operational:
        counted.append(
            or_(
                activity.c.primary_attribute_value_id.is_(None),
                activity.c.primary_attribute_value_id.not_in(operational),
            )
        )
    sent = select(func.count()).where(*counted).scalar_subquery()
    email_id = outbox.c.payload["emailId"].as_integer()
    pending = [  # handed off by a step, not delivered yet: Send Email (6) comes at delivery
        outbox.c.state.in_([OutboxState.INTENT.value, OutboxState.CLAIMED.value]),
        outbox.c.kind == OutboxKind.EMAIL.value,
        outbox.c.person_id == env.person.c.id,
        outbox.c.created_at >= since,
        outbox.c.created_at <= env.now,
    ]
    if operational:
        pending.append(or_(email_id.is_(None), email_id.not_in(operational)))
    return sent + select(func.count()).where(*pending).scalar_subquery()


def _over_limit(connection: Connection, env: StepEnv, settings: AccountSettings) -> Any:
    """True when the person reached a communication limit (MAIL-6), or None without limits."""
    tests = []
    operational = _operational_ids(connection)
    if settings.comm_limit_per_day is not None:
        local = env.now.astimezone(env.zone)
        midnight = datetime.combine(local.date(), time(), tzinfo=env.zone).astimezone(UTC)
        tests.append(
            _sends_since(connection, env, midnight, operational) >= settings.comm_limit_per_day
        )
    if settings.comm_limit_per_7_days is not None:
        tests.append(
            _sends_since(connection, env, env.now - SEVEN_DAYS, operational)
            >= settings.comm_limit_per_7_days
        )
    return or_(*tests) if tests else None


def block_reason(
    connection: Connection, env: StepEnv, email: Email, settings: AccountSettings
) -> ColumnElement[Any]:
    """The first MAIL-4 reason that blocks the person, NULL when none does (MAIL-3)."""
    person = env.person
    address = person.c.email
    at = _position(connection, address, "@")
    ats = func.length(address) - func.length(func.replace(address, "@", ""))
    domain = func.substr(address, at + 1)
    whens: list[tuple[Any, str]] = [
        (or_(address.is_(None), address == ""), "empty email"),
        (or_(ats != 1, at == 1, _position(connection, domain, ".") == 0), "invalid email"),
        (person.c.email_invalid.is_(True), "email invalid"),
        (person.c.blocklisted.is_(True), "blocklisted"),
    ]
    if not email.operational:
        whens += [
            (person.c.unsubscribed.is_(True), "unsubscribed"),
            (person.c.marketing_suspended.is_(True), "marketing suspended"),
        ]
        if env.campaign.schedule.communication_limit:  # MAIL-7: the step's own campaign
            over = _over_limit(connection, env, settings)
            if over is not None:
                whens.append((over, "communication limit"))
    return case(*whens, else_=None)


# -- rendering and hand-off --------------------------------------------------------------


def message_id(key: str) -> str:
    """An opaque per-message id derived from the ledger key (TOK-7 links)."""
    return hashlib.sha256(key.encode()).hexdigest()[:24]


@dataclass(frozen=True, kw_only=True, slots=True)
class MailTemplates:
    """An email's parts compiled for one step's context (MAIL-2, MAIL-8)."""

    parts: Mapping[str, Template]

    @classmethod
    def compile(
        cls, email: Email, context: TokenContext, env: StepEnv, *, alert_info: bool = False
    ) -> MailTemplates:
        def part(text: str, encoder: Encoder = no_encoding) -> Template:
            return compile_template(
                text, context, env.fields, encoder=encoder, alert_info=alert_info
            )

        return cls(
            parts={
                "subject": part(email.subject),
                "fromName": part(email.from_name),
                "fromEmail": part(email.from_email),
                "replyTo": part(email.reply_to),
                "html": part(email.html, html_email_encoding),
                "text": part(email.text),
            }
        )

    @property
    def person_columns(self) -> frozenset[str]:
        return frozenset().union(*(t.person_columns for t in self.parts.values()))

    def render(self, rows: Sequence[PersonRow]) -> list[dict[str, str]]:
        columns = {name: t.render_many(rows) for name, t in self.parts.items()}
        return [{name: texts[i] for name, texts in columns.items()} for i in range(len(rows))]


class LedgerKeys:
    """LEDG-1 keys of one step execution, filled from the cohort's rows; also the per-message
    ids of link tokens (TOK-7), which the templates read when they render."""

    def __init__(self, env: StepEnv) -> None:
        self.env = env
        self.keys: dict[int, str] = {}

    def entry_column(self, person_id: Any) -> Any:
        """The person's flow-instance id in this run (LEDG-1 ``entryId``), as a SQL column."""
        return (
            select(func.min(run_member.c.entry_id))
            .where(
                run_member.c.run_id == self.env.run_id,
                run_member.c.person_id == person_id,
                run_member.c.state == MemberState.ACTIVE.value,
            )
            .scalar_subquery()
            .label(ENTRY)
        )

    def add(self, rows: Sequence[Mapping[str, Any]]) -> None:
        env = self.env
        for row in rows:
            entry = row[ENTRY] if row[ENTRY] is not None else row["id"]
            self.keys[row["id"]] = ledger_key(env.run_id, entry, env.ledger_path)

    def context(self) -> TokenContext:
        """The step's token context with per-message ids for link tokens."""
        keys = self.keys
        system = replace(
            self.env.tokens.system, message_ids=lambda person_id: message_id(keys[person_id])
        )
        return replace(self.env.tokens, system=system)


ENTRY = "_entry_id"
REASON = "_reason"


def cohort_rows(
    connection: Connection,
    env: StepEnv,
    cohort: Select[Any],
    columns: Iterable[str],
    extra: Iterable[Any] = (),
) -> list[dict[str, Any]]:
    """The cohort's persons (ascending id) with ``columns``, ``extra`` labelled expressions
    and their entry ids: ONE statement, so expensive expressions run once per person."""
    person = env.person
    wanted = ["id", *sorted(set(columns) - {"id"})]
    statement = (
        select(
            *(person.c[c] for c in wanted),
            LedgerKeys(env).entry_column(person.c.id),
            *extra,
        )
        .where(person.c.id.in_(cohort))
        .order_by(person.c.id)
    )
    return [dict(row) for row in connection.execute(statement).mappings()]


def mail_attributes(env: StepEnv) -> dict[str, object]:
    return {"Campaign Run ID": str(env.run_id), "Step ID": env.ledger_path}


def send_email(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """MAIL-2..5: Email Blocked (902) with Reason, or an outbox intent; delivery writes
    Send Email (6) with the outcome (MAIL-9)."""
    found = find_email(connection, env, params)
    refused = refuse(connection, env, cohort, found)
    if refused is not None:
        return refused
    assert isinstance(found, StoredEmail)
    email = found.email
    keys = LedgerKeys(env)
    templates = MailTemplates.compile(email, keys.context(), env)
    reason = block_reason(connection, env, email, load_settings(connection)).label(REASON)
    rows = cohort_rows(
        connection, env, cohort, {"email", *templates.person_columns}, extra=[reason]
    )
    shared = mail_attributes(env)
    sending = [row for row in rows if row[REASON] is None]
    blocked = [
        (row["id"], {"Reason": row[REASON], **shared}) for row in rows if row[REASON] is not None
    ]
    insert_activity_rows(
        connection,
        env,
        blocked,
        activity_type_id=StandardActivity.EMAIL_BLOCKED,
        primary_value=email.name,
        primary_id=found.id,
    )
    keys.add(sending)
    messages = templates.render(sending)
    activity_attributes = {**env.flow_attributes(), **shared}  # Send Email (6), at delivery
    insert_intents(
        connection,
        [
            OutboxIntent(
                ledger_key=keys.keys[row["id"]],
                kind=OutboxKind.EMAIL,
                payload={
                    "emailId": found.id,
                    "email": email.name,
                    "operational": email.operational,
                    "to": [row["email"]],
                    "messageId": message_id(keys.keys[row["id"]]),
                    "activity": activity_attributes,
                    **message,
                },
                run_id=env.run_id,
                person_id=row["id"],
                campaign_id=env.campaign_id,
                call_path=env.ledger_path,
            )
            for row, message in zip(sending, messages, strict=True)
        ],
        env.now,
    )
    return StepOutcome(executed=len(sending), blocked=len(blocked))
