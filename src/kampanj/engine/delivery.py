"""Outbox delivery (LEDG-3, HOOK-4..9, MAIL-9): hand each intent to its transport once.

Claim, then call, then record:

1. *Claim* — one transaction moves a row from ``intent`` to ``claimed``, adds one to
   ``attempts`` and sets ``delivered_at`` to the claim instant, and commits before any call.
2. *Call* — the transport gets the row's ledger key (``Idempotency-Key`` header for
   webhooks, HOOK-9).
3. *Record* — one transaction stores the outcome (``sent`` or ``failed``) and, for
   webhooks, writes Call Webhook (110), the response mappings with their Change Data Value
   (13, ``Source=Webhook``) after it, and the run's warnings. It only applies while the row
   is still claimed by this attempt.

A row still ``claimed`` after its lease (``webhookTimeoutSeconds`` plus one minute) was
left by a dead worker: the transport's ``lookup(key)`` resolves it when the transport has
one (the outcome it reports is recorded; "never arrived" returns the row to ``intent``),
otherwise the row becomes ``unknown`` and is never called again (a webhook writes 110 with
Error Type ``Outcome Unknown``). Nothing here retries a call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, bindparam, select, update

from kampanj.clock import Clock
from kampanj.engine import faults
from kampanj.engine.http_transport import (
    DirectHttpTransport,
    HttpRequest,
    HttpResult,
    HttpTransport,
    LookupTransport,
    header_names,
)
from kampanj.engine.mail_transport import (
    MailLookup,
    MailTransport,
    MailTransportError,
    OutboxMailTransport,
    mail_transport_from_env,
)
from kampanj.engine.runs import Issue, add_issues
from kampanj.engine.steps.email import load_settings, message_id
from kampanj.engine.webhook_response import map_response
from kampanj.model.activities import StandardActivity
from kampanj.model.conversions import format_value
from kampanj.model.settings import AccountSettings
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.database import Database
from kampanj.store.outbox_repo import OutboxKind, OutboxState
from kampanj.store.registry import load_field_registry, person_table
from kampanj.store.schema import outbox, run

OUTCOME_UNKNOWN = "Outcome Unknown"  # LEDG-3
EMPTY_BODY = "1001"  # HOOK-5: a 2xx answer without a body
MAX_RESPONSE_CHARS = 65_536  # HOOK-5, LIM-15
WEBHOOK_FAILED = "WEBHOOK_FAILED"  # HOOK-8
EMAIL_TRANSPORT = "EMAIL_TRANSPORT"  # MAIL-9
OUTCOME = "Outcome"  # Send Email (6) after a hand-off nobody saw end (MAIL-9, LEDG-3)
UNKNOWN_OUTCOME = "unknown"
WEBHOOK_SOURCE = "Webhook"  # ACT-5
LEASE_GRACE = timedelta(minutes=1)
LOCAL_BATCH = 1000  # outbox-transport mail rows settled per transaction
_CONTENT_TYPES = {
    "JSON": "application/json",
    "Form/Url": "application/x-www-form-urlencoded",
    "None": "text/plain; charset=utf-8",
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Transports:
    """Where outbox rows go; tests inject their own."""

    http: HttpTransport = field(default_factory=DirectHttpTransport)
    mail: MailTransport = field(default_factory=mail_transport_from_env)


@dataclass(kw_only=True, slots=True)
class DeliveryReport:
    """What one delivery pass did, row by row."""

    rows: list[dict[str, Any]] = field(default_factory=list)

    def add(self, key: str, kind: str, state: OutboxState, error: str | None = None) -> None:
        self.rows.append({"ledgerKey": key, "kind": kind, "state": state.value, "error": error})

    def count(self, state: OutboxState) -> int:
        return sum(1 for row in self.rows if row["state"] == state.value)

    def to_json(self) -> dict[str, Any]:
        return {
            "sent": self.count(OutboxState.SENT),
            "failed": self.count(OutboxState.FAILED),
            "unknown": self.count(OutboxState.UNKNOWN),
            "returned": self.count(OutboxState.INTENT),
            "rows": list(self.rows),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class _Claim:
    id: int
    key: str
    kind: OutboxKind
    attempt: int
    run_id: int | None
    person_id: int | None
    campaign_id: int | None
    payload: Mapping[str, Any]


def deliver(
    database: Database,
    clock: Clock,
    transports: Transports | None = None,
    *,
    limit: int | None = None,
) -> DeliveryReport:
    """Resolve stale claims, then deliver pending rows oldest first (at most ``limit``)."""
    used = transports or Transports()
    report = DeliveryReport()
    with database.read() as connection:
        settings = load_settings(connection)
    recover(database, clock, used, settings, report)
    handled = 0
    if type(used.mail) is OutboxMailTransport:
        handled = _settle_local_mail(database, clock, report, limit)
    while limit is None or handled < limit:
        claim = _claim_next(database, clock.now())
        if claim is None:
            break
        handled += 1
        faults.hit("delivery-claimed", claim.key)
        if claim.kind is OutboxKind.WEBHOOK:
            result = _call(used.http, claim, settings)
            faults.hit("delivery-called", claim.key)
            _record_webhook(database, clock, claim, result, report)
        else:
            _deliver_mail(database, clock, used.mail, claim, report)
    return report


# -- claims -------------------------------------------------------------------------


def _settle_local_mail(
    database: Database, clock: Clock, report: DeliveryReport, limit: int | None
) -> int:
    """The default mail transport has no external effect (the outbox row is the message):
    claim, hand-off and outcome of a batch of rows commit together. Returns rows handled."""
    handled = 0
    while limit is None or handled < limit:
        size = LOCAL_BATCH if limit is None else min(LOCAL_BATCH, limit - handled)
        with database.begin() as connection:
            rows = connection.execute(
                select(outbox)
                .where(
                    outbox.c.state == OutboxState.INTENT.value,
                    outbox.c.kind.in_([OutboxKind.EMAIL.value, OutboxKind.ALERT.value]),
                )
                .order_by(outbox.c.id)
                .limit(size)
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return handled
            connection.execute(
                update(outbox)
                .where(
                    outbox.c.id == bindparam("b_id"),
                    outbox.c.state == OutboxState.INTENT.value,
                )
                .values(
                    state=OutboxState.SENT.value,
                    message_id=bindparam("b_message"),
                    attempts=outbox.c.attempts + 1,
                    delivered_at=clock.now(),
                ),
                [{"b_id": row.id, "b_message": message_id(row.ledger_key)} for row in rows],
            )
            _write_sends(connection, [_claim_from(row) for row in rows], clock.now())
        for row in rows:
            report.add(row.ledger_key, row.kind, OutboxState.SENT)
        handled += len(rows)
    return handled


def _claim_from(row: Any) -> _Claim:
    return _Claim(
        id=row.id,
        key=row.ledger_key,
        kind=OutboxKind(row.kind),
        attempt=row.attempts,
        run_id=row.run_id,
        person_id=row.person_id,
        campaign_id=row.campaign_id,
        payload=dict(row.payload or {}),
    )


def _claim_next(database: Database, now: datetime) -> _Claim | None:
    """Take the oldest pending row, committed before any call (claim-then-call)."""
    while True:
        with database.begin() as connection:
            pending = (
                select(outbox.c.id)
                .where(outbox.c.state == OutboxState.INTENT.value)
                .order_by(outbox.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            row_id = connection.execute(pending).scalar()
            if row_id is None:
                return None
            taken = connection.execute(
                update(outbox)
                .where(outbox.c.id == row_id, outbox.c.state == OutboxState.INTENT.value)
                .values(
                    state=OutboxState.CLAIMED.value,
                    attempts=outbox.c.attempts + 1,
                    delivered_at=now,
                )
            )
            if taken.rowcount == 1:
                row = connection.execute(select(outbox).where(outbox.c.id == row_id)).one()
                return _claim_from(row)
        # another worker took it between our read and update: try the next one


def _settle(
    connection: Connection,
    claim: _Claim,
    state: OutboxState,
    now: datetime | None,
    *,
    message_id: str | None = None,
    error: str | None = None,
) -> bool:
    """Record the outcome if this attempt still holds the claim; False if it does not."""
    done = connection.execute(
        update(outbox)
        .where(
            outbox.c.id == claim.id,
            outbox.c.state == OutboxState.CLAIMED.value,
            outbox.c.attempts == claim.attempt,
        )
        .values(state=state.value, message_id=message_id, error=error, delivered_at=now)
    )
    return done.rowcount == 1


def recover(
    database: Database,
    clock: Clock,
    transports: Transports,
    settings: AccountSettings,
    report: DeliveryReport,
) -> None:
    """Resolve rows a dead worker left claimed past their lease (LEDG-3)."""
    lease = timedelta(seconds=settings.webhook_timeout_seconds) + LEASE_GRACE
    stale_before = clock.now() - lease
    with database.read() as connection:
        rows = connection.execute(
            select(outbox)
            .where(
                outbox.c.state == OutboxState.CLAIMED.value,
                outbox.c.delivered_at <= stale_before,
            )
            .order_by(outbox.c.id)
        ).all()
    for row in rows:
        claim = _claim_from(row)
        if claim.kind is OutboxKind.WEBHOOK:
            _recover_webhook(database, clock, transports.http, claim, report)
        else:
            _recover_mail(database, clock, transports.mail, claim, report)


def _release(database: Database, claim: _Claim, report: DeliveryReport) -> None:
    """The transport says the call never arrived: the row is pending again."""
    with database.begin() as connection:
        if _settle(connection, claim, OutboxState.INTENT, None):
            report.add(claim.key, claim.kind.value, OutboxState.INTENT)


def _recover_webhook(
    database: Database,
    clock: Clock,
    transport: HttpTransport,
    claim: _Claim,
    report: DeliveryReport,
) -> None:
    if isinstance(transport, LookupTransport):
        found = transport.lookup(claim.key)
        if found is None:
            _release(database, claim, report)
        else:
            _record_webhook(database, clock, claim, found, report)
        return
    unknown = HttpResult(
        error_type=OUTCOME_UNKNOWN,
        detail="the worker stopped between claiming and recording this call (LEDG-3)",
    )
    _record_webhook(database, clock, claim, unknown, report, state=OutboxState.UNKNOWN)


def _recover_mail(
    database: Database,
    clock: Clock,
    transport: MailTransport,
    claim: _Claim,
    report: DeliveryReport,
) -> None:
    found = transport.lookup(claim.key) if isinstance(transport, MailLookup) else None
    if isinstance(transport, MailLookup) and found is None:
        _release(database, claim, report)
        return
    with database.begin() as connection:
        now = clock.now()
        if found is not None:
            if _settle(connection, claim, OutboxState.SENT, now, message_id=found):
                report.add(claim.key, claim.kind.value, OutboxState.SENT)
                _write_sends(connection, [claim], now)
            return
        error = "outcome unknown: the worker stopped during hand-off (LEDG-3)"
        if _settle(connection, claim, OutboxState.UNKNOWN, now, error=error):
            report.add(claim.key, claim.kind.value, OutboxState.UNKNOWN, error)
            _write_sends(connection, [claim], now, outcome=UNKNOWN_OUTCOME)


# -- mail ---------------------------------------------------------------------------


def _deliver_mail(
    database: Database,
    clock: Clock,
    transport: MailTransport,
    claim: _Claim,
    report: DeliveryReport,
) -> None:
    """MAIL-9: hand the rendered message over; a refusal is error EMAIL_TRANSPORT."""
    try:
        sent: str | None = transport.send(claim.payload, claim.key)
        error = None
    except MailTransportError as refused:
        sent, error = None, str(refused) or type(refused).__name__
    faults.hit("delivery-called", claim.key)
    with database.begin() as connection:
        if sent is not None:
            now = clock.now()
            if _settle(connection, claim, OutboxState.SENT, now, message_id=sent):
                report.add(claim.key, claim.kind.value, OutboxState.SENT)
                _write_sends(connection, [claim], now)
            return
        if not _settle(connection, claim, OutboxState.FAILED, clock.now(), error=error):
            return
        report.add(claim.key, claim.kind.value, OutboxState.FAILED, error)
        _run_issue(
            connection,
            claim,
            EMAIL_TRANSPORT,
            f"the mail transport refused the {claim.kind.value}: {error} (MAIL-9)",
            error=True,
        )


def _write_sends(
    connection: Connection, claims: Sequence[_Claim], now: datetime, *, outcome: str | None = None
) -> None:
    """Send Email (6) for the email rows among ``claims`` whose person still exists, with
    the attributes the step stored; ``Outcome`` only when it is not a plain send (MAIL-9)."""
    emails = [c for c in claims if c.kind is OutboxKind.EMAIL and c.person_id is not None]
    if not emails:
        return
    registry = load_field_registry(connection)
    table = person_table(registry)
    wanted = sorted({c.person_id for c in emails if c.person_id is not None})
    existing = set(connection.execute(select(table.c.id).where(table.c.id.in_(wanted))).scalars())
    extra = {OUTCOME: outcome} if outcome is not None else {}
    insert_activities(
        connection,
        [
            _activity(
                claim,
                now,
                StandardActivity.SEND_EMAIL,
                {**dict(claim.payload.get("activity") or {}), **extra},
                primary_value=claim.payload.get("email"),
                primary_id=claim.payload.get("emailId"),
            )
            for claim in emails
            if claim.person_id in existing
        ],
    )


# -- webhooks -----------------------------------------------------------------------


def request_of(claim_key: str, payload: Mapping[str, Any]) -> HttpRequest:
    """The HTTP request of a webhook row: its headers plus Idempotency-Key (HOOK-9)."""
    headers = [(str(k), str(v)) for k, v in payload.get("headers", [])]
    method = str(payload.get("method") or "POST")
    text = str(payload.get("body") or "")
    body = text.encode() if text and method != "GET" else None
    names = header_names(headers)
    if body is not None and "content-type" not in names:
        encoding = str(payload.get("encoding") or "None")
        headers.append(("Content-Type", _CONTENT_TYPES.get(encoding, _CONTENT_TYPES["None"])))
    headers = [(k, v) for k, v in headers if k.lower() != "idempotency-key"]
    headers.append(("Idempotency-Key", claim_key))
    return HttpRequest(method=method, url=str(payload["url"]), headers=tuple(headers), body=body)


def _call(transport: HttpTransport, claim: _Claim, settings: AccountSettings) -> HttpResult:
    request = request_of(claim.key, claim.payload)
    try:
        return transport.send(
            request,
            timeout=float(settings.webhook_timeout_seconds),
            allow_hosts=frozenset(settings.webhook_allow_hosts),
        )
    except Exception as error:  # a transport bug must not leave the row claimed
        return HttpResult(error_type="Connection Error", detail=f"{type(error).__name__}: {error}")


def error_type(result: HttpResult) -> str | None:
    """HOOK-5: the transport's error, the reason phrase of a non-2xx, 1001 for an empty 2xx."""
    if result.error_type is not None or result.status is None:
        return result.error_type or "Connection Error"
    if not 200 <= result.status < 300:
        return result.reason or str(result.status)
    return EMPTY_BODY if not result.body else None


