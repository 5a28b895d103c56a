"""Token values that cannot fit where a step puts them (FLOW-5, FLOW-14, FLOW-16, WAIT-6).

FLOW-5 leaves token-bearing parameters to run time, where a value that does not convert
is a FLOW-6 error for every person. Much of what a token renders is known before anything
runs, though: a My Token's value in each context the campaign can run in (TOK-21), the
formats of system tokens (TOK-7) and of typed person fields (TOK-5). This check renders
the parameter with those values — sample values of the right shape where only the shape
is known — and warns `TOKEN_TYPE_MISMATCH` when no rendering would be accepted. One
reference whose value nobody can know (a text field, a trigger attribute, a token that does
not resolve, already `TOKEN_UNKNOWN`) silences the check for that parameter.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC

from kampanj.definitions.validation.context import Context
from kampanj.model.campaigns import Campaign, ParamValue, StepType
from kampanj.model.conversions import ValueConversionError, convert_text
from kampanj.model.fields import FieldDef, FieldType
from kampanj.model.names import fold
from kampanj.model.score_change import parse_change
from kampanj.model.wait import parse_instant
from kampanj.tokens.syntax import Literal, TokenFamily, TokenRef, scan
from kampanj.tokens.tree import VisibleToken

__all__ = ["check_token_types"]

CODE = "TOKEN_TYPE_MISMATCH"
_MAX_RENDERINGS = 256  # beyond this many sample combinations the check gives up
_MAX_CHAINS = 32  # context chains looked at per campaign (EXE-14 keeps them few anyway)

# Token-bearing parameters whose value has a type (TOK-13), and what a choice may change
# that the inherited value is then measured against.
_TOKEN_PARAMS: dict[StepType, tuple[str, ...]] = {
    StepType.CHANGE_DATA_VALUE: ("newValue",),
    StepType.CHANGE_SCORE: ("change",),
    StepType.WAIT: ("token", "offsetDays"),
}
_MEASURED_BY = {"newValue": "attribute"}


# What a system token looks like (TOK-7); links are URLs under publicBaseUrl.
_SYSTEM_SAMPLES: dict[str, tuple[str, str]] = {
    "date": ("MMM dd, yyyy", "Aug 08, 2013"),
    "time": ("hh:mm a (GMT ±hhmm)", "04:34 PM (GMT -0700)"),
    "datetime": ("yyyy-MM-dd HH:mm:ss", "2013-08-08 16:34:00"),
    "unsubscribelink": ("a URL", "https://mail.example/u/x"),
    "viewaswebpagelink": ("a URL", "https://mail.example/v/x"),
    "forwardtofriendlink": ("a URL", "https://mail.example/f/x"),
}

# Person fields as tokens render them (TOK-5); textual fields can hold anything.
_FIELD_SAMPLES: dict[FieldType, tuple[str, tuple[str, ...]]] = {
    FieldType.INTEGER: ("N", ("7", "0", "-7")),
    FieldType.SCORE: ("N", ("7", "0", "-7")),
    FieldType.FLOAT: ("N.N", ("1.5", "7", "0", "-7")),
    FieldType.CURRENCY: ("N.N", ("1.5", "7", "0", "-7")),
    FieldType.BOOLEAN: ("true|false", ("true", "false")),
    FieldType.DATE: ("yyyy-MM-dd", ("2013-08-08",)),
    FieldType.DATETIME: ("yyyy-MM-dd HH:mm:ss", ("2013-08-08 16:34:00",)),
}

Chain = tuple[Campaign, ...]
"""A context chain (TOK-19): the campaign first, then each caller passing its context."""


@dataclass(frozen=True, slots=True)
class _Target:
    """Where a parameter's rendered text goes: what accepts it, what failing means."""

    accepts: Callable[[str], bool]
    refusal: str
    """`renders X, which …`: what the engine does with it."""
    wanted: str
    """The kind of token that would fit."""


@dataclass(frozen=True, slots=True)
class _Alternatives:
    """What one piece of the text may render as, and how to say so."""

    texts: tuple[str, ...]
    description: str | None = None


def check_token_types(ctx: Context) -> None:
    """`TOKEN_TYPE_MISMATCH` warnings for every token-bearing step parameter."""
    for index, campaign in enumerate(ctx.d.campaigns):
        chains: list[Chain] | None = None
        for where, step_type, params, checked in _branches(campaign):
            for name in checked:
                text = params.get(name)
                target = _target(ctx, step_type, name, params)
                if target is None or not isinstance(text, str) or "{{" not in text:
                    continue
                if chains is None:
                    chains = _chains(ctx, index)
                _check(ctx, index, campaign, chains, text, target, f"{where}.{name}", step_type)


