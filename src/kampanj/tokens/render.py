"""Rendering token-bearing text for a step: context tokens once, person tokens in bulk.

`compile_template` scans the text once (TOK-1..3) and resolves every context-level token
(my, campaign, program, system date/time, and trigger / member tokens that cannot exist in
this context) against the step's `TokenContext`. What is left are per-person slots
(``lead``, ``company``, and trigger, member and link tokens when the context has them).
`Template.render_many` fills them column by column from person rows, so a cohort costs
one pass per slot, never a re-scan per person. Values are inserted once and never scanned
again (TOK-14); an encoder hook escapes or encodes inserted values (MAIL-8, HOOK-3).
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import reduce
from itertools import repeat
from typing import Any

from sqlalchemy import ColumnElement, String, Table, cast, func, literal

from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.tokens import MyTokenType
from kampanj.tokens.context import TokenContext
from kampanj.tokens.formats import (
    Encoder,
    ValueKind,
    field_formatter,
    field_text,
    kind_of,
    no_encoding,
    system_date,
    system_datetime,
    system_time,
)
from kampanj.tokens.provenance import Provenance, TokenSource
from kampanj.tokens.syntax import MalformedToken, TokenFamily, TokenRef, scan
from kampanj.tokens.tree import Location, token_key

PersonRow = Mapping[str, Any]
"""One person's values keyed by ``person`` column (``id`` included)."""