def _record_webhook(
    database: Database,
    clock: Clock,
    claim: _Claim,
    result: HttpResult,
    report: DeliveryReport,
    *,
    state: OutboxState | None = None,
) -> None:
    """One transaction: the outcome, Call Webhook (110), mappings with their 13s, warnings."""
    failure = error_type(result)
    ok = result.status is not None and 200 <= result.status < 300
    final = state or (OutboxState.SENT if ok else OutboxState.FAILED)
    detail = None if ok else " — ".join(p for p in (failure, result.detail) if p)
    now = clock.now()
    with database.begin() as connection:
        if not _settle(connection, claim, final, now, error=detail):
            return  # resolved by someone else meanwhile (a lease that ran out)
        report.add(claim.key, claim.kind.value, final, detail)
        if claim.person_id is None or not _person_exists(connection, claim.person_id):
            return
        payload = claim.payload
        attributes: dict[str, object] = {
            **dict(payload.get("activity") or {}),
            "Status Code": result.status,
            "Response": result.body[:MAX_RESPONSE_CHARS] if result.status is not None else None,
            "Error Type": failure,
        }
        rows = [_activity(claim, now, StandardActivity.CALL_WEBHOOK, attributes)]
        if not ok:
            _run_issue(
                connection,
                claim,
                WEBHOOK_FAILED,
                f"webhook {payload.get('webhook')!r} failed: {detail} (HOOK-8)",
            )
        elif result.body:
            rows += _apply_mappings(connection, claim, result.body, now)
        insert_activities(connection, rows)


