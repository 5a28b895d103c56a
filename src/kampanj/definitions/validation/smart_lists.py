"""Smart list rules: triggers, filters, conditions, logic (SL-5..SL-26), and SL-10 propagation."""

from __future__ import annotations

from collections.abc import Sequence

from kampanj.definitions.validation.context import Context, Scope, occurrences
from kampanj.definitions.validation.cycles import find_cycles
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.references import reference, resolve
from kampanj.model.names import fold
from kampanj.model.smartlists import Rule, SmartList, SmartListRules, Value
from kampanj.model.tree import Folder
from kampanj.smartlist.catalogue import (
    ALL_OPERATORS,
    CatalogueEntry,
    ConditionSpec,
    ValueKind,
    match_key,
    value_problem,
)
from kampanj.smartlist.logic import check_logic
from kampanj.tokens.syntax import has_token_syntax

__all__ = ["check_rule", "check_rules", "check_smart_lists"]


def check_rules(
    ctx: Context,
    rules: SmartListRules,
    scope: Scope,
    workspace: str,
    *,
    standalone: bool,
) -> tuple[bool, list[object]]:
    """Checks triggers, filters and logic; (valid, smart lists referenced)."""
    valid = True
    referenced: list[object] = []
    for number, trigger in enumerate(rules.triggers, start=1):
        location = f"triggers[{number}]"
        if standalone:
            ctx.add(
                "SL_INVALID",
                f"stand-alone smart lists hold filters only; remove trigger "
                f"{trigger.name!r} (SL-7)",
                scope,
                location,
            )
            valid = False
            continue
        ok, refs = check_rule(ctx, trigger, scope, location, workspace, trigger=True)
        valid &= ok
        referenced += refs
    for number, rule in enumerate(rules.filters, start=1):
        ok, refs = check_rule(ctx, rule, scope, f"filters[{number}]", workspace, trigger=False)
        valid &= ok
        referenced += refs
    if rules.advanced_logic is not None or rules.match_type.value == "Advanced":
        for problem in check_logic(rules.advanced_logic or "", len(rules.filters)):
            ctx.add(
                "LOGIC_INVALID",
                f"filter logic {rules.advanced_logic!r}: {problem} (SL-5)",
                scope,
                "logic",
            )
            valid = False
        if len(rules.filters) < 3:
            ctx.add(
                "LOGIC_FEW_FILTERS",
                f"advanced logic over {len(rules.filters)} filter(s); 'all' or 'any' says "
                "the same more simply (SL-6)",
                scope,
                "logic",
            )
    return valid, referenced


