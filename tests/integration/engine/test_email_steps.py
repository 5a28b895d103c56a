"""Send Email and Send Alert on both databases (MAIL-1..11, LEDG-1..4, FLOW-6)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from mailsupport import T0, activities, build, email_id, rows

from kampanj.clock import FixedClock
from kampanj.engine.batch import resume_run, run_batch
from kampanj.engine.delivery import deliver
from kampanj.engine.runs import RunKind, RunStatus, create_run
from kampanj.engine.steps import email as email_step
from kampanj.engine.steps.alert import send_alert
from kampanj.engine.steps.base import StepEnv
from kampanj.model.campaigns import Step, StepType
from kampanj.smartlist.evaluation import compile_context
from kampanj.store import schema
from kampanj.store.activities_repo import activity_row, insert_activities
from kampanj.store.database import Database
from kampanj.store.outbox_repo import (
    OutboxIntent,
    OutboxKind,
    OutboxState,
    insert_intents,
    list_entries,
    list_pending,
    mark_delivered,
)
from kampanj.store.registry import load_field_registry
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.context import CallFrame, SystemFacts, TokenContext
from kampanj.tokens.stored import load_token_tree

SEND_HELLO = "              - Send Email: Hello\n"

# One person per MAIL-4 reason, with later reasons set too, so the order shows (MAIL-4).
BLOCKING_PEOPLE: list[dict[str, Any]] = [
    {"email": None, "unsubscribed": True},
    {"email": "", "email_invalid": True},
    {"email": "a@@x.com"},
    {"email": "@x.com", "blocklisted": True},
    {"email": "a@xcom"},
    {"email": "not an address", "unsubscribed": True},
    {"email_invalid": True, "blocklisted": True, "unsubscribed": True},
    {"blocklisted": True, "unsubscribed": True},
    {"unsubscribed": True, "marketing_suspended": True},
    {"marketing_suspended": True},
    {"first_name": "Ann"},
]
REASONS = [
    "empty email",
    "empty email",
    "invalid email",
    "invalid email",
    "invalid email",
    "invalid email",
    "email invalid",
    "blocklisted",
    "unsubscribed",
    "marketing suspended",
]


def _blocked(database: Database) -> list[tuple[int, str]]:
    return [(a["person_id"], a["attributes"]["Reason"]) for a in activities(database, 902)]


def test_block_reasons_in_order_and_a_sent_email(database: Database, tmp_path: Path) -> None:
    """MAIL-3/4: the first applicable reason; MAIL-5: Email Blocked (902) with Reason,
    counted as blocked, not an error; MAIL-2: the others get an outbox intent with the
    rendered parts and Send Email (6)."""
    build(database, tmp_path, SEND_HELLO, BLOCKING_PEOPLE)
    result = run_batch(database, FixedClock(T0), "C").result
    step = result.steps["s1"]
    assert (step.executed, step.blocked, step.errors, step.skipped) == (1, 10, 0, 0)
    assert result.to_json()["steps"]["s1"]["blocked"] == 10
    assert result.errors == ()
    assert _blocked(database) == list(enumerate(REASONS, start=1))
    hello = email_id(database, "Hello")
    blocked = activities(database, 902)[0]
    assert (blocked["primary_attribute_value"], blocked["primary_attribute_value_id"]) == (
        "Hello",
        hello,
    )
    assert blocked["attributes"]["Campaign Run ID"] == str(result.run_id)
    assert blocked["attributes"]["Step ID"] == "s1"
    assert activities(database, 6) == []  # MAIL-9: Send Email is written at delivery
    [entry] = list_pending_entries(database)
    assert entry.ledger_key == f"{result.run_id}:11:s1"
    assert (entry.kind, entry.state, entry.person_id) == (OutboxKind.EMAIL, OutboxState.INTENT, 11)
    assert entry.payload["to"] == ["p11@x.com"]
    assert entry.payload["subject"] == "Hi Ann & co"
    assert entry.payload["fromEmail"] == "hello@acme.example"
    assert entry.payload["replyTo"] == "reply@acme.example"
    assert entry.payload["text"] == "Hello Ann"
    deliver(database, FixedClock(T0))
    [sent] = activities(database, 6)
    assert (sent["person_id"], sent["primary_attribute_value"]) == (11, "Hello")
    assert (sent["primary_attribute_value_id"], sent["run_id"]) == (hello, result.run_id)
    assert sent["attributes"] == {
        "Campaign": "C",
        "Reason": "C: Send Email",
        "Source": "Marketo Flow Action",
        "Campaign Run ID": str(result.run_id),
        "Step ID": "s1",
    }


def list_pending_entries(database: Database) -> list[Any]:
    with database.read() as connection:
        return list_pending(connection)


def test_operational_email_is_blocked_only_by_address_conditions(
    database: Database, tmp_path: Path
) -> None:
    """MAIL-3: an operational email ignores unsubscribed, marketing suspended and limits."""
    build(
        database,
        tmp_path,
        "              - Send Email: Ops\n",
        BLOCKING_PEOPLE,
        settings="  commLimitPerDay: 0",
        schedule=", communicationLimit: true",
    )
    result = run_batch(database, FixedClock(T0), "C").result
    deliver(database, FixedClock(T0))
    assert _blocked(database) == list(enumerate(REASONS[:8], start=1))
    assert [a["person_id"] for a in activities(database, 6)] == [9, 10, 11]
    assert result.steps["s1"].blocked == 8


def test_html_parts_escape_html_encoded_fields(database: Database, tmp_path: Path) -> None:
    """MAIL-8: field values are HTML-escaped in the HTML part only."""
    build(database, tmp_path, SEND_HELLO, [{"first_name": "<b>Al</b>"}])
    run_batch(database, FixedClock(T0), "C")
    [entry] = list_pending_entries(database)
    assert entry.payload["html"] == "<p>Hello &lt;b&gt;Al&lt;/b&gt;</p>"
    assert entry.payload["text"] == "Hello <b>Al</b>"
    assert entry.payload["subject"] == "Hi <b>Al</b> & co"


def _earlier_sends(database: Database, person_id: int, *ago: tuple[timedelta, str]) -> None:
    with database.begin() as connection:
        insert_activities(
            connection,
            [
                activity_row(
                    person_id=person_id,
                    activity_type_id=6,
                    activity_date=T0 - delta,
                    attributes={},
                    primary_attribute_value=name,
                    primary_attribute_value_id=email_id(database, name),
                )
                for delta, name in ago
            ],
        )


def test_communication_limit_per_day(database: Database, tmp_path: Path) -> None:
    """MAIL-6: today's non-operational sends (account time zone) reach the per-day limit;
    operational and blocked sends never count; MAIL-7: the campaign's flag applies."""
    flow = SEND_HELLO + "              - Send Email: Ops\n" + SEND_HELLO + SEND_HELLO
    build(
        database,
        tmp_path,
        flow,
        [{}, {}],
        settings="  commLimitPerDay: 2",
        schedule=", communicationLimit: true",
    )
    # 40 minutes ago is yesterday in Auckland (local time now is 00:30): not today.
    _earlier_sends(database, 2, (timedelta(minutes=40), "Hello"), (timedelta(minutes=20), "Ops"))
    result = run_batch(database, FixedClock(T0), "C").result
    assert [(s.executed, s.blocked) for s in result.steps.values()] == [
        (2, 0),
        (2, 0),
        (2, 0),
        (0, 2),
    ]
    assert set(_blocked(database)) == {(1, "communication limit"), (2, "communication limit")}