def _person_exists(connection: Connection, person_id: int) -> bool:
    registry = load_field_registry(connection)
    table = person_table(registry)
    found = connection.execute(select(table.c.id).where(table.c.id == person_id)).first()
    return found is not None


def _activity(
    claim: _Claim,
    now: datetime,
    type_id: int,
    attributes: Mapping[str, object],
    primary_value: str | None = None,
    primary_id: int | None = None,
) -> dict[str, Any]:
    assert claim.person_id is not None
    webhook = claim.payload.get("webhook")
    return activity_row(
        person_id=claim.person_id,
        activity_type_id=type_id,
        activity_date=now,
        attributes=attributes,
        primary_attribute_value=primary_value if primary_value is not None else webhook,
        primary_attribute_value_id=primary_id
        if primary_id is not None or type_id != StandardActivity.CALL_WEBHOOK
        else claim.payload.get("webhookId"),
        campaign_id=claim.campaign_id,
        run_id=claim.run_id,
    )


def _apply_mappings(
    connection: Connection, claim: _Claim, body: str, now: datetime
) -> list[dict[str, Any]]:
    """HOOK-6: write mapped fields that change; one 13 each (Source=Webhook)."""
    payload = claim.payload
    mappings = [(str(m["responseAttribute"]), str(m["field"])) for m in payload.get("mappings", [])]
    if not mappings:
        return []
    assert claim.person_id is not None
    registry = load_field_registry(connection)
    person = person_table(registry)
    zone = load_settings(connection).zone()
    writes, problems = map_response(
        str(payload.get("responseType") or "None"), body, mappings, registry, zone
    )
    for problem in problems:
        _run_issue(connection, claim, "MAPPING_TYPE", problem)
    shared = {
        key: value
        for key, value in dict(payload.get("activity") or {}).items()
        if key in ("Campaign", "Reason")
    }
    rows = []
    for write in writes:
        column = person.c[write.field.column]
        old = connection.execute(select(column).where(person.c.id == claim.person_id)).scalar()
        if _same(old, write.value):
            continue
        connection.execute(
            update(person)
            .where(person.c.id == claim.person_id)
            .values({write.field.column: write.value, "updated_at": now})
        )
        attributes = {
            "Attribute Name": write.field.display_name,
            "Old Value": format_value(old),
            "New Value": format_value(write.value),
            **shared,
            "Source": WEBHOOK_SOURCE,
        }
        rows.append(
            _activity(
                claim,
                now,
                StandardActivity.CHANGE_DATA_VALUE,
                attributes,
                primary_value=write.field.display_name,
            )
        )
    return rows


def _same(old: object, new: object) -> bool:
    if old is None or new is None:
        return old is None and new is None
    return bool(old == new)


def _run_issue(
    connection: Connection, claim: _Claim, code: str, message: str, *, error: bool = False
) -> None:
    """An error or warning on the row's run, when the run still exists."""
    if claim.run_id is None:
        return
    exists = connection.execute(select(run.c.id).where(run.c.id == claim.run_id)).first()
    if exists is None:
        return
    issue = Issue(
        code=code,
        message=message,
        campaign_id=claim.campaign_id,
        step_id=_step_id(claim),
        person_id=claim.person_id,
    )
    if error:
        add_issues(connection, claim.run_id, errors=[issue])
    else:
        add_issues(connection, claim.run_id, warnings=[issue])


def _step_id(claim: _Claim) -> str | None:
    step = claim.payload.get("stepId")
    if step is not None:
        return str(step)
    return claim.key.rsplit(":", 1)[-1].rsplit("/", 1)[-1] or None


def summary(report: DeliveryReport) -> Mapping[str, int]:
    counted = report.to_json()
    return {k: counted[k] for k in ("sent", "failed", "unknown", "returned")}
