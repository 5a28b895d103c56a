"""Cycle search shared by Member of Smart List references and campaign calls."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from typing import TypeVar

__all__ = ["find_cycles"]

N = TypeVar("N", bound=Hashable)
E = TypeVar("E")


def find_cycles(
    nodes: Iterable[N], successors: Callable[[N], Iterable[tuple[N, E]]]
) -> list[tuple[list[N], E]]:
    """Each cycle once (by its set of nodes), with the edge that closes it.

    A cycle lists the nodes from where it starts back to that same node; nodes are
    searched depth-first in the order given, so findings come out in a stable order.
    """
    found: list[tuple[list[N], E]] = []
    reported: set[frozenset[N]] = set()
    state: dict[N, int] = {}  # 1 = on the current path, 2 = finished

    def visit(node: N, stack: list[N]) -> None:
        state[node] = 1
        stack.append(node)
        for target, edge in successors(node):
            if state.get(target) == 1:
                cycle = [*stack[stack.index(target) :], target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    found.append((cycle, edge))
            elif state.get(target) is None:
                visit(target, stack)
        stack.pop()
        state[node] = 2

    for node in nodes:
        if node not in state:
            visit(node, [])
    return found
