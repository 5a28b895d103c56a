"""Counting and listing smart-list members against a database (SL-7)."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from sqlalchemy import Connection, text

from kampanj.clock import Clock
from kampanj.errors import UserError
from kampanj.ingest.account import account_zone
from kampanj.model.account import Definitions
from kampanj.model.smartlists import SmartList
from kampanj.smartlist.catalogue import Catalogue, match_key
from kampanj.smartlist.compiler import CompiledSmartList, compile_rules, count_query, members_query
from kampanj.smartlist.conditions import Moment
from kampanj.smartlist.context import CompileContext, References
from kampanj.store.registry import load_activity_types, load_field_registry, person_table
from kampanj.store.repositories.reading import read_definitions

DEFAULT_WORKSPACE = "Default"


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedSmartList:
    """A stored smart list compiled against the database's registries and the clock."""

    smart_list: SmartList
    """The definition."""
    context: CompileContext
    """What it was compiled with."""
    compiled: CompiledSmartList
    """Its SQL (``false`` when invalid)."""


def compile_context(
    connection: Connection, clock: Clock, *, workspace: str, definitions: Definitions
) -> CompileContext:
    """A context reading the stored registries, account zone and assets."""
    fields = load_field_registry(connection)
    return CompileContext(
        catalogue=Catalogue.shared(fields, load_activity_types(connection)),
        person=person_table(fields),
        moment=Moment(now=clock.now(), zone=account_zone(connection)),
        workspace=workspace,
        references=References.from_definitions(definitions),
    )


def find_smart_list(definitions: Definitions, workspace: str, name: str) -> SmartList:
    """The stand-alone smart list ``name`` in ``workspace``; a `UserError` lists close names."""
    candidates = [
        s for s in definitions.smart_lists if match_key(s.workspace) == match_key(workspace)
    ]
    for smart in candidates:
        if match_key(smart.name) == match_key(name):
            return smart
    names = [s.name for s in candidates]
    close = difflib.get_close_matches(name, names, n=3, cutoff=0.5) or difflib.get_close_matches(
        name.casefold(), [n.casefold() for n in names], n=3, cutoff=0.5
    )
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    if not names:
        hint = f"; workspace {workspace!r} has no smart lists yet"
    raise UserError(f"there is no smart list named {name!r} in workspace {workspace!r}{hint}")


def load_smart_list(
    connection: Connection, clock: Clock, name: str, *, workspace: str = DEFAULT_WORKSPACE
) -> LoadedSmartList:
    """Read, find and compile a stored smart list."""
    definitions = read_definitions(connection)
    smart = find_smart_list(definitions, workspace, name)
    context = compile_context(
        connection, clock, workspace=smart.workspace, definitions=definitions
    ).inside(smart.name)
    return LoadedSmartList(
        smart_list=smart, context=context, compiled=compile_rules(smart.rules, context)
    )


SET_QUERY_WORK_MEM = "64MB"


def prepare_set_query(connection: Connection) -> None:
    """Session settings for a whole-database smart-list query, for this transaction only.

    On PostgreSQL: no JIT — its cost-based trigger fires on the large estimates of these
    queries and compiling took 0.3–0.9 s per count in the benchmark, more than it saved;
    enough ``work_mem`` that a grouped list or ``IN`` list of a few hundred thousand person
    ids is sorted or hashed in memory; no parallel workers — a parallel scan of ``person``
    makes every worker build each ``IN`` list again (measured 3.5 s against 2.3 s serial);
    and no hash joins or hash aggregation, so that person sets are sorted by person id,
    grouped in that order and merged with ``person`` in its primary-key order: every access
    is sequential, where probing hash tables of a few hundred thousand ids is a cache miss
    per row (the benchmark's count: 0.7 s of backend CPU against 1.0 s, see
    docs/performance.md). ``IN`` lists that stay under an ``OR`` with person conditions are
    still hashed subplans; the planner still probes ``person`` by key for small sets.
    SQLite needs nothing.
    """
    if connection.dialect.name == "postgresql":
        connection.execute(text("SET LOCAL jit = off"))
        connection.execute(text(f"SET LOCAL work_mem = '{SET_QUERY_WORK_MEM}'"))
        connection.execute(text("SET LOCAL max_parallel_workers_per_gather = 0"))
        connection.execute(text("SET LOCAL enable_hashjoin = off"))
        connection.execute(text("SET LOCAL enable_hashagg = off"))


def count_members(connection: Connection, loaded: LoadedSmartList) -> int:
    prepare_set_query(connection)
    return int(connection.execute(count_query(loaded.compiled, loaded.context)).scalar_one())


def member_ids(
    connection: Connection, loaded: LoadedSmartList, limit: int | None = None
) -> list[int]:
    prepare_set_query(connection)
    statement = members_query(loaded.compiled, loaded.context, limit=limit)
    return list(connection.execute(statement).scalars())
