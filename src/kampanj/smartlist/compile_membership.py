"""Membership filters (SL-24): lists, smart lists (recursive), programs, smart campaigns."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import ColumnElement, Connection, not_, or_, select

from kampanj.model.smartlists import Rule, SmartListRules
from kampanj.smartlist.catalogue import CatalogueEntry, match_key
from kampanj.smartlist.conditions import Shape, condition_sql
from kampanj.smartlist.context import CompileContext, InvalidSmartList, checked_operator
from kampanj.store.schema import campaign_member, list_member, program_member

# A smart list references stand-alone smart lists; the compiler supplies how to compile
# one (this module must not import the compiler, which imports it).
NestedCompiler = Callable[[SmartListRules, CompileContext], ColumnElement[bool]]

_PROGRAM_CONSTRAINTS: dict[str, tuple[ColumnElement[Any], Shape]] = {
    "Program Status": (program_member.c.status, Shape.TEXT),
    "Success": (program_member.c.success, Shape.BOOLEAN),
    "Acquired By": (program_member.c.acquired_by, Shape.BOOLEAN),
    "Membership Date": (program_member.c.membership_date, Shape.INSTANT),
}


def _operator(rule: Rule, entry: CatalogueEntry) -> str:
    assert entry.subject is not None
    return checked_operator(repr(entry.name), entry.subject, rule.operator, rule.values)


def _signed(operator: str, member: ColumnElement[bool]) -> ColumnElement[bool]:
    """``member`` for the positive operators (in, is), its negation for not in / is not."""
    return member if operator in ("in", "is") else not_(member)


def compile_member_of_list(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    """In / not in any of the named static lists."""
    operator = _operator(rule, entry)
    ids = [ctx.references.static_list(ctx.workspace, v) for v in rule.values]
    member = ctx.person_in(list_member.c.person_id, list_member.c.list_id.in_(ids))
    return _signed(operator, member)


def explain_member_of_list(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person_id: int
) -> dict[str, Any]:
    ids = [ctx.references.static_list(ctx.workspace, v) for v in rule.values]
    found = connection.execute(
        select(list_member.c.list_id)
        .where(list_member.c.person_id == person_id, list_member.c.list_id.in_(ids))
        .order_by(list_member.c.list_id)
    ).scalars()
    return {"operator": _operator(rule, entry), "lists": list(rule.values), "memberOf": list(found)}


def compile_member_of_smart_list(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext, nested: NestedCompiler
) -> ColumnElement[bool]:
    """In / not in any of the named smart lists, each evaluated now (SL-24, SL-10)."""
    operator = _operator(rule, entry)
    parts: list[ColumnElement[bool]] = []
    for value in rule.values:
        smart = ctx.references.smart_list(ctx.workspace, value)
        if match_key(smart.name) in ctx.nesting:
            chain = " → ".join([*ctx.nesting, match_key(smart.name)])
            raise InvalidSmartList(f"Member of Smart List cycle: {chain}; break the cycle (SL-9)")
        try:
            parts.append(nested(smart.rules, ctx.inside(smart.name)))
        except InvalidSmartList as error:
            raise InvalidSmartList(
                f"it uses smart list {smart.name!r}, which is invalid: {error} (SL-10)"
            ) from None
    member = or_(*parts)
    return _signed(operator, member)


def explain_member_of_smart_list(
    connection: Connection,
    rule: Rule,
    entry: CatalogueEntry,
    ctx: CompileContext,
    person_id: int,
    nested: NestedCompiler,
) -> dict[str, Any]:
    """Whether the person is in each named smart list right now."""
    found: dict[str, bool] = {}
    for value in rule.values:
        smart = ctx.references.smart_list(ctx.workspace, value)
        predicate = nested(smart.rules, ctx.inside(smart.name))
        found[smart.name] = bool(
            connection.execute(select(predicate).where(ctx.person.c.id == person_id)).scalar()
        )
    return {"operator": _operator(rule, entry), "smartLists": found}


def _program_where(rule: Rule, entry: CatalogueEntry, ctx: CompileContext) -> list[Any]:
    ids = [ctx.references.program(ctx.workspace, v) for v in rule.values]
    where: list[Any] = [program_member.c.program_id.in_(ids)]
    for condition in rule.constraints:
        spec = entry.constraint(condition.name)
        if spec is None:
            raise InvalidSmartList(f"{entry.name!r} has no constraint {condition.name!r} (SL-24)")
        operator = checked_operator(
            f"{entry.name!r} {spec.name!r}", spec, condition.operator, condition.values
        )
        column, shape = _PROGRAM_CONSTRAINTS[spec.name]
        where.append(condition_sql(column, shape, operator, condition.values, ctx.moment))
    return where


def compile_member_of_program(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    """Member (or not) of one of the programs, with status/success/acquired/date constraints."""
    operator = _operator(rule, entry)
    member = ctx.person_in(program_member.c.person_id, *_program_where(rule, entry, ctx))
    return _signed(operator, member)


def explain_member_of_program(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person_id: int
) -> dict[str, Any]:
    ids = [ctx.references.program(ctx.workspace, v) for v in rule.values]
    rows = connection.execute(
        select(
            program_member.c.program_id,
            program_member.c.status,
            program_member.c.success,
            program_member.c.acquired_by,
            program_member.c.membership_date,
        )
        .where(program_member.c.person_id == person_id, program_member.c.program_id.in_(ids))
        .order_by(program_member.c.program_id)
    ).mappings()
    return {
        "operator": _operator(rule, entry),
        "programs": list(rule.values),
        "constraints": [
            {"name": c.name, "operator": c.operator, "values": list(c.values)}
            for c in rule.constraints
        ],
        "memberships": [dict(row) for row in rows],
    }


def compile_member_of_smart_campaign(
    rule: Rule, entry: CatalogueEntry, ctx: CompileContext
) -> ColumnElement[bool]:
    """A campaign member of one of the named campaigns (CMP-20)."""
    operator = _operator(rule, entry)
    ids = [ctx.references.campaign(ctx.workspace, v) for v in rule.values]
    member = ctx.person_in(campaign_member.c.person_id, campaign_member.c.campaign_id.in_(ids))
    return _signed(operator, member)


def explain_member_of_smart_campaign(
    connection: Connection, rule: Rule, entry: CatalogueEntry, ctx: CompileContext, person_id: int
) -> dict[str, Any]:
    ids = [ctx.references.campaign(ctx.workspace, v) for v in rule.values]
    rows = connection.execute(
        select(campaign_member.c.campaign_id, campaign_member.c.created_at)
        .where(campaign_member.c.person_id == person_id, campaign_member.c.campaign_id.in_(ids))
        .order_by(campaign_member.c.campaign_id)
    ).mappings()
    return {
        "operator": _operator(rule, entry),
        "campaigns": list(rule.values),
        "memberships": [dict(row) for row in rows],
    }
