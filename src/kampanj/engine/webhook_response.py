"""Response mappings (HOOK-6): find each path in a webhook's response and convert it.

JSON paths use dots and ``[i]`` (``orders[0].orderDate``); XML paths name every element
from the root (``elementList.element[0].foo``), ``[i]`` picking among same-named siblings.
A missing path writes nothing; a value that does not convert to the field's type is not
written and gives a ``MAPPING_TYPE`` warning, as does a mapping into an unknown or
read-only field or a body that does not parse as the declared type.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import tzinfo

from kampanj.model.conversions import (
    UNCHANGED,
    Directive,
    ValueConversionError,
    convert_json,
    convert_text,
)
from kampanj.model.fields import FieldDef, FieldRegistry
from kampanj.model.people import FieldValue

_STEP = re.compile(r"([^.\[\]]*)((?:\[[0-9]+\])*)")
_INDEX = re.compile(r"\[([0-9]+)\]")


class _Missing:
    """The path is not in the response."""


MISSING = _Missing()


@dataclass(frozen=True, kw_only=True, slots=True)
class MappingWrite:
    """One field value a response sets (None clears)."""

    field: FieldDef
    value: FieldValue


def parse_path(path: str) -> list[tuple[str, list[int]]] | None:
    """``a.b[0][1].c`` → ``[("a", []), ("b", [0, 1]), ("c", [])]``; None when malformed."""
    steps = []
    for part in path.strip().split("."):
        match = _STEP.fullmatch(part.strip())
        if match is None or (not match.group(1) and not match.group(2)):
            return None
        steps.append((match.group(1), [int(i) for i in _INDEX.findall(match.group(2))]))
    return steps


def json_lookup(document: object, path: str) -> object:
    """The value at ``path`` in a parsed JSON document, or `MISSING`."""
    steps = parse_path(path)
    if steps is None:
        return MISSING
    current = document
    for name, indexes in steps:
        if name:
            if not isinstance(current, dict) or name not in current:
                return MISSING
            current = current[name]
        for index in indexes:
            if not isinstance(current, list) or index >= len(current):
                return MISSING
            current = current[index]
    return current


def xml_lookup(root: ElementTree.Element, path: str) -> str | _Missing:
    """The text of the element at ``path`` (its first step names the root), or `MISSING`."""
    steps = parse_path(path)
    if not steps or not steps[0][0] or steps[0][0] != root.tag or steps[0][1] not in ([], [0]):
        return MISSING
    current = root
    for name, indexes in steps[1:]:
        if not name or len(indexes) > 1:
            return MISSING
        matches = [child for child in current if child.tag == name]
        index = indexes[0] if indexes else 0
        if index >= len(matches):
            return MISSING
        current = matches[index]
    return current.text or ""


def map_response(
    response_type: str,
    body: str,
    mappings: Sequence[tuple[str, str]],
    fields: FieldRegistry,
    zone: tzinfo,
) -> tuple[list[MappingWrite], list[str]]:
    """The writes a 2xx ``body`` calls for, and the MAPPING_TYPE warnings."""
    if response_type not in ("JSON", "XML") or not mappings:
        return [], []
    found: list[tuple[str, FieldDef, object]] = []
    problems: list[str] = []
    try:
        if response_type == "JSON":
            document = json.loads(body)
            values = [(path, json_lookup(document, path)) for path, _f in mappings]
        else:
            root = ElementTree.fromstring(body)
            values = [(path, xml_lookup(root, path)) for path, _f in mappings]
    except (ValueError, ElementTree.ParseError) as error:
        return [], [f"the response is not valid {response_type}: {error} (HOOK-6)"]
    for (path, value), (_path, name) in zip(values, mappings, strict=True):
        if value is MISSING:
            continue
        target = fields.get(name)
        if target is None or target.read_only or target.update_blocked:
            problems.append(f"{path!r} maps into {name!r}, which is not an updatable field")
            continue
        found.append((path, target, value))
    writes: list[MappingWrite] = []
    for path, target, value in found:
        try:
            if response_type == "JSON":
                converted = convert_json(target.data_type, value, zone)
            else:
                converted = convert_text(target.data_type, str(value), zone)
        except ValueConversionError as error:
            problems.append(f"{path!r} → {target.display_name}: {error} (HOOK-6)")
            continue
        if converted is UNCHANGED:
            continue
        if isinstance(converted, Directive):
            writes.append(MappingWrite(field=target, value=None))
        else:
            writes.append(MappingWrite(field=target, value=converted))
    return writes, problems
