"""A self-contained SVG drawing of the call graph: layered, top-down, no Graphviz needed.

Layout: each campaign sits on the layer of its longest call path from a root (edges
closing a cycle are ignored for that, `CallGraph.layers`); inside a layer, campaigns are
ordered by the mean position of their callers (one barycentre sweep), and every layer is
centred. Forward calls are straight arrows, calls back up or sideways (cycles) are
curves on the right, self-calls are small loops.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from kampanj.cli.graph_formats import edge_label, edge_severity
from kampanj.model.call_graph import CallGraph, CallKind, GraphEdge, GraphNode

__all__ = ["to_svg"]

_CHAR_WIDTH = 7.2  # average advance of the 12 px sans-serif font, for box widths
_NODE_HEIGHT = 44
_MIN_NODE_WIDTH = 110
_H_GAP = 48
_V_GAP = 96
_MARGIN = 24
_LOOP_ROOM = 110.0  # right of a self-calling node: its loop and label
_COLOURS = {None: "#333333", "warning": "#d97706", "error": "#dc2626"}


@dataclass(frozen=True, slots=True)
class _Box:
    x: float
    y: float
    width: float
    reserve: float = 0.0
    """Free space kept on the right (for a self-call loop)."""

    @property
    def centre(self) -> float:
        return self.x + self.width / 2


def to_svg(graph: CallGraph, roots: Sequence[int]) -> str:
    """The part of ``graph`` reachable from ``roots`` as an SVG document."""
    layers = graph.layers(roots)
    rows = _ordered_rows(graph, roots, layers)
    boxes = _place(graph, rows)
    edges = [e for n in sorted(boxes) for e in graph.outgoing(n) if e.target in boxes]
    ports = _ports(graph, edges, boxes, layers)
    # Calls back up (cycles) run down the right-hand side, one lane each.
    right = max((b.x + b.width + b.reserve for b in boxes.values()), default=0.0)
    lanes = [e for e in edges if e.caller != e.target and graph.is_back_edge(e, layers)]
    lane_of = {id(e): right + 40 + 22 * i for i, e in enumerate(lanes)}
    drawn = [_edge(e, boxes, ports, lane_of.get(id(e)), graph) for e in edges]
    label_right = max((x for _, x in drawn), default=0.0)
    width = max(right + 40 + 22 * len(lanes), label_right) + _MARGIN
    height = _MARGIN * 2 + len(rows) * _NODE_HEIGHT + max(len(rows) - 1, 0) * _V_GAP
    return (
        "\n".join(
            [
                f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" '
                f'height="{height:.0f}" viewBox="0 0 {width:.0f} {height:.0f}" '
                'font-family="Helvetica, Arial, sans-serif" font-size="12">',
                "<title>kampanj call graph</title>",
                _markers(),
                '<rect width="100%" height="100%" fill="white"/>',
                *(svg for svg, _ in drawn),
                *(_node(graph.nodes[n], box) for n, box in sorted(boxes.items())),
                "</svg>",
            ]
        )
        + "\n"
    )


def _place(graph: CallGraph, rows: list[list[int]]) -> dict[int, _Box]:
    """Boxes of every node, each row centred; a self-calling node keeps room for its loop."""
    loops = {e.caller for row in rows for n in row for e in graph.outgoing(n) if e.target == n}
    slots = {
        n: (_node_width(graph.nodes[n]), _LOOP_ROOM if n in loops else 0.0)
        for row in rows
        for n in row
    }
    row_widths = [
        sum(w + r for w, r in (slots[n] for n in row)) + _H_GAP * (len(row) - 1) for row in rows
    ]
    widest = max(row_widths, default=0.0)
    boxes: dict[int, _Box] = {}
    for depth, row in enumerate(rows):
        x = _MARGIN + (widest - row_widths[depth]) / 2
        y = _MARGIN + depth * (_NODE_HEIGHT + _V_GAP)
        for node in row:
            width, reserve = slots[node]
            boxes[node] = _Box(x, y, width, reserve)
            x += width + reserve + _H_GAP
    return boxes


def _ports(
    graph: CallGraph,
    edges: Sequence[GraphEdge],
    boxes: dict[int, _Box],
    layers: dict[int, int],
) -> dict[int, tuple[float, float, float]]:
    """Per downward edge: (x leaving the caller, x entering the target, label position 0-1).

    Edges leave a box's bottom and enter a box's top spread out in the order of the
    box at the other end, so parallel calls (choices) and fans do not overlap.
    """
    down = [e for e in edges if not graph.is_back_edge(e, layers)]
    leaving: dict[int, list[GraphEdge]] = defaultdict(list)
    entering: dict[int, list[GraphEdge]] = defaultdict(list)
    for edge in down:
        leaving[edge.caller].append(edge)
        entering[edge.target].append(edge)
    out_x: dict[int, float] = {}
    out_t: dict[int, float] = {}
    for node, group in leaving.items():
        group.sort(key=lambda e: boxes[e.target].centre)
        for i, edge in enumerate(group):
            out_x[id(edge)] = _spread(boxes[node], i, len(group))
            out_t[id(edge)] = 0.3 + 0.4 * (i / (len(group) - 1) if len(group) > 1 else 0.5)
    ports: dict[int, tuple[float, float, float]] = {}
    for node, group in entering.items():
        group.sort(key=lambda e: out_x[id(e)])
        for i, edge in enumerate(group):
            ports[id(edge)] = (
                out_x[id(edge)],
                _spread(boxes[node], i, len(group)),
                out_t[id(edge)],
            )
    return ports


def _spread(box: _Box, index: int, count: int) -> float:
    usable = box.width * 0.7
    return box.centre - usable / 2 + usable * (index + 1) / (count + 1)


def _ordered_rows(
    graph: CallGraph, roots: Sequence[int], layers: dict[int, int]
) -> list[list[int]]:
    """Nodes per layer: discovery order first, then sorted by their callers' positions."""
    discovered: list[int] = []
    seen: set[int] = set()
    stack = list(reversed(roots))
    while stack:
        node = stack.pop()
        if node in seen:
            continue
        seen.add(node)
        discovered.append(node)
        stack.extend(reversed([e.target for e in graph.outgoing(node)]))
    rows: list[list[int]] = [[] for _ in range(max(layers.values(), default=-1) + 1)]
    for node in discovered:
        rows[layers[node]].append(node)
    callers: dict[int, list[int]] = defaultdict(list)
    for node in discovered:
        for edge in graph.outgoing(node):
            if layers[edge.target] > layers[node]:
                callers[edge.target].append(node)
    for depth in range(1, len(rows)):
        position = {n: i for row in rows[:depth] for i, n in enumerate(row)}
        keys: dict[int, tuple[float, int]] = {}
        for index, node in enumerate(rows[depth]):
            placed = [position[c] for c in callers[node] if c in position]
            keys[node] = (sum(placed) / len(placed) if placed else float(index), index)
        rows[depth].sort(key=keys.__getitem__)
    return rows


