"""Call Webhook (HOOK-1..9): render each person's request and write it as an outbox intent.

No HTTP happens here: the step's transaction writes one ``webhook`` outbox row per person
(ledger key LEDG-1) holding the rendered request, and `kampanj.engine.delivery` makes the
call later, at most once per key, and writes the Call Webhook (110) activity and the
response mappings (LEDG-3, HOOK-9). A committed (step, chunk) is never executed again, a
rolled-back one wrote nothing.

Token encoding (HOOK-3): the payload uses the webhook's ``requestTokenEncoding``; in the
URL, token values are percent-encoded unless the encoding is ``None`` (a JSON-quoted value
cannot sit in a URL); header values take token values as they are. A URL that renders to
something that is not an absolute http(s) URL is a per-person error naming it (FLOW-6).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import Connection, Select, select

from kampanj.engine.steps.base import StepEnv, StepOutcome, every_person_fails
from kampanj.engine.steps.email import LedgerKeys, cohort_rows
from kampanj.model.assets import TokenEncoding, Webhook
from kampanj.model.campaigns import ParamValue
from kampanj.model.names import fold
from kampanj.store import codec
from kampanj.store.outbox_repo import OutboxIntent, OutboxKind, insert_intents
from kampanj.store.schema import webhook as webhook_table
from kampanj.tokens.formats import form_encoding, no_encoding, webhook_encoder
from kampanj.tokens.render import Template, compile_template

UNKNOWN_WEBHOOK = "REF_UNKNOWN"
WEBHOOK_URL_INVALID = "WEBHOOK_URL_INVALID"
WEBHOOK_HEADER_INVALID = "WEBHOOK_HEADER_INVALID"
_SCHEMES = frozenset({"http", "https"})


@dataclass(frozen=True, kw_only=True, slots=True)
class StoredWebhook:
    """A webhook asset with its storage id."""

    id: int
    webhook: Webhook


def find_webhook(connection: Connection, name: str) -> StoredWebhook | None:
    """The account's webhook called ``name`` (names fold, GEN-7)."""
    rows = connection.execute(
        select(webhook_table.c.id, webhook_table.c.name, webhook_table.c.definition)
    )
    for row in rows:
        if fold(row.name) == fold(name):
            fields = codec.webhook_fields_from_json(row.definition)
            return StoredWebhook(id=row.id, webhook=Webhook(name=row.name, **fields))
    return None


def url_problem(url: str) -> str | None:
    """Why a rendered URL cannot be called, or None."""
    if not url or any(c.isspace() or ord(c) < 0x20 or ord(c) == 0x7F for c in url):
        return "it is empty or holds spaces or control characters"
    try:
        parts = urlsplit(url)
        if parts.port == 0:  # reading the port also checks it (ValueError)
            return "port 0 cannot be called"
    except ValueError as error:
        return str(error)
    if parts.scheme.lower() not in _SCHEMES:
        return "it is not an http:// or https:// URL"
    if not parts.hostname:
        return "it has no host"
    return None


@dataclass(frozen=True, kw_only=True, slots=True)
class _Request:
    """A webhook's request parts compiled for one step's context."""

    url: Template
    body: Template
    headers: tuple[tuple[str, Template], ...]

    @classmethod
    def compile(cls, hook: Webhook, env: StepEnv) -> _Request:
        encoding = hook.request_token_encoding
        url_encoder = no_encoding if encoding is TokenEncoding.NONE else form_encoding

        def part(text: str, encoder: Any) -> Template:
            return compile_template(text, env.tokens, env.fields, encoder=encoder)

        return cls(
            url=part(hook.url, url_encoder),
            body=part(hook.payload_template, webhook_encoder(encoding)),
            headers=tuple((k, part(v, no_encoding)) for k, v in hook.custom_headers),
        )

    @property
    def person_columns(self) -> frozenset[str]:
        templates = [self.url, self.body, *(t for _k, t in self.headers)]
        return frozenset().union(*(t.person_columns for t in templates))


def call_webhook(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    """HOOK-3/HOOK-9: one rendered request per person, as an outbox intent."""
    name = str(params.get("webhook") or "")
    found = find_webhook(connection, name)
    if found is None:
        return every_person_fails(
            connection, env, cohort, UNKNOWN_WEBHOOK, f"there is no webhook {name!r}"
        )
    hook = found.webhook
    request = _Request.compile(hook, env)
    rows = cohort_rows(connection, env, cohort, request.person_columns)
    keys = LedgerKeys(env)
    keys.add(rows)
    urls = request.url.render_many(rows)
    bodies = request.body.render_many(rows)
    headers = [(key, template.render_many(rows)) for key, template in request.headers]
    outcome = StepOutcome()
    intents: list[OutboxIntent] = []
    shared = _shared_payload(found, env)
    for index, row in enumerate(rows):
        person_id = row["id"]
        url = urls[index]
        problem = url_problem(url)
        if problem is not None:
            message = f"webhook {hook.name!r} rendered the URL {url!r}, which is invalid: {problem}"
            outcome.errors.append(env.issue(WEBHOOK_URL_INVALID, message, person_id))
            continue
        values = [(key, texts[index]) for key, texts in headers]
        bad = [key for key, value in values if "\r" in value or "\n" in value]
        if bad:
            message = f"webhook {hook.name!r}: header {bad[0]!r} rendered with a line break"
            outcome.errors.append(env.issue(WEBHOOK_HEADER_INVALID, message, person_id))
            continue
        outcome.executed += 1
        intents.append(
            OutboxIntent(
                ledger_key=keys.keys[person_id],
                kind=OutboxKind.WEBHOOK,
                payload={
                    **shared,
                    "url": url,
                    "headers": [[key, value] for key, value in values],
                    "body": bodies[index],
                },
                run_id=env.run_id,
                person_id=person_id,
                campaign_id=env.campaign_id,
                call_path=env.ledger_path,
            )
        )
    insert_intents(connection, intents, env.now)
    return outcome


def _shared_payload(found: StoredWebhook, env: StepEnv) -> dict[str, Any]:
    """What every person's request of this step shares, and what delivery needs to write the
    Call Webhook activity and the mappings without reading the definitions again."""
    hook = found.webhook
    return {
        "webhookId": found.id,
        "webhook": hook.name,
        "method": hook.request_type.value,
        "encoding": hook.request_token_encoding.value,
        "responseType": hook.response_type.value,
        "mappings": [
            {"responseAttribute": m.response_attribute, "field": m.field}
            for m in hook.response_mappings
        ],
        "stepId": env.step.id,
        "activity": env.flow_attributes(),
    }