def test_communication_limit_needs_the_campaign_flag(database: Database, tmp_path: Path) -> None:
    """MAIL-7: without isCommunicationLimitEnabled the limits do not apply."""
    build(database, tmp_path, SEND_HELLO * 3, [{}], settings="  commLimitPerDay: 1")
    result = run_batch(database, FixedClock(T0), "C").result
    assert [s.blocked for s in result.steps.values()] == [0, 0, 0]
    deliver(database, FixedClock(T0))
    assert len(activities(database, 6)) == 3


def test_communication_limit_per_7_days(database: Database, tmp_path: Path) -> None:
    """MAIL-6: the rolling 168 hours ending now; older sends and operational ones do not count."""
    build(
        database,
        tmp_path,
        SEND_HELLO * 2,
        [{}, {}],
        settings="  commLimitPer7Days: 2",
        schedule=", communicationLimit: true",
    )
    _earlier_sends(database, 1, (timedelta(days=6, hours=23), "Hello"))
    _earlier_sends(database, 2, (timedelta(days=7, minutes=1), "Hello"), (timedelta(days=1), "Ops"))
    result = run_batch(database, FixedClock(T0), "C").result
    assert [(s.executed, s.blocked) for s in result.steps.values()] == [(2, 0), (1, 1)]
    assert _blocked(database) == [(1, "communication limit")]


