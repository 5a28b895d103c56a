"""My Token definitions and tokens written in text (TOK-2, TOK-6..TOK-11, TOK-15)."""

from __future__ import annotations

from kampanj.definitions.sources import token_scope
from kampanj.definitions.validation.context import Context, Scope, occurrences
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.tree import folder_exists
from kampanj.model.names import fold
from kampanj.model.tokens import my_token_value_problem, token_name_problem
from kampanj.model.tree import FolderPath
from kampanj.tokens.syntax import MalformedToken, TokenFamily, TokenRef, scan

__all__ = ["check_token_families", "check_token_text", "check_tokens", "visible_tokens"]

_SYSTEM_TOKENS = {
    "date",
    "time",
    "datetime",
    "unsubscribelink",
    "viewaswebpagelink",
    "forwardtofriendlink",
}  # TOK-7
_CONTEXT_TOKENS = {"name", "id", "description"}  # TOK-6


def check_tokens(ctx: Context) -> None:
    """TOK-10: My Token names, values, duplicates and defining folders."""
    seen: set[tuple[str, str]] = set()
    for token, occurrence in occurrences(ctx.d.tokens):
        scope = ctx.scope_of(token, occurrence)
        name = token.name  # type: ignore[attr-defined]
        problem = token_name_problem(name)
        if problem:
            ctx.add("TOKEN_INVALID", f"My Token {name!r}: {problem} (TOK-10)", scope)
        problem = my_token_value_problem(token.type, token.value)  # type: ignore[attr-defined]
        if problem:
            ctx.add("TOKEN_INVALID", f"My Token {name!r}: {problem} (TOK-10)", scope, "value")
        workspace, folder = token.workspace, token.folder  # type: ignore[attr-defined]
        where = token_scope(workspace, folder)
        if (where, fold(name)) in seen:
            ctx.add(
                "DUPLICATE_NAME",
                f"My Token {name!r} is defined twice at the same location (TOK-10)",
                scope,
            )
        seen.add((where, fold(name)))
        if workspace is not None and not folder_exists(ctx, workspace, folder or ()):
            ctx.add(
                "REF_UNKNOWN",
                f"My Token {name!r} is defined on unknown folder {'/'.join(folder or ())!r}",
                scope,
            )


def visible_tokens(ctx: Context, workspace: str, path: FolderPath) -> set[str]:
    """Folded names of the My Tokens that resolve at ``path`` (TOK-11)."""
    return {fold(token.name) for token in ctx.token_tree.visible(workspace, path)}


def check_token_families(ctx: Context, text: str, scope: Scope, location: str, what: str) -> None:
    """TOK-15: unknown families are errors wherever tokens resolve."""
    for piece in scan(text):
        if isinstance(piece, TokenRef) and piece.family is None and not piece.is_alert_info:
            ctx.add(
                "TOKEN_FAMILY_UNKNOWN",
                f"{what}: {piece.display} has unknown family {piece.family_text!r}; families "
                f"are {', '.join(f.value for f in TokenFamily)} (TOK-2)",
                scope,
                location,
            )


def check_token_text(
    ctx: Context,
    text: str,
    scope: Scope,
    location: str,
    what: str,
    *,
    my_tokens: set[str] | None,
    triggered: bool,
) -> None:
    """TOK-15: families (error) and names that cannot resolve (warnings)."""
    check_token_families(ctx, text, scope, location, what)
    for piece in scan(text):
        if isinstance(piece, MalformedToken):
            ctx.add(
                "TOKEN_UNKNOWN",
                f"{what}: {piece.text!r} is not a token ({piece.reason.value}); it will be "
                "sent literally — write {{family.Name}}",
                scope,
                location,
            )
            continue
        if not isinstance(piece, TokenRef) or piece.family is None:
            continue
        problem = _token_problem(ctx, piece, my_tokens, triggered)
        if problem:
            ctx.add("TOKEN_UNKNOWN", f"{what}: {piece.display} {problem}", scope, location)


def _token_problem(
    ctx: Context, token: TokenRef, my_tokens: set[str] | None, triggered: bool
) -> str | None:
    family = token.family
    name = fold(token.name)
    if family in (TokenFamily.LEAD, TokenFamily.COMPANY):
        found = ctx.fields.get(token.name)
        if found is None:
            return "names no field" + suggest(token.name, ctx.field_names())
        if family is TokenFamily.COMPANY and not found.is_company:
            return f"names {found.display_name!r}, which is not a company field"
    elif family is TokenFamily.MY and my_tokens is not None and name not in my_tokens:
        return "is not defined at this location or above (TOK-11)"
    elif family is TokenFamily.SYSTEM and name.replace(" ", "") not in _SYSTEM_TOKENS:
        return "is not a system token (TOK-7)"
    elif family in (TokenFamily.CAMPAIGN, TokenFamily.PROGRAM) and name not in _CONTEXT_TOKENS:
        return "is not one of name, id, description (TOK-6)"
    elif family is TokenFamily.TRIGGER and not triggered:
        return "can never resolve: this campaign is never started by a trigger (TOK-8)"
    return None
