"""Per-run My Token overrides (TOK-16, TOK-17, API-18 warnings).

An override names a token as ``{{my.X}}`` or ``my.X`` (case-insensitively). It is checked
against the tree of the run's level-0 campaign: a name defined nowhere up that tree, a
family other than ``my`` or a value invalid for the token's type is ignored with a reason
the caller reports as a warning; nothing else about the run changes.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field

from kampanj.errors import UserError
from kampanj.model.campaigns import Campaign
from kampanj.model.tokens import my_token_value_problem
from kampanj.tokens.syntax import CLOSE, OPEN, TokenFamily, TokenRef, scan
from kampanj.tokens.tree import TokenTree, token_key


@dataclass(frozen=True, kw_only=True, slots=True)
class OverrideRequest:
    """One ``{name, value}`` item as the caller wrote it."""

    name: str
    """``{{my.X}}`` or ``my.X``."""
    value: str
    """Replacement value for this run."""


@dataclass(frozen=True, kw_only=True, slots=True)
class IgnoredOverride:
    """An override that does not apply, and why (TOK-17)."""

    name: str
    """The name as given."""
    value: str
    """The value as given."""
    reason: str
    """Why it is ignored; names the token and what to change."""

    @property
    def message(self) -> str:
        return f"token override {self.name!r} ignored: {self.reason}"


@dataclass(frozen=True, kw_only=True, slots=True)
class RunOverrides:
    """Accepted overrides of one run: token key → (canonical name, value)."""

    values: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Keyed by `token_key` of the My Token name."""

    def get(self, name: str) -> str | None:
        """The override value for My Token ``name``, or None."""
        found = self.values.get(token_key(name))
        return None if found is None else found[1]

    def __iter__(self) -> Iterator[tuple[str, str]]:
        return iter(self.values.values())

    def __len__(self) -> int:
        return len(self.values)

    def __bool__(self) -> bool:
        return bool(self.values)


NO_OVERRIDES = RunOverrides()


@dataclass(frozen=True, kw_only=True, slots=True)
class OverrideCheck:
    """Result of checking a run's requested overrides (TOK-17)."""

    accepted: RunOverrides
    """Overrides the run applies."""
    ignored: tuple[IgnoredOverride, ...] = ()
    """Overrides the run ignores, in input order, each with its reason."""


def parse_override_name(name: str) -> TokenRef | None:
    """``{{my.X}}`` or ``my.X`` as a token reference; None when it is not one."""
    text = name.strip()
    if not text.startswith(OPEN):
        text = OPEN + text + CLOSE
    pieces = scan(text)
    if len(pieces) != 1 or not isinstance(pieces[0], TokenRef) or pieces[0].default is not None:
        return None
    return pieces[0]


def parse_override_argument(argument: str) -> OverrideRequest:
    """``{{my.X}}=value`` or ``my.X=value`` (CLI ``--token``) as a request."""
    equals = -1
    if argument.lstrip().startswith(OPEN):
        closing = argument.find(CLOSE)
        if closing >= 0:
            equals = argument.find("=", closing + len(CLOSE))
    else:
        equals = argument.find("=")
    if equals < 0:
        raise UserError(
            f"--token {argument!r}: write NAME=VALUE, e.g. --token '{{{{my.Score}}}}=+10'"
        )
    return OverrideRequest(name=argument[:equals].strip(), value=argument[equals + 1 :])


def check_overrides(
    requested: Iterable[OverrideRequest], tree: TokenTree, campaign: Campaign
) -> OverrideCheck:
    """Accept or ignore each override for a run of ``campaign`` (level 0), per TOK-17."""
    accepted: dict[str, tuple[str, str]] = {}
    ignored: list[IgnoredOverride] = []
    where = f"campaign {campaign.name!r}" + (f" ({campaign.id})" if campaign.id else "")
    for request in requested:

        def ignore(reason: str, request: OverrideRequest = request) -> None:
            ignored.append(IgnoredOverride(name=request.name, value=request.value, reason=reason))

        ref = parse_override_name(request.name)
        if ref is None:
            ignore("write the name as {{my.Name}} or my.Name")
            continue
        if ref.family is not TokenFamily.MY:
            ignore(f"only My Tokens can be overridden, not {ref.display}")
            continue
        visible = tree.lookup(campaign.workspace, campaign.folder, ref.name)
        if visible is None:
            ignore(f"{ref.display} is not defined anywhere up the tree of {where}")
            continue
        problem = my_token_value_problem(visible.type, request.value)
        if problem is not None:
            ignore(f"{ref.display}: {problem}")
            continue
        key = token_key(ref.name)
        if key in accepted:
            ignore(f"{ref.display} is given more than once; the first value is used")
            continue
        accepted[key] = (visible.name, request.value)
    return OverrideCheck(accepted=RunOverrides(values=accepted), ignored=tuple(ignored))
