"""Execute / Request Campaign call graphs: cycles, depth, invalid children (EXE-15/24, REQ-13).

The edges are collected while flows are checked (``step_params``); ``build_call_graph``
turns them into the `CallGraph` that ``kampanj graph`` draws, so both see one graph.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from kampanj.definitions.validation.context import CallEdge, Context, Scope
from kampanj.definitions.validation.cycles import find_cycles
from kampanj.model.call_graph import CallGraph, CallKind, GraphEdge, GraphNode
from kampanj.model.campaigns import Campaign

__all__ = ["build_call_graph", "check_execute_graph", "check_request_graph"]


def check_execute_graph(ctx: Context) -> None:
    """EXE-15: cycles and paths deeper than maxExecuteDepth; EXE-24 child warnings."""
    outgoing = _outgoing(ctx.execute_edges)
    for cycle, edge in _cycles(ctx, outgoing):
        ids, names = _path(ctx, cycle)
        _add_graph(
            ctx,
            "EXE_CYCLE",
            f"Execute Campaign cycle {names}; executables cannot call "
            "themselves, directly or indirectly (EXE-15)",
            edge,
            ids,
        )
    reported_depth: set[tuple[int, ...]] = set()

    def descend(chain: list[int], start_level: int) -> None:
        for edge in outgoing.get(chain[-1], []):
            if edge.target in chain:
                continue
            path = [*chain, edge.target]
            level = start_level + len(path) - 1
            if level > ctx.max_depth:
                if tuple(path) not in reported_depth:
                    reported_depth.add(tuple(path))
                    ids, names = _path(ctx, path)
                    where = (
                        ""
                        if start_level == 0
                        else f"; {ctx.d.campaigns[path[0]].name} is executable, so it runs "
                        "at level 1 at least"
                    )
                    _add_graph(
                        ctx,
                        "EXE_DEPTH",
                        f"Execute Campaign chain {names} reaches level {level}{where}; at "
                        f"most {ctx.max_depth} levels are allowed (Parent > Child > Child > "
                        "Child, EXE-15); use Request Campaign for deeper work",
                        edge,
                        ids,
                        top=ctx.d.campaigns[path[0]],
                    )
                continue
            descend(path, start_level)

    # Tops: every campaign that is not executable (level 0), and every executable nothing
    # calls — it can only ever run as a child, so at level 1 or deeper.
    called = {edge.target for edge in ctx.execute_edges}
    for index, campaign in enumerate(ctx.d.campaigns):
        if campaign.executable and index in called:
            continue
        descend([index], 1 if campaign.executable else 0)
        _child_warnings(ctx, index, outgoing)


def check_request_graph(ctx: Context) -> None:
    """REQ-13: cycles of Request Campaign edges are warnings."""
    for cycle, edge in _cycles(ctx, _outgoing(ctx.request_edges)):
        ids, names = _path(ctx, cycle)
        _add_graph(
            ctx,
            "REQ_CYCLE",
            f"Request Campaign cycle {names}; each request starts a new run, "
            "so this may loop (REQ-13)",
            edge,
            ids,
        )


def _child_warnings(ctx: Context, top: int, outgoing: dict[int, list[CallEdge]]) -> None:
    seen = {top}
    queue = [top]
    while queue:
        node = queue.pop(0)
        for edge in outgoing.get(node, []):
            if edge.target in seen:
                continue
            seen.add(edge.target)
            queue.append(edge.target)
            if edge.target in ctx.campaign_rules_invalid:
                child = ctx.d.campaigns[edge.target]
                caller = ctx.d.campaigns[edge.caller]
                _add_graph(
                    ctx,
                    "CHILD_SMART_LIST_INVALID",
                    f"{caller.name} calls executable {child.name!r}, whose smart list is "
                    "invalid, so it qualifies nobody (EXE-12, EXE-24); fix its filters",
                    edge,
                    (),
                    top=ctx.d.campaigns[top],
                )


def _add_graph(
    ctx: Context,
    code: str,
    message: str,
    edge: CallEdge,
    ids: tuple[int, ...],
    *,
    top: Campaign | None = None,
) -> None:
    """A finding at the calling step; ``ids`` becomes its campaign path when known."""
    caller = ctx.d.campaigns[edge.caller]
    occurrence = ctx.campaign_occurrence(edge.caller)
    scope = Scope(obj=caller, campaign=top if top is not None else caller, occurrence=occurrence)
    before = len(ctx.findings)
    ctx.add(code, message, scope, edge.location)
    if code not in edge.findings:
        edge.findings.append(code)
    if ids:
        finding = ctx.findings[before]
        ctx.findings[before] = replace(finding, path=ids)


def _path(ctx: Context, indices: Sequence[int]) -> tuple[tuple[int, ...], str]:
    campaigns = [ctx.d.campaigns[i] for i in indices]
    ids = tuple(c.id for c in campaigns if c.id is not None)
    names = " → ".join(c.name for c in campaigns)
    return (ids if len(ids) == len(campaigns) else ()), names


def _outgoing(edges: Iterable[CallEdge]) -> dict[int, list[CallEdge]]:
    """Campaign-call edges grouped by the calling campaign's index."""
    outgoing: dict[int, list[CallEdge]] = defaultdict(list)
    for edge in edges:
        outgoing[edge.caller].append(edge)
    return outgoing


def _cycles(ctx: Context, outgoing: dict[int, list[CallEdge]]) -> list[tuple[list[int], CallEdge]]:
    return find_cycles(
        range(len(ctx.d.campaigns)),
        lambda node: [(edge.target, edge) for edge in outgoing.get(node, [])],
    )


def build_call_graph(ctx: Context) -> CallGraph:
    """The Execute / Request graph of a finished validation run, findings on its edges."""
    nodes = tuple(
        GraphNode(
            index=index,
            id=campaign.id,
            name=campaign.name,
            workspace=campaign.workspace,
            folder=campaign.folder,
            executable=campaign.executable,
            type=campaign.type,
        )
        for index, campaign in enumerate(ctx.d.campaigns)
    )
    groups = (
        (CallKind.EXECUTE, ctx.execute_edges, True),
        (CallKind.EXECUTE, ctx.rejected_execute_edges, False),
        (CallKind.REQUEST, ctx.request_edges, True),
        (CallKind.REQUEST, ctx.rejected_request_edges, False),
    )
    edges = [
        GraphEdge(
            kind=kind,
            caller=edge.caller,
            target=edge.target,
            step_id=edge.step_id,
            location=edge.location,
            use_parent_context=edge.use_parent_context and kind is CallKind.EXECUTE,
            findings=tuple(edge.findings),
            valid=valid,
        )
        for kind, collected, valid in groups
        for edge in collected
    ]
    # Campaign order, then flow order; choices keep the order they were checked in.
    order = {id(e): n for n, e in enumerate(edges)}
    edges.sort(key=lambda e: (e.caller, _step_position(ctx, e), order[id(e)]))
    return CallGraph(nodes, tuple(edges))


def _step_position(ctx: Context, edge: GraphEdge) -> int:
    for position, step in enumerate(ctx.d.campaigns[edge.caller].flow):
        if step.id == edge.step_id:
            return position
    return 0
