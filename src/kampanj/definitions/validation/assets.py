"""Static lists, smart lists and emails as workspace assets: placement, names, email tokens."""

from __future__ import annotations

from kampanj.definitions.validation.context import Context, occurrences
from kampanj.definitions.validation.names import check_duplicate_keys
from kampanj.definitions.validation.tokens import check_token_families
from kampanj.definitions.validation.tree import folder_exists
from kampanj.model.assets import Email

__all__ = ["check_assets"]


def check_assets(ctx: Context) -> None:
    """Duplicate names and keys, unknown folders, unknown token families in emails."""
    for objects, what in (
        (ctx.d.static_lists, "static list"),
        (ctx.d.smart_lists, "smart list"),
        (ctx.d.emails, "email"),
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