def check_rule(
    ctx: Context,
    rule: Rule,
    scope: Scope,
    location: str,
    workspace: str,
    *,
    trigger: bool,
    in_choice: bool = False,
) -> tuple[bool, list[object]]:
    """SL-9 checks of one rule; (valid, smart lists it references)."""
    kind = "trigger" if trigger else "filter"
    if not rule.name:
        ctx.add(
            "SL_INVALID",
            f"write each {kind} as '- <Name>: <condition>', e.g. '- Lead Score: {{at least: 10}}'",
            scope,
            location,
        )
        return False, []
    entry = ctx.catalogue.trigger(rule.name) if trigger else ctx.catalogue.filter(rule.name)
    if entry is None:
        _unknown_rule(ctx, rule, scope, location, trigger)
        return False, []
    _check_rule_tokens(ctx, rule, scope, location, in_choice)
    errors_before = len(ctx.findings)
    referenced: list[object] = []
    if entry.is_activity:
        example = entry.primary.aliases[-1] if entry.primary else "Date of Activity"
        if rule.operator:
            ctx.add(
                "SL_INVALID",
                f"{entry.name!r} is an activity {kind}: put conditions under its "
                f"attributes, e.g. '{entry.name}: {{{example}: {{is: …}}}}'",
                scope,
                location,
            )
        if rule.primary is not None:
            if entry.primary is None:
                ctx.add(
                    "SL_INVALID",
                    f"{entry.name!r} has no primary attribute; use its constraints",
                    scope,
                    location,
                )
            else:
                _check_condition(
                    ctx,
                    entry,
                    entry.primary,
                    rule.primary.operator,
                    rule.primary.values,
                    scope,
                    location,
                    workspace,
                )
        for condition in rule.constraints:
            spec = entry.constraint(condition.name)
            if spec is None:
                names = [c.name for c in entry.constraints if not (trigger and c.filter_only)]
                ctx.add(
                    "SL_INVALID",
                    f"{entry.name!r} has no constraint {condition.name!r}"
                    + suggest(condition.name, names)
                    + f"; constraints are {', '.join(names)}",
                    scope,
                    f"{location}.{condition.name}",
                )
                continue
            if trigger and spec.filter_only:
                ctx.add(
                    "SL_INVALID",
                    f"{spec.name!r} applies to filters only; remove it from trigger "
                    f"{entry.name!r} (SL-21)",
                    scope,
                    f"{location}.{condition.name}",
                )
                continue
            _check_condition(
                ctx,
                entry,
                spec,
                condition.operator,
                condition.values,
                scope,
                f"{location}.{condition.name}",
                workspace,
            )
    else:
        assert entry.subject is not None
        referenced += _check_condition(
            ctx,
            entry,
            entry.subject,
            rule.operator or "",
            rule.values,
            scope,
            location,
            workspace,
            rule=rule,
        )
        for condition in rule.constraints:
            spec = entry.constraint(condition.name)
            if spec is None:
                names = [c.name for c in entry.constraints]
                ctx.add(
                    "SL_INVALID",
                    f"{entry.name!r} has no constraint {condition.name!r}"
                    + (f"; constraints are {', '.join(names)}" if names else ""),
                    scope,
                    f"{location}.{condition.name}",
                )
                continue
            referenced += _check_condition(
                ctx,
                entry,
                spec,
                condition.operator,
                condition.values,
                scope,
                f"{location}.{condition.name}",
                workspace,
                rule=rule,
            )
    valid = not any(f.is_error for f in ctx.findings[errors_before:])
    return valid, referenced


def _unknown_rule(ctx: Context, rule: Rule, scope: Scope, location: str, trigger: bool) -> None:
    if trigger:
        other = ctx.catalogue.filter(rule.name)
        hint = (
            f"; {other.name!r} is a filter, put it under 'filters:'"
            if other is not None
            else suggest(rule.name, [e.name for e in ctx.catalogue.triggers()])
        )
        ctx.add("SL_INVALID", f"unknown trigger {rule.name!r}{hint} (SL-26)", scope, location)
        return
    other = ctx.catalogue.trigger(rule.name)
    if other is not None:
        hint = f"; {other.name!r} is a trigger, put it under 'triggers:'"
        activity_type = other.activity_type
        if activity_type is not None and activity_type.filter_name:
            hint += f" or use the filter {activity_type.filter_name!r}"
    else:
        hint = suggest(rule.name, [e.name for e in ctx.catalogue.filters()])
    ctx.add(
        "SL_INVALID",
        f"unknown filter {rule.name!r}: no field, activity or membership filter has "
        f"that name{hint} (SL-9)",
        scope,
        location,
    )


def _check_rule_tokens(
    ctx: Context, rule: Rule, scope: Scope, location: str, in_choice: bool
) -> None:
    values = list(rule.values)
    if rule.primary is not None:
        values += rule.primary.values
    for condition in rule.constraints:
        values += condition.values
    if any(isinstance(v, str) and has_token_syntax(v) for v in values):
        if in_choice:
            ctx.add(
                "TOKEN_IN_CHOICE",
                f"choice condition {rule.name!r} contains a token; conditions compare "
                "literal values, so write the value itself (FLOW-10)",
                scope,
                location,
            )
        else:
            ctx.add(
                "TOKEN_IN_SMART_LIST",
                f"filter {rule.name!r} contains '{{{{…}}}}', which smart lists compare "
                "literally, not as a token (SL-8)",
                scope,
                location,
            )


