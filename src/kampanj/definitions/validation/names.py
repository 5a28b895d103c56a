"""Names and keys that must be unique (DUPLICATE_NAME, DUPLICATE_KEY)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from kampanj.definitions.validation.context import Context, occurrences

__all__ = ["check_duplicate_keys", "check_duplicate_names"]


def check_duplicate_names(
    ctx: Context,
    objects: Sequence[object],
    key: Callable[[Any], object],
    what: str,
    scope_text: str,
) -> None:
    """DUPLICATE_NAME for each object whose ``key`` (None = no identity) was seen before."""
    first: dict[object, object] = {}
    for obj, occurrence in occurrences(objects):
        identity = key(obj)
        if identity is None:
            continue
        if identity in first:
            name = getattr(obj, "name", identity)
            ctx.add(
                "DUPLICATE_NAME",
                f"{what} {name!r} is defined twice {scope_text} (names are "
                "case-insensitive); rename or remove one",
                ctx.scope_of(obj, occurrence),
            )
        else:
            first[identity] = obj


def check_duplicate_keys(ctx: Context, objects: Sequence[object], what: str) -> None:
    """DUPLICATE_KEY for each object reusing another's ``key``."""
    first: dict[str, object] = {}
    for obj, occurrence in occurrences(objects):
        key = getattr(obj, "key", None)
        if not key:
            continue
        if key in first:
            ctx.add(
                "DUPLICATE_KEY",
                f"key {key!r} is used by two {what}s ({getattr(first[key], 'name', '?')!r} "
                f"and {getattr(obj, 'name', '?')!r}); keys identify one object across "
                "renames, so each must be unique",
                ctx.scope_of(obj, occurrence),
                "key",
            )
        else:
            first[key] = obj
