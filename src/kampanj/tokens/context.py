"""The token context of one step: call stack, context chain, overrides and sources.

A `TokenContext` is built once per step execution (DESIGN.md §2) and answers every
context-level question: the context chain (TOK-19), My Token resolution with overrides
(TOK-21, TOK-22), the context campaign and its program (TOK-6, TOK-20), and which
per-person sources (trigger activity, program membership, message ids) the engine has
loaded for the step. Execute Campaign derives a child's context with `call` (EXE-16).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, tzinfo
from functools import cached_property

from kampanj.model.campaigns import Campaign
from kampanj.model.people import FieldValue
from kampanj.model.tokens import MyTokenType
from kampanj.tokens.overrides import NO_OVERRIDES, RunOverrides
from kampanj.tokens.provenance import Inheritance, TokenSource
from kampanj.tokens.tree import Location, TokenTree, token_key

_NOT_MEMBER_TOKENS = frozenset({"status", "program status"})  # TOK-9


@dataclass(frozen=True, kw_only=True, slots=True)
class CallFrame:
    """One campaign on the run's call stack."""

    campaign: Campaign
    """The campaign at this level."""
    use_parent_context: bool = False
    """How its caller's Execute Campaign step called it (EXE-5); ignored at level 0."""


@dataclass(frozen=True, kw_only=True, slots=True)
class TriggerFacts:
    """The activity that started level 0 of a trigger or requested run, for one person (TOK-8)."""

    trigger_name: str
    """Name of the matched trigger, e.g. ``Fills Out Form``."""
    primary_value: str | None = None
    """The activity's primary attribute value (``{{trigger.Name}}``)."""
    attributes: Mapping[str, object] = field(default_factory=dict)
    """Other attributes by name, matched case-insensitively."""

    def value(self, name: str) -> str | None:
        """``{{trigger.<name>}}`` for this activity, None when it has no such value."""
        key = token_key(name)
        if key == "trigger name":
            return self.trigger_name
        if key == "name":
            return self.primary_value
        for attribute, value in self.attributes.items():
            if token_key(attribute) == key:
                return None if value is None else str(value)
        return None


@dataclass(frozen=True, kw_only=True, slots=True)
class SystemFacts:
    """What ``{{system.*}}`` reads: the clock, the account time zone and link settings (TOK-7)."""

    now: datetime
    """The step's instant from the injected clock (GEN-1), timezone-aware."""
    zone: tzinfo = UTC
    """Account time zone."""
    public_base_url: str = "http://localhost:8000"
    """Setting ``publicBaseUrl``."""
    message_ids: Callable[[int], str] | None = None
    """Person id → opaque id of the message being rendered; None outside emails."""


@dataclass(frozen=True, kw_only=True, slots=True)
class MyTokenValue:
    """A My Token value found by TOK-21, before defaults (TOK-4) apply."""

    value: str
    """The value as stored or overridden."""
    source: TokenSource
    """``api-override`` or ``my-token``."""
    location: Location | None = None
    """Defining location (None for an override)."""
    inheritance: Inheritance | None = None
    """Relative to the campaign whose tree supplied it."""
    supplied_by: int | None = None
    """Campaign whose tree supplied it."""
    type: MyTokenType | None = None
    """Type of the visible definition (numbers and scores encode bare, HOOK-3)."""


