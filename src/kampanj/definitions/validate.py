"""The validator behind ``kampanj lint`` and every definition write (VAL-1..VAL-5).

``validate`` looks at a complete state — the caller merges stored and incoming
definitions first — and returns every problem it finds, never stopping at the first.
Each finding has a VAL-5 code (plus ``DUPLICATE_NAME``, ``DUPLICATE_KEY``, a few shape
codes where VAL-5 has none, and the ``TOKEN_TYPE_MISMATCH`` warning for token values a
step will refuse at run time, FLOW-5/6), the campaign, a location inside the object in
finding vocabulary (``smartList.filters[3]``, ``flow.s2.choices[1]``), a message that
says what to change, and the file and line when a ``SourceMap`` is given.

The checks live in ``kampanj.definitions.validation``, one module per concern; this
module runs them in order.
"""

from __future__ import annotations

from collections.abc import Iterable

from kampanj.definitions.findings import Finding
from kampanj.definitions.sources import SourceMap
from kampanj.definitions.validation.account import (
    check_activity_types,
    check_channels,
    check_fields,
    check_settings,
    check_webhooks,
)
from kampanj.definitions.validation.assets import check_assets
from kampanj.definitions.validation.call_graph import (
    build_call_graph,
    check_execute_graph,
    check_request_graph,
)
from kampanj.definitions.validation.campaigns import check_campaign
from kampanj.definitions.validation.context import WARNING_CODES, Context
from kampanj.definitions.validation.names import check_duplicate_keys
from kampanj.definitions.validation.smart_lists import check_smart_lists
from kampanj.definitions.validation.token_types import check_token_types
from kampanj.definitions.validation.tokens import check_tokens
from kampanj.definitions.validation.tree import check_tree
from kampanj.model.account import Definitions
from kampanj.model.activities import ActivityTypeDef
from kampanj.model.call_graph import CallGraph
from kampanj.model.fields import FieldDef

__all__ = ["WARNING_CODES", "validate", "validate_with_graph"]


def validate(
    definitions: Definitions,
    *,
    sources: SourceMap | None = None,
    stored_fields: Iterable[FieldDef] = (),
    stored_activity_types: Iterable[ActivityTypeDef] = (),
) -> list[Finding]:
    """Every problem in ``definitions``, sorted by file and line (VAL-2).

    ``stored_fields`` / ``stored_activity_types`` are custom ones that exist in the
    database but are not part of ``definitions`` (they resolve references and take part
    in name clashes); pass nothing when ``definitions`` is already the merged state.
    """
    findings, _ = validate_with_graph(
        definitions,
        sources=sources,
        stored_fields=stored_fields,
        stored_activity_types=stored_activity_types,
    )
    return findings


def validate_with_graph(
    definitions: Definitions,
    *,
    sources: SourceMap | None = None,
    stored_fields: Iterable[FieldDef] = (),
    stored_activity_types: Iterable[ActivityTypeDef] = (),
) -> tuple[list[Finding], CallGraph]:
    """`validate`, plus the Execute / Request call graph it checked (VAL-7)."""
    ctx = Context(definitions, sources, tuple(stored_fields), tuple(stored_activity_types))
    check_settings(ctx)
    check_fields(ctx)
    check_activity_types(ctx)
    check_channels(ctx)
    check_webhooks(ctx)
    check_tree(ctx)
    check_tokens(ctx)
    check_assets(ctx)
    # Stand-alone smart lists first: campaigns need to know which of them are invalid.
    check_smart_lists(ctx)
    for index, campaign in enumerate(definitions.campaigns):
        check_campaign(ctx, index, campaign)
    check_duplicate_keys(ctx, definitions.campaigns, "campaign")
    # Call graphs last: campaign checks collect the edges and invalid smart lists.
    check_execute_graph(ctx)
    check_request_graph(ctx)
    # Needs the Execute graph: a child's My Tokens may come from its callers (TOK-21).
    check_token_types(ctx)
    return sorted(ctx.findings, key=Finding.sort_key), build_call_graph(ctx)