def test_email_unapproved_at_run_time(database: Database, tmp_path: Path) -> None:
    """MAIL-1, FLOW-6: an email unapproved after the run started is error
    EMAIL_NOT_APPROVED per person; nothing is written; the person continues."""
    flow = """\
              - Interesting Moment: {type: Web, description: before}
              - Send Email: Hello
              - Interesting Moment: {type: Web, description: after}
"""
    build(database, tmp_path, flow, [{}, {}])

    def unapprove(call_path: str, chunk: int) -> None:
        if call_path == "s1":
            with database.begin() as connection:
                definition = connection.execute(
                    sa.select(schema.email.c.definition).where(schema.email.c.name == "Hello")
                ).scalar_one()
                connection.execute(
                    sa.update(schema.email)
                    .where(schema.email.c.name == "Hello")
                    .values(definition={**definition, "approved": False})
                )

    result = run_batch(database, FixedClock(T0), "C", on_chunk=unapprove).result
    assert [(e["code"], e["personId"]) for e in result.errors] == [
        ("EMAIL_NOT_APPROVED", 1),
        ("EMAIL_NOT_APPROVED", 2),
    ]
    assert result.steps["s2"].errors == 2 and result.steps["s2"].executed == 0
    assert activities(database, 6) == [] and list_pending_entries(database) == []
    assert len(activities(database, 46)) == 4


class _Crash(Exception):
    pass


