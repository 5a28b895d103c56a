"""References by name to workspace assets (REF_UNKNOWN, REF_AMBIGUOUS, XWS_REF; WS-2)."""

from __future__ import annotations

from kampanj.definitions.validation.context import Context, Scope
from kampanj.definitions.validation.hints import suggest
from kampanj.model.names import fold
from kampanj.model.smartlists import Value

__all__ = ["reference", "resolve"]


def resolve(
    ctx: Context, kind: str, name: str, workspace: str
) -> tuple[list[object], list[object]]:
    """(matches in ``workspace``, matches in other workspaces) for a reference by name."""
    text = str(name).strip()
    wanted = fold(text)
    index = ctx.by_workspace[kind]
    here = list(index[fold(workspace)].get(wanted, [])) or _by_path(index[fold(workspace)], text)
    elsewhere = [
        obj
        for ws, names in index.items()
        if ws != fold(workspace)
        for obj in (names.get(wanted, []) or _by_path(names, text))
    ]
    return here, elsewhere


def _by_path(names: dict[str, list[object]], text: str) -> list[object]:
    """``Folder/Program/Name`` picks one of several same-named campaigns."""
    if "/" not in text:
        return []
    *path, last = [p.strip() for p in text.split("/")]
    return [
        obj
        for obj in names.get(fold(last), [])
        if [fold(p) for p in getattr(obj, "folder", ())] == [fold(p) for p in path]
    ]


def reference(
    ctx: Context,
    kind: str,
    name: Value,
    workspace: str,
    scope: Scope,
    location: str,
    what: str,
    *,
    missing_code: str = "REF_UNKNOWN",
) -> object | None:
    """The single object ``name`` refers to, reporting REF_UNKNOWN / XWS_REF otherwise."""
    here, elsewhere = resolve(ctx, kind, str(name), workspace)
    if len(here) == 1:
        return here[0]
    if len(here) > 1:
        ctx.add(
            "REF_AMBIGUOUS",
            f"{what}: several {kind}s are named {name!r} in workspace {workspace!r}; "
            "write 'Folder/Program/Name' to pick one",
            scope,
            location,
        )
        return None
    if elsewhere:
        other = getattr(elsewhere[0], "workspace", "?")
        ctx.add(
            "XWS_REF",
            f"{what}: {kind} {name!r} is in workspace {other!r}, not {workspace!r}; "
            "references must stay within one workspace (WS-2)",
            scope,
            location,
        )
        return None
    in_workspace = ctx.by_workspace[kind][fold(workspace)].values()
    known = [getattr(o, "name", "") for objs in in_workspace for o in objs]
    ctx.add(
        missing_code,
        f"{what}: there is no {kind} named {name!r} in workspace {workspace!r}"
        + suggest(str(name), known),
        scope,
        location,
    )
    return None
