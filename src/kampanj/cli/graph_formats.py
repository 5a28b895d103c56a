"""The call graph as a text tree, Graphviz DOT and JSON (VAL-7); SVG is in ``graph_svg``.

Every renderer takes a `CallGraph` plus the roots to start from and terminates on cyclic
graphs (possible after a forced write): an edge back into the current path is printed
as a cycle and not followed, and a campaign whose calls were already shown is not
expanded a second time.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from kampanj.model.call_graph import CallGraph, CallKind, GraphEdge, GraphNode

__all__ = ["edge_label", "edge_severity", "node_level", "to_dot", "to_json", "to_text"]

_ERROR_CODES_ON_EDGES = frozenset(
    {"EXE_CYCLE", "EXE_DEPTH", "EXE_TARGET", "REQ_TARGET_INVALID"}
)  # the rest (CHILD_SMART_LIST_INVALID, REQ_SOURCE, REQ_CYCLE) are warnings (VAL-5)


def edge_severity(edge: GraphEdge) -> str | None:
    """``error``, ``warning`` or None for an edge without findings."""
    if not edge.valid or any(code in _ERROR_CODES_ON_EDGES for code in edge.findings):
        return "error"
    return "warning" if edge.findings else None


def edge_label(edge: GraphEdge) -> str:
    """``s2 execute (parent context)``, ``s3.choices[1] request``."""
    where = edge.location.removeprefix("flow.")
    label = f"{where} {edge.kind.value}"
    if edge.kind is CallKind.EXECUTE and edge.use_parent_context:
        label += " (parent context)"
    return label


def node_level(node: GraphNode) -> int:
    """Level of a tree's root: 0, or 1 for an executable (it only ever runs as a child)."""
    return 1 if node.executable else 0


def _node_text(node: GraphNode) -> str:
    ident = f" #{node.id}" if node.id is not None else ""
    return f"{node.name} [{node.kind}]{ident}"


def to_text(graph: CallGraph, roots: Sequence[int]) -> list[str]:
    """One line per call, indented like a tree, with each campaign's level (EXE-7)."""
    lines: list[str] = []
    expanded: set[int] = set()

    def walk(node: int, level: int, prefix: str, path: list[int]) -> None:
        edges = graph.outgoing(node)
        expanded.add(node)
        for position, edge in enumerate(edges):
            last = position == len(edges) - 1
            branch, below = ("└─ ", "   ") if last else ("├─ ", "│  ")
            target = graph.nodes[edge.target]
            child_level = level + 1 if edge.kind is CallKind.EXECUTE else 0
            line = f"{prefix}{branch}{edge_label(edge)} → {_node_text(target)} L{child_level}"
            if edge.findings:
                line += "  " + " ".join(f"!{code}" for code in edge.findings)
            if edge.target in path:
                lines.append(f"{line}  ↻ cycle")
                continue
            if edge.target in expanded and graph.outgoing(edge.target):
                lines.append(f"{line}  (calls shown above)")
                continue
            lines.append(line)
            walk(edge.target, child_level, prefix + below, [*path, edge.target])

    for root in roots:
        node = graph.nodes[root]
        lines.append(f"{_node_text(node)} L{node_level(node)}  {'/'.join(node.folder)}".rstrip())
        walk(root, node_level(node), "", [root])
    return lines


def _dot_quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


def to_dot(graph: CallGraph, roots: Sequence[int]) -> str:
    """A Graphviz ``digraph``: execute edges solid, request edges dashed, findings in red."""
    shown = sorted(graph.reachable(roots))
    out = [
        "digraph kampanj {",
        "  rankdir=TB;",
        '  node [shape=box, style="rounded,filled", fillcolor=white, fontname="Helvetica"];',
        '  edge [fontname="Helvetica", fontsize=10];',
    ]
    for index in shown:
        node = graph.nodes[index]
        fill = ', fillcolor="#eef3fb"' if node.executable else ""
        label = f"{node.name}\n{node.kind}" + (f" #{node.id}" if node.id is not None else "")
        out.append(f"  c{index} [label={_dot_quote(label)}{fill}];")
    for index in shown:
        for edge in graph.outgoing(index):
            attributes = [f"label={_dot_quote(_edge_text(edge))}"]
            if edge.kind is CallKind.REQUEST:
                attributes.append("style=dashed")
            severity = edge_severity(edge)
            if severity is not None:
                color = "red" if severity == "error" else "darkorange"
                attributes += [f"color={color}", f"fontcolor={color}"]
            out.append(f"  c{edge.caller} -> c{edge.target} [{', '.join(attributes)}];")
    out.append("}")
    return "\n".join(out) + "\n"


def _edge_text(edge: GraphEdge) -> str:
    return "\n".join([edge_label(edge), *edge.findings])


def to_json(graph: CallGraph, roots: Sequence[int]) -> dict[str, Any]:
    """``{"roots": [ids], "nodes": [...], "edges": [...]}`` of the part reachable from roots."""
    shown = sorted(graph.reachable(roots))
    nodes = [graph.nodes[i] for i in shown]
    return {
        "roots": [graph.nodes[r].id for r in roots],
        "nodes": [
            {
                "id": n.id,
                "name": n.name,
                "workspace": n.workspace,
                "folder": "/".join(n.folder),
                "type": n.type.value,
                "executable": n.executable,
            }
            for n in nodes
        ],
        "edges": [
            {
                "kind": e.kind.value,
                "callerId": graph.nodes[e.caller].id,
                "caller": graph.nodes[e.caller].name,
                "targetId": graph.nodes[e.target].id,
                "target": graph.nodes[e.target].name,
                "stepId": e.step_id,
                "location": e.location,
                "useParentContext": e.use_parent_context,
                "valid": e.valid,
                "findings": list(e.findings),
            }
            for i in shown
            for e in graph.outgoing(i)
        ],
    }