_LINKS = {  # TOK-7: link tokens → path under publicBaseUrl
    "unsubscribelink": "unsubscribe",
    "viewaswebpagelink": "view",
    "forwardtofriendlink": "forward",
}
_CLOCK_TOKENS = {"date": system_date, "time": system_time, "datetime": system_datetime}
_CONTEXT_NAMES = ("name", "id", "description")  # TOK-6
_NUMERIC_MY_TOKENS = (MyTokenType.NUMBER, MyTokenType.SCORE)
_ALERT_FIELDS = (  # MAIL-11: what {{sp_send_alert_info}} shows
    ("Person ID", "id"),
    ("First Name", "firstName"),
    ("Last Name", "lastName"),
    ("Email", "email"),
    ("Company", "company"),
    ("Lead Score", "leadScore"),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Rendered:
    """One rendered text and the provenance of each token in it, in order."""

    text: str
    """The text with every token replaced."""
    provenance: tuple[Provenance, ...]
    """One record per token reference (PROV-1)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class _Insert:
    """How a slot's raw value becomes inserted text: TOK-3/4 default, then the encoder."""

    default: str | None
    kind: ValueKind
    html_field: bool
    encoder: Encoder

    def one(self, raw: str | None) -> str:
        if raw:
            return self.encoder(raw, self.kind, self.html_field)
        return self.encoder(self.default or "", ValueKind.TEXT, False)

    def many(self, raws: Iterable[str | None]) -> list[str]:
        fallback = self.default or ""
        if self.encoder is no_encoding:
            return [raw if raw else fallback for raw in raws]
        encoded_fallback = self.encoder(fallback, ValueKind.TEXT, False)
        encode, kind, html_field = self.encoder, self.kind, self.html_field
        return [encode(raw, kind, html_field) if raw else encoded_fallback for raw in raws]

    def source(self, raw: str | None, found: TokenSource) -> TokenSource:
        if raw:
            return found
        return TokenSource.EMPTY if self.default is None else TokenSource.DEFAULT

    def shown(self, raw: str | None) -> str:
        return raw if raw else (self.default or "")


@dataclass(frozen=True, kw_only=True, slots=True)
class _Slot:
    """A per-person token: ``raw`` reads one row, ``raws`` a whole batch."""

    provenance: Provenance
    """Step-level record (value None: it differs per person)."""
    insert: _Insert
    raw: Callable[[PersonRow], str | None]
    columns: frozenset[str]
    """Person columns the slot reads."""
    batch: Callable[[Sequence[PersonRow]], Iterable[str | None]] | None = None
    sql: Callable[[Table], ColumnElement[str]] | None = None
    """The raw value as SQL text (NULL when empty) over ``person``, when SQL can compute it."""

    def raws(self, rows: Sequence[PersonRow]) -> Iterable[str | None]:
        return self.batch(rows) if self.batch is not None else map(self.raw, rows)

    def explain(self, row: PersonRow) -> tuple[str, Provenance]:
        raw = self.raw(row)
        record = Provenance(
            token=self.provenance.token,
            value=self.insert.shown(raw),
            source=self.insert.source(raw, self.provenance.source),
            location=self.provenance.location,
            context_campaign_id=self.provenance.context_campaign_id,
            context_chain=self.provenance.context_chain,
        )
        return self.insert.one(raw), record


Segment = str | _Slot


@dataclass(frozen=True, kw_only=True, slots=True)
class Template:
    """A text compiled for one step's context; render it for any number of persons."""

    text: str
    """The source text."""
    segments: tuple[Segment, ...]
    """Constant text (literals and context tokens, already encoded) and per-person slots."""
    provenance: tuple[Provenance, ...]
    """One record per token reference; per-person ones carry value None."""

    @property
    def slots(self) -> tuple[_Slot, ...]:
        return tuple(s for s in self.segments if isinstance(s, _Slot))

    @property
    def is_constant(self) -> bool:
        """True when the text is the same for every person (no person tokens)."""
        return not self.slots

    @property
    def person_columns(self) -> frozenset[str]:
        """The ``person`` columns a row must carry (``id`` for trigger, member, link slots)."""
        return frozenset().union(*(slot.columns for slot in self.slots))

    def constant(self) -> str:
        """The rendered text when `is_constant`."""
        if not self.is_constant:
            raise ValueError("this template has person tokens; render it with rows")
        return "".join(s for s in self.segments if isinstance(s, str))

    def render_many(self, rows: Sequence[PersonRow]) -> list[str]:
        """The text for each row, in order; each slot is filled for all rows at once."""
        if self.is_constant:
            return [self.constant()] * len(rows)
        columns: list[Iterable[str]] = [
            repeat(segment) if isinstance(segment, str) else segment.insert.many(segment.raws(rows))
            for segment in self.segments
        ]
        return list(map("".join, zip(*columns, strict=False)))

    def sql_text(self, person: Table) -> ColumnElement[str] | None:
        """The text for each person as one SQL expression over ``person`` (set-based steps).

        None when a slot has no SQL form: a field whose token text SQL does not format the
        same way (dates, numbers with decimals, booleans), trigger, member and link tokens,
        or an encoder other than `no_encoding`.
        """
        parts: list[ColumnElement[str]] = []
        for segment in self.segments:
            if isinstance(segment, str):
                parts.append(literal(segment, String))
                continue
            if segment.sql is None or segment.insert.encoder is not no_encoding:
                return None
            # TOK-4: an empty value takes the default (or nothing).
            fallback = literal(segment.insert.default or "", String)
            parts.append(func.coalesce(func.nullif(segment.sql(person), ""), fallback))
        return reduce(operator.add, parts) if parts else literal("", String)

    def render_one(self, row: PersonRow | None = None) -> Rendered:
        """The text for one person with per-token provenance (traces, dry-run)."""
        parts: list[str] = []
        per_person: dict[int, Provenance] = {}
        for segment in self.segments:
            if isinstance(segment, str):
                parts.append(segment)
                continue
            if row is None:
                raise ValueError("this template has person tokens; pass the person's row")
            text, record = segment.explain(row)
            per_person[id(segment.provenance)] = record
            parts.append(text)
        records = tuple(per_person.get(id(record), record) for record in self.provenance)
        return Rendered(text="".join(parts), provenance=records)


def families_used(text: str) -> frozenset[TokenFamily]:
    """Known families referenced in ``text``: lets the engine load only needed sources."""
    return frozenset(ref.family for ref in _refs(text) if ref.family is not None)


def _refs(text: str) -> Iterable[TokenRef]:
    return (piece for piece in scan(text) if isinstance(piece, TokenRef))


def compile_template(
    text: str,
    context: TokenContext,
    fields: FieldRegistry,
    *,
    encoder: Encoder = no_encoding,
    alert_info: bool = False,
) -> Template:
    """Scan ``text`` once and resolve its context tokens for ``context`` (TOK-1..9, TOK-21)."""
    builder = _Builder(context=context, fields=fields, encoder=encoder, alert_info=alert_info)
    for piece in scan(text):
        if isinstance(piece, TokenRef):
            builder.token(piece, text[piece.start : piece.end])
        elif isinstance(piece, MalformedToken):
            builder.constant(piece.text)  # TOK-3: malformed braces stay literal
        else:
            builder.constant(piece.text)
    return Template(
        text=text, segments=tuple(builder.segments), provenance=tuple(builder.provenance)
    )


def render_text(
    text: str,
    context: TokenContext,
    fields: FieldRegistry,
    row: PersonRow | None = None,
    *,
    encoder: Encoder = no_encoding,
    alert_info: bool = False,
) -> Rendered:
    """Compile and render ``text`` for one person (or none, for person-free text)."""
    template = compile_template(text, context, fields, encoder=encoder, alert_info=alert_info)
    return template.render_one(row)


class _Builder:
    def __init__(
        self, *, context: TokenContext, fields: FieldRegistry, encoder: Encoder, alert_info: bool
    ) -> None:
        self.context = context
        self.fields = fields
        self.encoder = encoder
        self.alert_info = alert_info
        self.segments: list[Segment] = []
        self.provenance: list[Provenance] = []

    # -- output -----------------------------------------------------------------------

    def constant(self, text: str) -> None:
        if self.segments and isinstance(self.segments[-1], str):
            self.segments[-1] += text
        elif text:
            self.segments.append(text)

    def _record(
        self, ref: TokenRef, value: str | None, source: TokenSource, **extra: Any
    ) -> Provenance:
        record = Provenance(
            token=ref.display,
            value=value,
            source=source,
            context_campaign_id=self.context.context_campaign.id,
            context_chain=self.context.context_chain_ids,
            **extra,
        )
        self.provenance.append(record)
        return record

    def resolved(
        self,
        ref: TokenRef,
        raw: str | None,
        found: TokenSource,
        *,
        kind: ValueKind = ValueKind.TEXT,
        **extra: Any,
    ) -> None:
        """A token whose value is the same for every person of the step."""
        insert = _Insert(default=ref.default, kind=kind, html_field=False, encoder=self.encoder)
        self._record(ref, insert.shown(raw), insert.source(raw, found), **extra)
        self.constant(insert.one(raw))

    def slot(
        self,
        ref: TokenRef,
        found: TokenSource,
        raw: Callable[[PersonRow], str | None],
        columns: frozenset[str],
        *,
        kind: ValueKind = ValueKind.TEXT,
        html_field: bool = False,
        batch: Callable[[Sequence[PersonRow]], Iterable[str | None]] | None = None,
        location: Location | None = None,
        sql: Callable[[Table], ColumnElement[str]] | None = None,
    ) -> None:
        insert = _Insert(
            default=ref.default, kind=kind, html_field=html_field, encoder=self.encoder
        )
        record = self._record(ref, None, found, location=location)
        self.segments.append(
            _Slot(provenance=record, insert=insert, raw=raw, columns=columns, batch=batch, sql=sql)
        )

    # -- families ---------------------------------------------------------------------

    def token(self, ref: TokenRef, written: str) -> None:
        family = ref.family
        if ref.is_alert_info:
            if self.alert_info:
                self.alert(ref)
            else:
                self.literal(ref, written)
            return
        match family:
            case None:
                self.literal(ref, written)
            case TokenFamily.LEAD | TokenFamily.COMPANY:
                self.person_field(ref, family)
            case TokenFamily.MY:
                self.my(ref)
            case TokenFamily.CAMPAIGN:
                self.campaign(ref)
            case TokenFamily.PROGRAM:
                self.program(ref)
            case TokenFamily.SYSTEM:
                self.system(ref)
            case TokenFamily.TRIGGER:
                self.trigger(ref)
            case TokenFamily.MEMBER:
                self.member(ref)

    def literal(self, ref: TokenRef, written: str) -> None:
        """TOK-3: an unknown family stays exactly as written, never encoded."""
        self._record(ref, written, TokenSource.LITERAL)
        self.constant(written)

    def person_field(self, ref: TokenRef, family: TokenFamily) -> None:
        field = self.fields.get(ref.name)
        if field is None or (family is TokenFamily.COMPANY and not field.is_company):
            self.resolved(ref, None, TokenSource.FIELD)  # TOK-3: known family, unknown name
            return
        read = _field_reader(field, self.context.system.zone)
        column = field.column
        self.slot(
            ref,
            TokenSource.FIELD,
            lambda row: read(row.get(column)),
            frozenset({column}),
            kind=kind_of(field.data_type),
            html_field=field.is_html_encoding_in_email,
            batch=lambda rows: map(read, [row.get(column) for row in rows]),
            sql=_field_sql(field),
        )

    def my(self, ref: TokenRef) -> None:
        found = self.context.my_token(ref.name)
        if found is None:
            self.resolved(ref, None, TokenSource.MY_TOKEN)
            return
        self.resolved(
            ref,
            found.value,
            found.source,
            kind=ValueKind.NUMBER if found.type in _NUMERIC_MY_TOKENS else ValueKind.TEXT,
            location=found.location,
            inheritance=found.inheritance,
            supplied_by=found.supplied_by,
        )

    def campaign(self, ref: TokenRef) -> None:
        campaign = self.context.context_campaign
        values = {
            "name": campaign.name,
            "id": None if campaign.id is None else str(campaign.id),
            "description": campaign.description,
        }
        key = token_key(ref.name)
        self.resolved(
            ref,
            values.get(key),
            TokenSource.CAMPAIGN,
            kind=ValueKind.NUMBER if key == "id" else ValueKind.TEXT,
            location=self.context.context_location,
        )

    def program(self, ref: TokenRef) -> None:
        program = self.context.program
        key = token_key(ref.name)
        value: str | None = None
        if program is not None and key in _CONTEXT_NAMES:
            value = {
                "name": program.name,
                "id": None if program.id is None else str(program.id),
                "description": program.description,
            }[key]
        self.resolved(
            ref,
            value,
            TokenSource.PROGRAM,
            kind=ValueKind.NUMBER if key == "id" else ValueKind.TEXT,
            location=program,
        )

    def system(self, ref: TokenRef) -> None:
        system = self.context.system
        key = token_key(ref.name).replace(" ", "")
        clock = _CLOCK_TOKENS.get(key)
        if clock is not None:
            self.resolved(ref, clock(system.now, system.zone), TokenSource.SYSTEM)
            return
        path = _LINKS.get(key)
        message_ids = system.message_ids
        if path is None or message_ids is None:
            self.resolved(ref, None, TokenSource.SYSTEM)
            return
        base = f"{system.public_base_url.rstrip('/')}/{path}/"
        self.slot(
            ref,
            TokenSource.SYSTEM,
            lambda row: base + message_ids(int(row["id"])),
            frozenset({"id"}),
        )

    def trigger(self, ref: TokenRef) -> None:
        context = self.context
        if not context.has_trigger:
            self.resolved(ref, None, TokenSource.TRIGGER)  # TOK-8: otherwise TOK-4
            return
        name = ref.name
        self.slot(
            ref,
            TokenSource.TRIGGER,
            lambda row: context.trigger_value(int(row["id"]), name),
            frozenset({"id"}),
        )

    def member(self, ref: TokenRef) -> None:
        context = self.context
        program = context.member_program
        if program is None:
            self.resolved(ref, None, TokenSource.MEMBER)  # TOK-9: outside programs
            return
        name, zone = ref.name, context.system.zone
        self.slot(
            ref,
            TokenSource.MEMBER,
            lambda row: field_text(
                context.member_value(int(row["id"]), name), FieldType.TEXT, zone
            ),
            frozenset({"id"}),
            location=program,
        )

    def alert(self, ref: TokenRef) -> None:
        zone = self.context.system.zone
        parts = [
            (label, field, _field_reader(field, zone))
            for label, name in _ALERT_FIELDS
            if (field := self.fields.get(name)) is not None
        ]

        def info(row: PersonRow) -> str:
            return "\n".join(
                f"{label}: {read(row.get(f.column)) or ''}" for label, f, read in parts
            )

        self.slot(
            ref,
            TokenSource.FIELD,
            info,
            frozenset(field.column for _, field, _ in parts),
            html_field=True,
        )


def _field_sql(field: FieldDef) -> Callable[[Table], ColumnElement[str]] | None:
    """A field's token text in SQL where SQL writes it as `field_text` does (TOK-5)."""
    column = field.column
    if field.data_type.is_textual:
        return lambda person: person.c[column]
    if field.data_type in (FieldType.INTEGER, FieldType.SCORE):
        return lambda person: cast(person.c[column], String)
    return None


def _field_reader(field: FieldDef, zone: Any) -> Callable[[object], str | None]:
    return field_formatter(field.data_type, zone)