def _branches(
    campaign: Campaign,
) -> Iterator[tuple[str, StepType, dict[str, ParamValue], tuple[str, ...]]]:
    """Default and each choice, with merged parameters and the token parameters to check.

    A choice is checked when it sets the parameter or what the parameter is measured
    against (another field for an inherited new value).
    """
    for step in campaign.flow:
        location = f"flow.{step.id}"
        branches = [(location, step.params, step.params, step.do_nothing)]
        branches += [
            (f"{location}.choices[{n}]", c.params, {**step.params, **c.params}, c.do_nothing)
            for n, c in enumerate(step.choices, start=1)
        ]
        for where, own, merged, do_nothing in branches:
            if do_nothing:
                continue
            names = _TOKEN_PARAMS.get(step.type, ())
            checked = tuple(
                name
                for name in names
                if name in own or (where != location and _MEASURED_BY.get(name, "") in own)
            )
            yield where, step.type, dict(merged), checked


def _target(
    ctx: Context, step_type: StepType, name: str, params: dict[str, ParamValue]
) -> _Target | None:
    if step_type is StepType.CHANGE_DATA_VALUE:
        field = ctx.fields.get(str(params.get("attribute", "")))
        if field is None or field.read_only or field.update_blocked:
            return None  # reported by the parameter checks
        return _field_target(field)
    if step_type is StepType.CHANGE_SCORE:
        return _Target(
            accepts=lambda text: parse_change(text) is not None,
            refusal="is not a score change (+N, -N, N, =N, =+N, =-N): at run time the step fails "
            "with INVALID_CHANGE and the score stays (FLOW-6, FLOW-16)",
            wanted="a score My Token such as +5 used alone, e.g. change: '{{my.Bonus}}'",
        )
    if name == "token":
        return _Target(
            accepts=lambda text: not text.strip() or parse_instant(text, UTC) is not None,
            refusal="is not a date yyyy-MM-dd or an ISO date-time: nobody waits (WAIT-6)",
            wanted="a date field ({{lead.…}}), a date My Token or {{system.dateTime}}",
        )
    return _Target(
        accepts=_whole_offset,
        refusal="is not a whole number of days: the offset is ignored (WAIT-6)",
        wanted="a whole number, e.g. a score My Token",
    )


def _whole_offset(text: str) -> bool:
    try:
        int(text.strip() or 0)  # what the Wait step does with the rendered offset
    except ValueError:
        return False
    return True


def _field_target(field: FieldDef) -> _Target:
    data_type = field.data_type

    def accepts(text: str) -> bool:
        try:
            convert_text(data_type, text, UTC)
        except ValueConversionError:
            return False
        return True

    return _Target(
        accepts=accepts,
        refusal=f"{field.display_name!r} ({data_type.value}) refuses: at run time the step fails "
        "with INVALID_VALUE and the field is not changed (FLOW-6, FLOW-14)",
        wanted=_WANTED.get(data_type, "a token whose value fits the field"),
    )


_WANTED: dict[FieldType, str] = {
    FieldType.DATE: "a date My Token (yyyy-MM-dd) or a date field; no system token renders "
    "yyyy-MM-dd, so for today's date make the field a datetime and use {{system.dateTime}}",
    FieldType.DATETIME: "{{system.dateTime}} or a date My Token",
    FieldType.INTEGER: "a score My Token or a number My Token with a whole value",
    FieldType.SCORE: "a score My Token or a number My Token with a whole value",
    FieldType.FLOAT: "a number or score My Token",
    FieldType.CURRENCY: "a number or score My Token",
    FieldType.BOOLEAN: "a value true or false",
}


def _chains(ctx: Context, index: int) -> list[Chain]:
    """Every context chain campaign ``index`` can run in (TOK-19), from the call graph."""
    campaigns = ctx.d.campaigns
    found: list[Chain] = []

    def climb(at: int, chain: Chain, seen: frozenset[int]) -> None:
        if len(found) >= _MAX_CHAINS:
            return
        campaign = campaigns[at]
        callers = [e for e in ctx.execute_edges if e.target == at]
        if not campaign.executable or not callers or any(not e.use_parent_context for e in callers):
            found.append(chain)
        for edge in callers:
            if edge.use_parent_context and edge.caller not in seen:
                climb(edge.caller, (*chain, campaigns[edge.caller]), seen | {edge.caller})

    climb(index, (campaigns[index],), frozenset({index}))
    return found


