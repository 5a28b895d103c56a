"""Static lists, smart lists and emails as workspace assets: placement, names, email tokens."""

from __future__ import annotations

from kampanj.definitions.sources import fold
from kampanj.definitions.validation.context import Context, occurrences
from kampanj.definitions.validation.names import check_duplicate_keys
from kampanj.definitions.validation.tokens import check_token_families
from kampanj.definitions.validation.tree import folder_exists
from kampanj.model.assets import Email

__all__ = ["check_assets"]


def check_assets(ctx: Context) -> None:
    """Duplicate names and keys, unknown folders, unknown token families in emails."""
    for kind, objects, what in (
        ("list", ctx.d.static_lists, "static list"),
        ("smart list", ctx.d.smart_lists, "smart list"),
        ("email", ctx.d.emails, "email"),
    ):
        for obj, occurrence in occurrences(objects):
            workspace, folder = obj.workspace, obj.folder  # type: ignore[attr-defined]
            scope = ctx.scope_of(obj, occurrence)
            if occurrence:
                ctx.add(
                    "DUPLICATE_NAME",
                    f"{what} {obj.name!r} is defined twice in workspace {workspace!r}; "  # type: ignore[attr-defined]
                    f"{what} names are unique per workspace",
                    scope,
                )
            elif len(ctx.by_workspace[kind][fold(workspace)][fold(obj.name)]) > 1:  # type: ignore[attr-defined]
                pass
            if not folder_exists(ctx, workspace, folder):
                ctx.add(
                    "REF_UNKNOWN",
                    f"{what} {obj.name!r} is in unknown folder {'/'.join(folder)!r}",  # type: ignore[attr-defined]
                    scope,
                )
        check_duplicate_keys(ctx, objects, what)
    for email, occurrence in occurrences(ctx.d.emails):
        assert isinstance(email, Email)
        scope = ctx.scope_of(email, occurrence)
        for where, text in (
            ("subject", email.subject),
            ("fromName", email.from_name),
            ("fromEmail", email.from_email),
            ("replyTo", email.reply_to),
            ("html", email.html),
            ("text", email.text),
        ):
            check_token_families(ctx, text, scope, where, f"email {email.name!r} {where}")
