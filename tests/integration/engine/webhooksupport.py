"""A webhook world, a counting HTTP receiver on 127.0.0.1, and the Call Webhook step run
the way the cohort engine runs it (a StepEnv, one transaction)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import cli

from kampanj.clock import FixedClock
from kampanj.engine.runs import RunKind, create_run, load_result
from kampanj.engine.steps.base import StepEnv, StepOutcome
from kampanj.engine.steps.webhook import call_webhook
from kampanj.smartlist.evaluation import compile_context
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table
from kampanj.store.repositories.reading import read_definitions
from kampanj.tokens.context import CallFrame, SystemFacts, TokenContext
from kampanj.tokens.overrides import RunOverrides
from kampanj.tokens.stored import load_token_tree
from testsupport import write

T0 = datetime(2026, 3, 2, 11, 30, tzinfo=UTC)

ACCOUNT = """\
settings:
  webhookTimeoutSeconds: {timeout}
  webhookAllowHosts: [{allow}]
fields:
  - {{name: orderDate, displayName: Order Date, type: date}}
  - {{name: orderCount, displayName: Order Count, type: integer}}
  - {{name: orderNote, displayName: Order Note, type: string}}
webhooks:
{webhooks}
"""

WORLD = """\
workspace: Default
folders:
  - name: F
    tokens:
      Greeting: {type: text, value: "hi & bye"}
    campaigns:
      - name: T
        smartList:
          triggers:
            - Fills Out Form: {}
        flow:
          - Call Webhook: {webhook: Hook}
"""


@dataclass(frozen=True, kw_only=True, slots=True)
class Received:
    method: str
    path: str
    headers: Mapping[str, str]
    body: str


@dataclass(kw_only=True)
class Receiver:
    """Counts calls; answers per path from ``answers`` (status, content type, body)."""

    port: int = 0
    calls: list[Received] = field(default_factory=list)
    answers: dict[str, tuple[int, str, str]] = field(default_factory=dict)
    release: threading.Event = field(default_factory=threading.Event)
    """``/block`` paths wait for this before answering (timeout tests)."""

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def keys(self) -> list[str]:
        return [call.headers["Idempotency-Key"] for call in self.calls]


@contextmanager
def receiver() -> Iterator[Receiver]:
    state = Receiver()

    class Handler(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            path = self.path.split("?", 1)[0]
            state.calls.append(
                Received(method=self.command, path=self.path, headers=dict(self.headers), body=body)
            )
            if path.startswith("/block"):
                state.release.wait()
            status, kind, text = state.answers.get(path, (200, "application/json", ""))
            data = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _any

        def log_message(self, format: str, *args: Any) -> None:
            return None

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        state.release.set()
        server.shutdown()
        server.server_close()
        thread.join()


def hook_yaml(
    url: str,
    *,
    method: str = "POST",
    payload: str = "",
    encoding: str = "None",
    response_type: str = "None",
    headers: Mapping[str, str] | None = None,
    mappings: Mapping[str, str] | None = None,
) -> str:
    document = {
        "name": "Hook",
        "url": url,
        "method": method,
        "payload": payload,
        "encoding": encoding,
        "responseType": response_type,
        "headers": dict(headers or {}),
        "responseMappings": dict(mappings or {}),
    }
    return "  - " + json.dumps(document)


def build(
    database: Database,
    directory: Path,
    webhook: str,
    people: list[dict[str, Any]],
    *,
    allow: str = "127.0.0.1",
    timeout: int = 30,
    world: str = WORLD,
) -> None:
    account = ACCOUNT.format(webhooks=webhook, allow=allow, timeout=timeout)
    cli("apply", str(write(directory, "account.yaml", account)), "--db", database.url)
    cli("apply", str(write(directory, "world.yaml", world)), "--db", database.url)
    with database.begin() as connection:
        fields = load_field_registry(connection)
        person = person_table(fields)
        for number, values in enumerate(people, start=1):
            row = {"id": number, "lead_score": 0, "created_at": T0, "updated_at": T0}
            row.setdefault("email", f"p{number}@x.com")
            for name, value in values.items():  # a field name or a column name
                found = fields.get(name)
                row[found.column if found is not None else name] = value
            connection.execute(sa.insert(person).values(row))


def run_step(
    database: Database, person_ids: list[int], clock: FixedClock | None = None
) -> tuple[int, StepOutcome]:
    """A trigger run of campaign T whose Call Webhook step runs for ``person_ids`` in one
    transaction, built as the cohort engine builds it (engine/cohort.apply_step)."""
    at = clock or FixedClock(T0)
    with database.read() as connection:
        definitions = read_definitions(connection)
    campaign = next(c for c in definitions.campaigns if c.name == "T")
    assert campaign.id is not None
    with database.begin() as connection:
        run_id = create_run(
            connection, campaign_id=campaign.id, kind=RunKind.TRIGGER, now=at.now(), overrides={}
        )
        ctx = compile_context(connection, at, workspace=campaign.workspace, definitions=definitions)
        tree, _ = load_token_tree(connection, definitions)
        fields = load_field_registry(connection)
        person = person_table(fields)
        env = StepEnv(
            run_id=run_id,
            campaign=campaign,
            step=campaign.flow[0],
            now=at.now(),
            zone=ctx.moment.zone,
            fields=fields,
            person=person,
            tokens=TokenContext(
                tree=tree,
                call_stack=(CallFrame(campaign=campaign),),
                system=SystemFacts(now=at.now(), zone=ctx.moment.zone),
                overrides=RunOverrides(),
            ),
            references=ctx.references,
        )
        cohort = sa.select(person.c.id).where(person.c.id.in_(person_ids))
        outcome = call_webhook(connection, env, campaign.flow[0].params, cohort)
    return run_id, outcome


def activities(database: Database, *type_ids: int) -> list[Any]:
    with database.read() as connection:
        return list(
            connection.execute(
                sa.select(schema.activity)
                .where(schema.activity.c.activity_type_id.in_(type_ids))
                .order_by(schema.activity.c.id)
            ).mappings()
        )


def outbox_rows(database: Database) -> list[Any]:
    with database.read() as connection:
        return list(
            connection.execute(sa.select(schema.outbox).order_by(schema.outbox.c.id)).mappings()
        )


def run_row(database: Database, run_id: int) -> Any:
    """The run's row, errors and warnings as its GEN-6 result lists them (``run_issue``)."""
    with database.read() as connection:
        statement = sa.select(schema.run).where(schema.run.c.id == run_id)
        row = dict(connection.execute(statement).mappings().one())
        result = load_result(connection, run_id)
    return {**row, "errors": list(result.errors), "warnings": list(result.warnings)}


def person(database: Database, person_id: int) -> dict[str, Any]:
    """The person's stored values keyed by field name (``orderDate``, ``firstName``)."""
    with database.read() as connection:
        fields = load_field_registry(connection)
        table = person_table(fields)
        statement = sa.select(table).where(table.c.id == person_id)
        row = connection.execute(statement).mappings().one()
        return {f.name: row[f.column] for f in fields}