def _check_condition(
    ctx: Context,
    entry: CatalogueEntry,
    spec: ConditionSpec,
    operator: str,
    values: Sequence[Value],
    scope: Scope,
    location: str,
    workspace: str,
    *,
    rule: Rule | None = None,
) -> list[object]:
    """Operator and values of one condition; returns smart lists it references."""
    subject = f"{entry.name!r}" if spec.name == entry.name else f"{entry.name!r} {spec.name!r}"
    kind_text = entry.field.data_type.value if entry.field is not None else spec.value_kind.value
    canonical = spec.operator(operator) if operator else None
    if canonical is None:
        if not operator:
            ctx.add(
                "SL_INVALID",
                f"{subject} needs an operator: one of {', '.join(spec.operators)}",
                scope,
                location,
            )
        elif match_key(operator) in ALL_OPERATORS:
            ctx.add(
                "SL_INVALID",
                f"operator {operator!r} does not fit {subject} ({kind_text}); use one of "
                f"{', '.join(spec.operators)} (SL-12..18)",
                scope,
                location,
            )
        else:
            ctx.add(
                "SL_INVALID",
                f"{subject}: {operator!r} does not start with an operator; use one of "
                f"{', '.join(spec.operators)}, e.g. '{spec.operators[0]} <value>'",
                scope,
                location,
            )
        return []
    problem = value_problem(spec, canonical, values)
    if problem:
        ctx.add("SL_INVALID", f"{subject}: {problem} (SL-9)", scope, location)
        return []
    referenced: list[object] = []
    if spec.value_kind.is_reference:
        what = f"{kind_text} in {entry.name!r}"
        for value in values:
            if spec.value_kind is ValueKind.PROGRAM_STATUS:
                _check_status_condition(ctx, rule, value, scope, location, workspace)
                continue
            kind = {
                ValueKind.STATIC_LIST: "list",
                ValueKind.SMART_LIST: "smart list",
                ValueKind.PROGRAM: "program",
                ValueKind.CAMPAIGN: "campaign",
            }[spec.value_kind]
            found = reference(ctx, kind, value, workspace, scope, location, what)
            if found is not None and kind == "smart list":
                referenced.append(found)
    return referenced


def _check_status_condition(
    ctx: Context,
    rule: Rule | None,
    status: Value,
    scope: Scope,
    location: str,
    workspace: str,
) -> None:
    if rule is None:
        return
    for program_name in rule.values:
        here, _ = resolve(ctx, "program", str(program_name), workspace)
        if len(here) != 1:
            continue
        program = here[0]
        assert isinstance(program, Folder)
        channel = ctx.channels.get(fold(program.channel or ""))
        if channel is not None and channel.rank(str(status)) is None:
            ctx.add(
                "REF_UNKNOWN",
                f"program {program.name!r} (channel {channel.name!r}) has no status "
                f"{status!r}; statuses are {', '.join(s.name for s in channel.statuses)}",
                scope,
                location,
            )


def check_smart_lists(ctx: Context) -> None:
    """Stand-alone smart lists, Member of Smart List cycles and SL-10 propagation."""
    refs: dict[int, list[SmartList]] = {}
    own_invalid: set[int] = set()
    lists = list(ctx.d.smart_lists)
    for smart, occurrence in occurrences(lists):
        assert isinstance(smart, SmartList)
        scope = ctx.scope_of(smart, occurrence)
        valid, referenced = check_rules(ctx, smart.rules, scope, smart.workspace, standalone=True)
        if not valid:
            own_invalid.add(id(smart))
        refs[id(smart)] = [r for r in referenced if isinstance(r, SmartList)]
    by_id = {id(s): s for s in lists}
    invalid = set(own_invalid)
    # Cycles (SL-9): every list on a cycle is invalid.
    for cycle, _ in find_cycles(
        [id(s) for s in lists], lambda node: [(id(r), r) for r in refs.get(node, [])]
    ):
        invalid.update(cycle)
        names = " → ".join(by_id[n].name for n in cycle)
        ctx.add(
            "SL_INVALID",
            f"Member of Smart List cycle: {names}; break the cycle (SL-9)",
            ctx.scope_of(by_id[cycle[-2]]),
            "filters",
        )
    changed = True
    while changed:
        changed = False
        for smart in lists:
            if id(smart) in invalid:
                continue
            bad = [r for r in refs.get(id(smart), []) if id(r) in invalid]
            if bad:
                invalid.add(id(smart))
                changed = True
                ctx.add(
                    "SL_INVALID",
                    f"smart list {smart.name!r} uses invalid smart list {bad[0].name!r} "
                    "through Member of Smart List, so it matches nobody (SL-10)",
                    ctx.scope_of(smart),
                    "filters",
                )
    ctx.smart_list_invalid = invalid