def _node_width(node: GraphNode) -> float:
    longest = max(len(node.name), len(_subtitle(node)))
    return max(_MIN_NODE_WIDTH, longest * _CHAR_WIDTH + 24)


def _subtitle(node: GraphNode) -> str:
    return node.kind + (f" · #{node.id}" if node.id is not None else "")


def _node(node: GraphNode, box: _Box) -> str:
    fill = "#eef3fb" if node.executable else "#ffffff"
    title = "/".join((node.workspace, *node.folder, node.name))
    return (
        f'<g class="node"><title>{escape(title)}</title>'
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{_NODE_HEIGHT}" rx="8" fill="{fill}" stroke="#333333"/>'
        f'<text x="{box.centre:.1f}" y="{box.y + 18:.1f}" text-anchor="middle" '
        f'font-weight="bold">{escape(node.name)}</text>'
        f'<text x="{box.centre:.1f}" y="{box.y + 34:.1f}" text-anchor="middle" '
        f'fill="#555555" font-size="11">{escape(_subtitle(node))}</text></g>'
    )


def _edge(
    edge: GraphEdge,
    boxes: dict[int, _Box],
    ports: dict[int, tuple[float, float, float]],
    lane: float | None,
    graph: CallGraph,
) -> tuple[str, float]:
    """The edge's SVG group and the right-most x its label reaches."""
    severity = edge_severity(edge)
    colour = _COLOURS[severity]
    source, target = boxes[edge.caller], boxes[edge.target]
    if edge.caller == edge.target:
        right = source.x + source.width
        top, low = source.y + 10, source.y + _NODE_HEIGHT - 10
        path = (
            f"M {right:.1f} {top:.1f} C {right + 34:.1f} {top - 14:.1f}, "
            f"{right + 34:.1f} {low + 14:.1f}, {right:.1f} {low:.1f}"
        )
        label_x, label_y = right + 30, source.y - 4
    elif lane is not None:
        # Out of the caller's bottom, along the gap below its row to the lane, up the
        # lane, along the gap above the target's row, into the target's top: the
        # horizontal runs stay between rows, so they cross no box.
        below = source.y + _NODE_HEIGHT + 14
        above = target.y - 14
        start_x, end_x = source.x + source.width * 0.85, target.x + target.width * 0.85
        path = (
            f"M {start_x:.1f} {source.y + _NODE_HEIGHT:.1f} L {start_x:.1f} {below:.1f} "
            f"L {lane:.1f} {below:.1f} L {lane:.1f} {above:.1f} "
            f"L {end_x:.1f} {above:.1f} L {end_x:.1f} {target.y:.1f}"
        )
        label_x, label_y = lane + 6, (below + above) / 2
    else:
        start_x, end_x, t = ports[id(edge)]
        bottom = source.y + _NODE_HEIGHT
        path = f"M {start_x:.1f} {bottom:.1f} L {end_x:.1f} {target.y:.1f}"
        label_x = start_x + (end_x - start_x) * t + 6
        label_y = bottom + (target.y - bottom) * t
    lines = [edge_label(edge), *edge.findings]
    label = "".join(
        f'<tspan x="{label_x:.1f}" dy="{0 if i == 0 else 13}">{escape(text)}</tspan>'
        for i, text in enumerate(lines)
    )
    caller, callee = graph.nodes[edge.caller].name, graph.nodes[edge.target].name
    title = escape(f"{caller} → {callee}: {' '.join(lines)}")
    dash = ' stroke-dasharray="6 4"' if edge.kind is CallKind.REQUEST else ""
    svg = (
        f'<g class="edge {edge.kind.value}"><title>{title}</title>'
        f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="1.4"{dash} '
        f'marker-end="url(#arrow-{severity or "plain"})"/>'
        f'<text x="{label_x:.1f}" y="{label_y:.1f}" font-size="10" fill="{colour}" '
        f'stroke="white" stroke-width="3" paint-order="stroke">{label}</text></g>'
    )
    return svg, label_x + max(len(text) for text in lines) * _CHAR_WIDTH * 10 / 12


def _markers() -> str:
    defs = []
    for severity, colour in _COLOURS.items():
        name = severity or "plain"
        defs.append(
            f'<marker id="arrow-{name}" viewBox="0 0 10 10" refX="10" refY="5" '
            'markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
            f'<path d="M 0 0 L 10 5 L 0 10 z" fill="{colour}"/></marker>'
        )
    return "<defs>" + "".join(defs) + "</defs>"
