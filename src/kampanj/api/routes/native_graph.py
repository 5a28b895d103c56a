"""``GET /kampanj/v1/graph`` (NAT-1, VAL-7): the Execute / Request Campaign call graph."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from kampanj.api.envelope import OBJECT_NOT_FOUND, ApiError, Reply, success_body
from kampanj.api.security import Reader
from kampanj.cli.graph_formats import to_json
from kampanj.definitions.validate import validate_with_graph
from kampanj.store.definitions_repo import read_definitions

router = APIRouter(prefix="/kampanj/v1", tags=["native"])


@router.get("/graph")
def get_graph(caller: Reader, campaign: Annotated[int | None, Query()] = None) -> dict[str, Any]:
    """From one campaign, or from every root campaign the caller reaches: ``{roots, nodes,
    edges}`` with each node's level and the findings on each edge (as `kampanj graph --json`)."""
    with caller.context.database.read() as connection:
        definitions = read_definitions(connection)
    _, graph = validate_with_graph(definitions)
    if campaign is not None:
        index = next((i for i, c in enumerate(definitions.campaigns) if c.id == campaign), None)
        if index is None:
            raise ApiError(OBJECT_NOT_FOUND, f"Campaign {campaign} not found")
        caller.check_workspace(definitions.campaigns[index].workspace, f"campaign {campaign}")
        roots = [index]
    else:
        reachable = [n for n in graph.connected() if caller.user.reaches(graph.nodes[n].workspace)]
        roots = graph.roots(reachable)
    return success_body(Reply(result=[to_json(graph, roots)]))
