"""YAML text → plain Python data plus the file position of every key and item.

PyYAML's composer gives nodes with marks; we build the data from the nodes ourselves so
every mapping key and sequence item keeps its 1-based (line, column). Timestamps stay
text (the document layer parses them), duplicate keys are findings rather than silent
overwrites, and a syntax error becomes one ``YAML_INVALID`` finding with its line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from kampanj.definitions.findings import Finding, Severity

try:  # the C loader is much faster on large workspaces
    from yaml import CSafeLoader as _Loader
except ImportError:  # pragma: no cover - depends on how PyYAML was built
    from yaml import SafeLoader as _Loader  # type: ignore[assignment]

DataPath = tuple[str | int, ...]
"""Keys and indices from the document root down to a value."""

_TIMESTAMP_TAG = "tag:yaml.org,2002:timestamp"
_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass(frozen=True, kw_only=True, slots=True)
class YamlDocument:
    """One YAML document: its data and where each part of it was written."""

    file: str
    """File the document came from."""
    data: Any
    """Plain data: dicts, lists, str, int, float, bool, None."""
    positions: Mapping[DataPath, tuple[int, int]] = field(default_factory=dict)
    """(line, column), 1-based, of every mapping key and sequence item; ``()`` is the root."""

    def position(self, path: DataPath) -> tuple[int, int] | None:
        """Where ``path`` (or its nearest recorded ancestor) was written."""
        probe = tuple(path)
        while True:
            found = self.positions.get(probe)
            if found is not None:
                return found
            if not probe:
                return None
            probe = probe[:-1]


@dataclass(frozen=True, kw_only=True, slots=True)
class YamlLoadResult:
    """Documents of one file plus syntax and duplicate-key findings."""

    documents: tuple[YamlDocument, ...]
    findings: tuple[Finding, ...]


class _Builder:
    """Turns a composed node tree into data, recording positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.positions: dict[DataPath, tuple[int, int]] = {}
        self.findings: list[Finding] = []
        self._scalars = SafeConstructor()

    def build(self, node: Node, path: DataPath) -> Any:
        if isinstance(node, ScalarNode):
            if "\x00" in node.value:
                # No database stores NUL in text (PostgreSQL refuses it), so it is a finding
                # here, and the value is kept without it in case --force writes anyway.
                self._error(node, "a NUL character (\\0) cannot be stored; remove it")
                node = ScalarNode(node.tag, node.value.replace("\x00", ""), node.start_mark)
            if node.tag == _TIMESTAMP_TAG:
                return node.value
            return self._scalars.construct_object(node)
        if isinstance(node, SequenceNode):
            items = []
            for index, child in enumerate(node.value):
                self._mark((*path, index), child)
                items.append(self.build(child, (*path, index)))
            return items
        if isinstance(node, MappingNode):
            return self._mapping(node, path)
        raise TypeError(f"unexpected YAML node {node!r}")  # pragma: no cover

    def _mapping(self, node: MappingNode, path: DataPath) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        merged: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                merged.update(self._merge_source(value_node, path))
                continue
            key = self.build(key_node, path)
            if isinstance(key, list | dict):
                self._error(key_node, "mapping keys must be plain values, not lists or mappings")
                continue
            if key in result:
                line, _ = self.positions.get((*path, key), (0, 0))
                self._error(
                    key_node,
                    f"duplicate key {key!r} (first written on line {line}); keep one of them",
                    code="YAML_DUPLICATE_KEY",
                )
                continue
            self._mark((*path, key), key_node)
            result[key] = self.build(value_node, (*path, key))
        return {**merged, **result}

    def _merge_source(self, node: Node, path: DataPath) -> dict[Any, Any]:
        sources = node.value if isinstance(node, SequenceNode) else [node]
        merged: dict[Any, Any] = {}
        for source in reversed(sources):
            value = self.build(source, path)
            if isinstance(value, dict):
                merged.update(value)
            else:
                self._error(source, "'<<' merges need a mapping or a list of mappings")
        return merged

    def _mark(self, path: DataPath, node: Node) -> None:
        self.positions[path] = (node.start_mark.line + 1, node.start_mark.column + 1)

    def _error(self, node: Node, message: str, *, code: str = "YAML_INVALID") -> None:
        self.findings.append(
            Finding(
                code=code,
                severity=Severity.ERROR,
                message=message,
                file=self.file,
                line=node.start_mark.line + 1,
                column=node.start_mark.column + 1,
            )
        )


def load_yaml(text: str, file: str = "<string>") -> YamlLoadResult:
    """Parse every document of ``text``; syntax errors become findings, never exceptions."""
    try:
        nodes = list(yaml.compose_all(text, Loader=_Loader))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        problem = error.problem or "invalid YAML"
        context = f" {error.context}" if error.context else ""
        message = f"YAML syntax error: {problem}{context}; fix the syntax"
        return _unreadable(message, file, mark)
    except yaml.YAMLError as error:
        return _unreadable(f"YAML error: {error}", file, None)
    documents: list[YamlDocument] = []
    findings: list[Finding] = []
    for node in nodes:
        if node is None:
            continue
        builder = _Builder(file)
        builder.positions[()] = (node.start_mark.line + 1, node.start_mark.column + 1)
        data = builder.build(node, ())
        documents.append(YamlDocument(file=file, data=data, positions=builder.positions))
        findings.extend(builder.findings)
    return YamlLoadResult(documents=tuple(documents), findings=tuple(findings))


def _unreadable(message: str, file: str, mark: yaml.Mark | None) -> YamlLoadResult:
    """A file that does not parse: one ``YAML_INVALID`` finding, no documents."""
    finding = Finding(
        code="YAML_INVALID",
        severity=Severity.ERROR,
        message=message,
        file=file,
        line=mark.line + 1 if mark else None,
        column=mark.column + 1 if mark else None,
    )
    return YamlLoadResult(documents=(), findings=(finding,))