def _my_token(ctx: Context, chain: Chain, name: str) -> tuple[VisibleToken, Campaign] | None:
    """TOK-21 without overrides: the outermost context campaign defining ``name`` wins."""
    for campaign in reversed(chain):
        visible = ctx.token_tree.lookup(campaign.workspace, campaign.folder, name)
        if visible is not None:
            return visible, campaign
    return None


def _check(
    ctx: Context,
    index: int,
    campaign: Campaign,
    chains: Sequence[Chain],
    text: str,
    target: _Target,
    location: str,
    step_type: StepType,
) -> None:
    step_id = location.split(".")[1]
    label = f"{step_type.value} ({step_id}) {location.rsplit('.', 1)[-1]}"
    tried: set[tuple[str, ...]] = set()
    for chain in chains:
        pieces = _pieces(ctx, chain, text)
        if pieces is None:
            return  # something in the text is unknowable: no verdict
        key = tuple(t for p in pieces for t in p.texts)
        if key in tried:
            continue
        tried.add(key)
        renderings = _renderings(pieces)
        if renderings is None or any(target.accepts(r) for r in renderings):
            continue
        scope = ctx.scope_of(campaign, ctx.campaign_occurrence(index))
        reasons = "; ".join(p.description for p in pieces if p.description)
        caller = f" when called with parent context by {chain[-1].name!r}" if len(chain) > 1 else ""
        ctx.add(
            CODE,
            f"{label}: {reasons}{caller}, so the step gets {renderings[0]!r}, which "
            f"{target.refusal}. {_fix(ctx, chain, text, target)}",
            scope,
            location,
        )
        return


def _fix(ctx: Context, chain: Chain, text: str, target: _Target) -> str:
    """A token written with text around it that would fit alone: suggest it alone."""
    refs = [p for p in scan(text) if isinstance(p, TokenRef)]
    if len(refs) == 1 and text.strip() != text[refs[0].start : refs[0].end]:
        alone = text[refs[0].start : refs[0].end]
        pieces = _pieces(ctx, chain, alone)
        renderings = None if pieces is None else _renderings(pieces)
        if renderings and all(target.accepts(r) for r in renderings):
            return f"The token's value is already complete: write the token alone ({alone!r})."
    return f"Use {target.wanted}."


def _pieces(ctx: Context, chain: Chain, text: str) -> list[_Alternatives] | None:
    pieces: list[_Alternatives] = []
    for piece in scan(text):
        if isinstance(piece, Literal):
            pieces.append(_Alternatives((piece.text,)))
            continue
        if not isinstance(piece, TokenRef):
            return None  # malformed braces: TOKEN_UNKNOWN says so
        found = _token(ctx, chain, piece)
        if found is None:
            return None
        pieces.append(found)
    return pieces


def _token(ctx: Context, chain: Chain, ref: TokenRef) -> _Alternatives | None:
    name = fold(ref.name)
    match ref.family:
        case TokenFamily.MY:
            found = _my_token(ctx, chain, ref.name)
            if found is None:
                return None
            visible, _ = found
            value = visible.value if visible.value != "" else ref.default or ""  # TOK-4
            return _Alternatives(
                (value,),
                description=f"{ref.display} is {value!r} (a {visible.type.value} token "
                f"defined at {visible.defined_at.display})",
            )
        case TokenFamily.SYSTEM:
            sample = _SYSTEM_SAMPLES.get(name.replace(" ", ""))
            if sample is None:
                return None
            shape, example = sample
            return _Alternatives(
                (example,),
                description=f"{ref.display} renders {shape!r}, e.g. {example!r} (TOK-7)",
            )
        case TokenFamily.LEAD | TokenFamily.COMPANY:
            field = ctx.fields.get(ref.name)
            if field is None or (ref.family is TokenFamily.COMPANY and not field.is_company):
                return None
            shaped = _FIELD_SAMPLES.get(field.data_type)
            if shaped is None:
                return None  # a textual field may hold anything
            shape, samples = shaped
            # A person without a value gets the default, or nothing (TOK-4).
            texts = (*samples, ref.default) if ref.default is not None else samples
            return _Alternatives(
                texts,
                description=f"{ref.display} renders the {field.data_type.value} field "
                f"{field.display_name!r} as {shape!r}, e.g. {samples[0]!r} (TOK-5)",
            )
        case _:
            return None


def _renderings(pieces: Sequence[_Alternatives]) -> list[str] | None:
    """Every combination of the pieces' texts, or None when there are too many."""
    count = 1
    for piece in pieces:
        count *= len(piece.texts)
    if count > _MAX_RENDERINGS:
        return None
    return ["".join(combo) for combo in itertools.product(*(p.texts for p in pieces))]
