"""The campaign call graph: Execute and Request Campaign edges between campaigns (VAL-7).

The validator builds it (``kampanj.definitions.validate.validate_with_graph``) while it
resolves step targets, so the graph and the findings never disagree; this module holds
the plain data and the walks every renderer needs. Cycles are possible after a forced
write (VAL-3), so every walk here terminates on cyclic graphs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from kampanj.model.campaigns import CampaignType
from kampanj.model.tree import FolderPath

__all__ = ["CallGraph", "CallKind", "GraphEdge", "GraphNode"]


class CallKind(StrEnum):
    """How a step calls another campaign."""

    EXECUTE = "execute"
    """Inline, in series; the child is one level below the caller (EXE-6, EXE-7)."""
    REQUEST = "request"
    """A new requested run of a trigger campaign, at level 0 (REQ-1)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class GraphNode:
    """One campaign of the graph."""

    index: int
    """Position in ``Definitions.campaigns``: the node's identity inside the graph."""
    id: int | None
    """Stored campaign id (None for definitions not written yet)."""
    name: str
    """Campaign name."""
    workspace: str
    """Owning workspace."""
    folder: FolderPath
    """Containing folder or program."""
    executable: bool
    """Runs only through Execute Campaign (EXE-1)."""
    type: CampaignType
    """trigger, batch or default (CMP-2)."""

    @property
    def path(self) -> str:
        """``Folder/…/Name``."""
        return "/".join((*self.folder, self.name))

    @property
    def kind(self) -> str:
        """``executable`` or the derived type."""
        return "executable" if self.executable else self.type.value


@dataclass(frozen=True, kw_only=True, slots=True)
class GraphEdge:
    """One call from a step (or one of its choices) of ``caller`` to ``target``."""

    kind: CallKind
    """Execute or Request Campaign."""
    caller: int
    """Index of the calling campaign."""
    target: int
    """Index of the called campaign."""
    step_id: str
    """Id of the calling step."""
    location: str
    """``flow.s2`` or ``flow.s2.choices[1]``."""
    use_parent_context: bool = False
    """Execute Campaign only: the child sees the caller's tokens (EXE-16)."""
    findings: tuple[str, ...] = ()
    """Codes of the findings reported on this call (EXE_CYCLE, EXE_DEPTH, …)."""
    valid: bool = True
    """False when the target cannot be called this way (EXE_TARGET, REQ_TARGET_INVALID)."""


@dataclass(frozen=True, slots=True)
class CallGraph:
    """Campaigns and the calls between them."""

    nodes: tuple[GraphNode, ...]
    """Every campaign of the definitions, by index."""
    edges: tuple[GraphEdge, ...]
    """Every call, in campaign order, then flow order."""
    _outgoing: dict[int, list[GraphEdge]] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        outgoing: dict[int, list[GraphEdge]] = defaultdict(list)
        for edge in self.edges:
            outgoing[edge.caller].append(edge)
        object.__setattr__(self, "_outgoing", dict(outgoing))

    def outgoing(self, node: int) -> Sequence[GraphEdge]:
        """Calls made by campaign ``node``, in flow order."""
        return self._outgoing.get(node, [])

    def connected(self) -> list[int]:
        """Indices of campaigns that call or are called, in campaign order."""
        touched = {e.caller for e in self.edges} | {e.target for e in self.edges}
        return sorted(touched)

    def roots(self, among: Iterable[int] | None = None) -> list[int]:
        """Where trees start: uncalled campaigns, and one node of each cycle nothing calls.

        Every node of ``among`` (default: the connected ones) is reachable from the
        result, which is in campaign order.
        """
        nodes = self.connected() if among is None else sorted(set(among))
        member = set(nodes)
        called = {e.target for e in self.edges if e.caller in member and e.caller != e.target}
        roots = [n for n in nodes if n not in called]
        seen = self.reachable(roots)
        for node in nodes:  # a cycle that no outside campaign calls
            if node not in seen:
                roots.append(node)
                seen |= self.reachable([node])
        return sorted(roots)

    def reachable(self, starts: Iterable[int]) -> set[int]:
        """Every node reachable from ``starts`` (included) over any kind of call."""
        seen: set[int] = set()
        stack = list(starts)
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(e.target for e in self.outgoing(node))
        return seen

    def restricted(self, start: int) -> CallGraph:
        """The part reachable from ``start``: same nodes, only the edges among them."""
        keep = self.reachable([start])
        return CallGraph(self.nodes, tuple(e for e in self.edges if e.caller in keep))

    def layers(self, roots: Sequence[int]) -> dict[int, int]:
        """A layer per node reachable from ``roots``: longest path from a root, back edges ignored.

        Used to draw the graph top-down; a node sits below every caller that is not part
        of a cycle through it.
        """
        order: list[int] = []  # reverse post-order of a depth-first search
        state: dict[int, int] = {}  # 1 = on the current path, 2 = done
        back: set[int] = set()  # id() of edges closing a cycle
        for root in roots:
            if root in state:
                continue
            stack: list[tuple[int, int]] = [(root, 0)]
            state[root] = 1
            while stack:
                node, position = stack[-1]
                edges = self.outgoing(node)
                if position < len(edges):
                    stack[-1] = (node, position + 1)
                    edge = edges[position]
                    if state.get(edge.target) == 1:
                        back.add(id(edge))
                    elif edge.target not in state:
                        state[edge.target] = 1
                        stack.append((edge.target, 0))
                else:
                    state[node] = 2
                    order.append(node)
                    stack.pop()
        layer = {node: 0 for node in order}
        for node in reversed(order):
            for edge in self.outgoing(node):
                if id(edge) not in back and edge.target in layer:
                    layer[edge.target] = max(layer[edge.target], layer[node] + 1)
        return layer

    def is_back_edge(self, edge: GraphEdge, layers: dict[int, int]) -> bool:
        """True for an edge that points up or sideways in ``layers`` (a cycle, drawn apart)."""
        return layers.get(edge.target, 0) <= layers.get(edge.caller, 0)