def test_outbox_rows_are_written_once_across_crashes(
    database: Database, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """LEDG-1..4: one outbox row per ledger key runId:entryId:callPath; a crash inside the
    step's transaction leaves no row, a crash after it never repeats one, and resuming the
    run writes each missing row exactly once."""
    build(database, tmp_path, SEND_HELLO + SEND_HELLO, [{}, {}, {}, {}, {}])
    real = email_step.insert_intents
    calls = {"n": 0}

    def failing_send(*args: Any, **kwargs: Any) -> None:
        real(*args, **kwargs)
        calls["n"] += 1
        if calls["n"] == 2:  # the second chunk of s1, after its outbox rows
            raise _Crash

    monkeypatch.setattr(email_step, "insert_intents", failing_send)
    with pytest.raises(_Crash):
        run_batch(database, FixedClock(T0), "C", chunk_size=2)
    with database.read() as connection:
        run_id = connection.execute(sa.select(sa.func.max(schema.run.c.id))).scalar_one()
        assert [e.person_id for e in list_entries(connection)] == [1, 2]
    monkeypatch.setattr(email_step, "insert_intents", real)

    def crash_after(call_path: str, chunk: int) -> None:
        if (call_path, chunk) == ("s2", 0):
            raise _Crash

    with pytest.raises(_Crash):
        resume_run(database, FixedClock(T0), run_id, on_chunk=crash_after)
    result = resume_run(database, FixedClock(T0), run_id)
    assert result.status is RunStatus.COMPLETED
    with database.read() as connection:
        keys = [e.ledger_key for e in list_entries(connection)]
    expected = [f"{run_id}:{p}:{s}" for s in ("s1", "s2") for p in range(1, 6)]
    assert sorted(keys) == sorted(expected)
    deliver(database, FixedClock(T0))
    assert len(activities(database, 6)) == 10
    assert result.steps["s1"].executed == 5 and result.steps["s2"].executed == 5


def test_outbox_repository(database: Database, tmp_path: Path) -> None:
    """LEDG-3: a ledger key has one row; pending rows are marked delivered once."""
    intent = OutboxIntent(ledger_key="7:1:s1", kind=OutboxKind.EMAIL, payload={"to": ["a@x"]})
    with database.begin() as connection:
        insert_intents(connection, [intent], T0)
    # SQLAlchemy wraps SQLite's error; PostgreSQL's COPY raises the driver's own.
    duplicate = (sa.exc.IntegrityError, psycopg.errors.UniqueViolation)
    with pytest.raises(duplicate), database.begin() as connection:
        insert_intents(connection, [intent], T0)
    with database.begin() as connection:
        [pending] = list_pending(connection)
        assert mark_delivered(connection, pending.id, message_id="m-1", now=T0)
        assert not mark_delivered(connection, pending.id, message_id="m-2", now=T0)
    with database.read() as connection:
        assert list_pending(connection) == []
        [sent] = list_entries(connection, state=OutboxState.SENT)
    assert (sent.message_id, sent.delivered_at, sent.attempts) == ("m-1", T0, 1)
    assert sent.payload == {"to": ["a@x"]}


ALERT_FLOW = """\
              - Send Alert:
                  email: Alert
                  sendTo: Lead Owner
                  toOtherEmails: "sales@acme.example; {{lead.Email Address}}, boss@acme.example"
              - Send Alert: {email: Alert, sendTo: None, toOtherEmails: ""}
"""


def test_send_alert_recipients_and_info(database: Database, tmp_path: Path) -> None:
    """MAIL-11: lead owner plus the listed addresses; token addresses dropped in a batch run
    (ALERT_TOKEN_BATCH); no blocking; {{sp_send_alert_info}}; Send Alert (38); no recipient →
    ALERT_NO_RECIPIENT and nothing sent."""
    people = [
        {"lead_owner": "owner@acme.example", "unsubscribed": True, "first_name": "Ann"},
        {"email": None},
    ]
    build(database, tmp_path, ALERT_FLOW, people)
    result = run_batch(database, FixedClock(T0), "C").result
    assert result.steps["s1"].executed == 2 and result.steps["s1"].blocked == 0
    codes = [(w["code"], w["stepId"], w["personId"]) for w in result.warnings]
    assert codes == [
        ("ALERT_TOKEN_BATCH", "s1", None),
        ("ALERT_NO_RECIPIENT", "s2", 1),
        ("ALERT_NO_RECIPIENT", "s2", 2),
    ]
    with database.read() as connection:
        entries = list_entries(connection)
    assert [(e.person_id, e.kind, e.payload["to"]) for e in entries] == [
        (1, OutboxKind.ALERT, ["owner@acme.example", "sales@acme.example", "boss@acme.example"]),
        (2, OutboxKind.ALERT, ["sales@acme.example", "boss@acme.example"]),
    ]
    assert "Person ID: 1" in entries[0].payload["text"]
    assert "First Name: Ann" in entries[0].payload["html"]
    assert entries[0].payload["subject"] == "Alert about p1@x.com"
    alerts = activities(database, 38)
    assert [(a["person_id"], a["attributes"].get("Send To Owner")) for a in alerts] == [
        (1, "owner@acme.example"),
        (2, None),
    ]
    assert alerts[0]["attributes"]["Send To List"] == "sales@acme.example, boss@acme.example"
    assert rows(database, schema.activity, schema.activity.c.id)[0]["activity_type_id"] == 38


def test_alert_tokens_in_addresses_resolve_in_trigger_runs(
    database: Database, tmp_path: Path
) -> None:
    """MAIL-11: in a trigger (or requested) run, token addresses of toOtherEmails resolve
    per person, and one rendered token may hold several addresses."""
    build(database, tmp_path, ALERT_FLOW, [{"title": "a@acme.example; b@acme.example"}, {}])
    clock = FixedClock(T0)
    with database.begin() as connection:
        definitions = read_definitions(connection)
        campaign = next(c for c in definitions.campaigns if c.name == "C")
        assert campaign.id is not None
        run_id = create_run(
            connection, campaign_id=campaign.id, kind=RunKind.TRIGGER, now=T0, overrides={}
        )
        ctx = compile_context(connection, clock, workspace="Default", definitions=definitions)
        tree, _ = load_token_tree(connection, definitions)
        step = Step(
            id="s1",
            type=StepType.SEND_ALERT,
            params={
                "email": "Alert",
                "toOtherEmails": "{{lead.Job Title}}, {{lead.Email Address}}",
            },
        )
        env = StepEnv(
            run_id=run_id,
            campaign=campaign,
            step=step,
            now=T0,
            zone=ctx.moment.zone,
            fields=load_field_registry(connection),
            person=ctx.person,
            tokens=TokenContext(
                tree=tree,
                call_stack=(CallFrame(campaign=campaign),),
                system=SystemFacts(now=T0, zone=ctx.moment.zone),
            ),
            references=ctx.references,
        )
        cohort = sa.select(ctx.person.c.id.label("person_id")).where(ctx.person.c.id.in_([1, 2]))
        outcome = send_alert(connection, env, step.params, cohort)
    assert outcome.executed == 2 and outcome.warnings == []
    with database.read() as connection:
        sent = {e.person_id: e.payload["to"] for e in list_entries(connection)}
        keys = [e.ledger_key for e in list_entries(connection)]
    assert sent == {1: ["a@acme.example", "b@acme.example", "p1@x.com"], 2: ["p2@x.com"]}
    assert keys == [f"{run_id}:1:s1", f"{run_id}:2:s1"]
