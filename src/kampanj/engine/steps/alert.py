"""Send Alert (MAIL-11): an email about the person to the lead owner and/or other addresses.

Alerts ignore blocking and communication limits. Addresses in ``toOtherEmails`` may hold
tokens only in trigger and requested runs; elsewhere those addresses are dropped with
warning ALERT_TOKEN_BATCH. A person with no recipient gets ALERT_NO_RECIPIENT and nothing
is sent or written for them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, Select, select

from kampanj.engine.runs import RunKind
from kampanj.engine.steps.base import StepEnv, StepOutcome, insert_activity_rows
from kampanj.engine.steps.email import (
    LedgerKeys,
    MailTemplates,
    cohort_rows,
    find_email,
    message_id,
    refuse,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import ParamValue
from kampanj.model.names import fold
from kampanj.store.outbox_repo import OutboxIntent, OutboxKind, insert_intents
from kampanj.store.schema import run
from kampanj.tokens.render import Template, compile_template
from kampanj.tokens.syntax import has_token_syntax

ALERT_TOKEN_BATCH = "ALERT_TOKEN_BATCH"
ALERT_NO_RECIPIENT = "ALERT_NO_RECIPIENT"
LEAD_OWNER = "lead owner"
_SEPARATORS = re.compile(r"[,;]")
_TOKEN_RUNS = frozenset({RunKind.TRIGGER.value, RunKind.REQUESTED.value})


def split_addresses(text: str) -> list[str]:
    """Addresses of a ``toOtherEmails`` value: split on ``,`` and ``;``, blanks dropped."""
    return [part.strip() for part in _SEPARATORS.split(text) if part.strip()]


def _other_addresses(
    connection: Connection, env: StepEnv, text: str
) -> tuple[list[Template], bool]:
    """Templates of the addresses kept, and whether token-bearing ones were dropped."""
    kind = connection.execute(select(run.c.kind).where(run.c.id == env.run_id)).scalar()
    tokens_allowed = kind in _TOKEN_RUNS
    kept: list[Template] = []
    dropped = False
    for address in split_addresses(text):
        if has_token_syntax(address) and not tokens_allowed:
            dropped = True
            continue
        kept.append(compile_template(address, env.tokens, env.fields))
    return kept, dropped


def send_alert(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """MAIL-11: recipients, content with ``{{sp_send_alert_info}}``, outbox row, Send Alert (38)."""
    found = find_email(connection, env, params)
    refused = refuse(connection, env, cohort, found)
    if refused is not None:
        return refused
    assert not isinstance(found, str)
    outcome = StepOutcome()
    others, dropped = _other_addresses(connection, env, str(params.get("toOtherEmails") or ""))
    if dropped:
        outcome.warnings.append(
            env.issue(
                ALERT_TOKEN_BATCH,
                "addresses with tokens in toOtherEmails resolve only in trigger or requested "
                "runs; they were dropped (MAIL-11)",
            )
        )
    to_owner = fold(params.get("sendTo") or "") == LEAD_OWNER
    keys = LedgerKeys(env)
    templates = MailTemplates.compile(found.email, keys.context(), env, alert_info=True)
    columns = {"lead_owner", *templates.person_columns}
    for template in others:
        columns |= template.person_columns
    rows = cohort_rows(connection, env, cohort, columns)
    keys.add(rows)
    addresses = _recipients(rows, others, to_owner)
    messages = templates.render(rows)
    intents: list[OutboxIntent] = []
    activities: list[tuple[int, Mapping[str, object]]] = []
    for row, (owner, listed), message in zip(rows, addresses, messages, strict=True):
        person_id = row["id"]
        outcome.executed += 1
        recipients = [*([owner] if owner else []), *listed]
        if not recipients:
            outcome.warnings.append(
                env.issue(ALERT_NO_RECIPIENT, "the alert has no recipient; nothing sent", person_id)
            )
            continue
        key = keys.keys[person_id]
        intents.append(
            OutboxIntent(
                ledger_key=key,
                kind=OutboxKind.ALERT,
                payload={
                    "emailId": found.id,
                    "email": found.email.name,
                    "to": recipients,
                    "messageId": message_id(key),
                    **message,
                },
                run_id=env.run_id,
                person_id=person_id,
                campaign_id=env.campaign_id,
                call_path=env.ledger_path,
            )
        )
        activities.append((person_id, {"Send To Owner": owner, "Send To List": ", ".join(listed)}))
    insert_intents(connection, intents, env.now)
    insert_activity_rows(
        connection,
        env,
        activities,
        activity_type_id=StandardActivity.SEND_ALERT,
        primary_value=found.email.name,
        primary_id=found.id,
    )
    return outcome


def _recipients(
    rows: Sequence[Mapping[str, Any]], others: Sequence[Template], to_owner: bool
) -> list[tuple[str, list[str]]]:
    """(lead owner or "", other addresses) per person; a rendered address may hold several."""
    rendered = [template.render_many(rows) for template in others]
    result = []
    for index, row in enumerate(rows):
        owner = str(row.get("lead_owner") or "").strip() if to_owner else ""
        listed = [a for texts in rendered for a in split_addresses(texts[index])]
        result.append((owner, listed))
    return result
