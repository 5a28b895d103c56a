"""Reading one document part into its pydantic shape, every problem a finding."""

from __future__ import annotations

import copy
import difflib
from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from kampanj.definitions import document as d
from kampanj.definitions.loading.state import LoadState
from kampanj.definitions.yaml_source import DataPath, YamlDocument

__all__ = ["read_model"]

M = TypeVar("M", bound=BaseModel)


def read_model(
    state: LoadState,
    model: type[M],
    raw: Any,
    source: YamlDocument,
    path: DataPath,
    what: str,
    *,
    campaign: str | None = None,
) -> M | None:
    """Validate ``raw``; report every problem; retry without unknown keys."""
    try:
        return model.model_validate(raw)
    except ValidationError as error:
        errors = error.errors()
    _report_validation(state, model, errors, raw, source, path, what, campaign)
    cleaned = copy.deepcopy(raw)
    removed = False
    for item in errors:
        if item["type"] == "extra_forbidden":
            removed = _remove(cleaned, item["loc"]) or removed
    if not removed:
        return None
    try:
        return model.model_validate(cleaned)
    except ValidationError:
        return None


def _report_validation(
    state: LoadState,
    model: type[BaseModel],
    errors: Sequence[Any],
    raw: Any,
    source: YamlDocument,
    path: DataPath,
    what: str,
    campaign: str | None,
) -> None:
    resolved: list[tuple[DataPath, Any]] = []
    for item in errors:
        data_path = _data_path(raw, item["loc"])
        resolved.append((data_path, item))
    seen: set[tuple[DataPath, str]] = set()
    for data_path, item in resolved:
        kind = str(item["type"])
        # A union's "wrong type" branch is noise when another branch went deeper.
        if kind.endswith("_type") and any(
            len(other) > len(data_path) and other[: len(data_path)] == data_path
            for other, _ in resolved
        ):
            continue
        code, message = _describe(model, kind, item, data_path, what)
        if (data_path, code) in seen:
            continue
        seen.add((data_path, code))
        location = ".".join(str(p) for p in data_path)
        state.report(
            code, message, source, (*path, *data_path), location=location, campaign=campaign
        )


def _data_path(raw: Any, loc: Sequence[Any]) -> DataPath:
    """The part of a pydantic error location that exists in the data (drops union tags)."""
    current = raw
    path: list[str | int] = []
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
    return tuple(path)


def _remove(raw: Any, loc: Sequence[Any]) -> bool:
    path = _data_path(raw, loc)
    if not path:
        return False
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _describe(
    model: type[BaseModel], kind: str, item: Any, data_path: DataPath, what: str
) -> tuple[str, str]:
    dotted = ".".join(str(p) for p in data_path)
    if kind == "extra_forbidden":
        allowed = d.allowed_keys(model, item["loc"])
        unknown = str(item["loc"][-1]) if item["loc"] else dotted
        close = difflib.get_close_matches(unknown, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (
            "UNKNOWN_KEY",
            f"unknown key {dotted!r} in {what}; {hint}allowed keys: {', '.join(allowed)} "
            "(see docs/definitions.md)",
        )
    if kind == "missing":
        missing = str(item["loc"][-1]) if item["loc"] else "?"
        where = f" under {dotted!r}" if dotted else ""
        return "MISSING_KEY", f"{what} needs {missing!r}{where}"
    return "TYPE_INVALID", f"{what}: {dotted or 'value'}: {item['msg']}"