@dataclass(frozen=True, kw_only=True)
class TokenContext:
    """Everything a step's token references resolve against (TOK-19..22)."""

    tree: TokenTree
    """My Tokens and containers of the account."""
    call_stack: tuple[CallFrame, ...]
    """Level 0 first, the step's own campaign last."""
    system: SystemFacts
    """Clock, time zone and link settings."""
    overrides: RunOverrides = NO_OVERRIDES
    """The run's accepted overrides (TOK-16, TOK-17)."""
    triggers: Mapping[int, TriggerFacts] = field(default_factory=dict)
    """Person id → the activity that started level 0 (trigger and requested runs)."""
    members: Mapping[int, Mapping[str, FieldValue]] = field(default_factory=dict)
    """Person id → member fields of their membership in `member_program` (TOK-9)."""

    def __post_init__(self) -> None:
        if not self.call_stack:
            raise ValueError("a token context needs at least the run's level-0 campaign")

    # -- the chain --------------------------------------------------------------------

    @property
    def campaign(self) -> Campaign:
        """The campaign whose step is executing (C)."""
        return self.call_stack[-1].campaign

    @property
    def level(self) -> int:
        """C's level: 0 for the run's top campaign (EXE-7)."""
        return len(self.call_stack) - 1

    @cached_property
    def context_chain(self) -> tuple[Campaign, ...]:
        """C, then each caller while the callee was called with parent context (TOK-19)."""
        index = len(self.call_stack) - 1
        chain = [self.call_stack[index].campaign]
        while index > 0 and self.call_stack[index].use_parent_context:
            index -= 1
            chain.append(self.call_stack[index].campaign)
        return tuple(chain)

    @property
    def reaches_level_0(self) -> bool:
        """Whether the context chain ends at the run's top campaign (TOK-18, TOK-21)."""
        return len(self.context_chain) == len(self.call_stack)

    @property
    def context_campaign(self) -> Campaign:
        """The outermost member of the context chain (TOK-19)."""
        return self.context_chain[-1]

    @cached_property
    def context_chain_ids(self) -> tuple[int | None, ...]:
        return tuple(campaign.id for campaign in self.context_chain)

    def call(self, child: Campaign, *, use_parent_context: bool) -> TokenContext:
        """The context of ``child`` called by an Execute Campaign step of C (EXE-16).

        Member values are kept only when the context campaign stays the same; otherwise
        the engine loads the child's with `with_members`.
        """
        frame = CallFrame(campaign=child, use_parent_context=use_parent_context)
        return replace(
            self,
            call_stack=(*self.call_stack, frame),
            members=self.members if use_parent_context else {},
        )

    def with_members(self, members: Mapping[int, Mapping[str, FieldValue]]) -> TokenContext:
        """The same context with the member fields the engine loaded for `member_program`."""
        return replace(self, members=members)

    # -- sources ----------------------------------------------------------------------

    @cached_property
    def context_location(self) -> Location:
        """The container of the context campaign."""
        campaign = self.context_campaign
        return self.tree.location(campaign.workspace, campaign.folder)

    @cached_property
    def program(self) -> Location | None:
        """Nearest program containing the context campaign (TOK-6); None outside programs."""
        campaign = self.context_campaign
        return self.tree.nearest_program(campaign.workspace, campaign.folder)

    @property
    def member_program(self) -> Location | None:
        """The program whose membership member tokens read (TOK-9)."""
        return self.program

    @property
    def has_trigger(self) -> bool:
        """Trigger tokens exist only when the chain reaches a trigger-started level 0 (TOK-8)."""
        return bool(self.triggers) and self.reaches_level_0

    def trigger_value(self, person_id: int, name: str) -> str | None:
        if not self.reaches_level_0:
            return None
        facts = self.triggers.get(person_id)
        return None if facts is None else facts.value(name)

    def member_value(self, person_id: int, name: str) -> FieldValue:
        key = token_key(name)
        fields = self.members.get(person_id)
        if fields is None or key in _NOT_MEMBER_TOKENS:
            return None
        for member_field, value in fields.items():
            if token_key(member_field) == key:
                return value
        return None

    def my_token(self, name: str) -> MyTokenValue | None:
        """``{{my.<name>}}`` per TOK-21, without the reference's default; None if undefined."""
        if self.reaches_level_0:
            override = self.overrides.get(name)
            if override is not None:
                top = self.call_stack[0].campaign
                visible = self.tree.lookup(top.workspace, top.folder, name)
                return MyTokenValue(
                    value=override,
                    source=TokenSource.API_OVERRIDE,
                    type=None if visible is None else visible.type,
                )
        for campaign in reversed(self.context_chain):
            visible = self.tree.lookup(campaign.workspace, campaign.folder, name)
            if visible is None:
                continue
            own = self.tree.location(campaign.workspace, campaign.folder)
            return MyTokenValue(
                value=visible.value,
                source=TokenSource.MY_TOKEN,
                location=visible.defined_at,
                inheritance=(
                    Inheritance.LOCAL if visible.defined_at == own else Inheritance.INHERITED
                ),
                supplied_by=campaign.id,
                type=visible.type,
            )
        return None
