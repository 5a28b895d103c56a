"""A campaign back to the YAML of docs/definitions.md, so a stored one can be committed.

The output loads back into an equal `Campaign` (the loader is the reference: every form
written here is one it reads); ``id`` and ``active`` are runtime state and not written.
Values are written in the ``{operator: value}`` form, which needs no operator splitting.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import yaml

from kampanj.model.campaigns import (
    Campaign,
    ParamValue,
    QualificationRuleType,
    Recurrence,
    Schedule,
    Step,
)
from kampanj.model.names import fold
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules, Value
from kampanj.model.tree import Folder

__all__ = ["campaign_document", "campaign_yaml"]


class _Inline(dict[str, Any]):
    """A mapping written on one line: ``{at least: 100}``."""


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(
    _Inline, lambda dumper, data: dumper.represent_mapping("tag:yaml.org,2002:map", data, True)
)


def campaign_yaml(campaign: Campaign, folders: Sequence[Folder]) -> str:
    """A YAML document placing ``campaign`` in its workspace, folders and program."""
    return yaml.dump(
        campaign_document(campaign, folders),
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )


def campaign_document(campaign: Campaign, folders: Sequence[Folder]) -> dict[str, Any]:
    """``{workspace, folders|programs: [{name, …, campaigns: [...]}]}`` for one campaign."""
    if not campaign.folder:
        raise ValueError(f"campaign {campaign.name!r} is not in a folder or program")
    programs = {
        tuple(fold(p) for p in f.path)
        for f in folders
        if f.is_program and fold(f.workspace) == fold(campaign.workspace)
    }
    document: dict[str, Any] = {"workspace": campaign.workspace}
    container = document
    for depth in range(1, len(campaign.folder) + 1):
        path = campaign.folder[:depth]
        is_program = tuple(fold(p) for p in path) in programs
        entry: dict[str, Any] = {"name": path[-1]}
        container["programs" if is_program else "folders"] = [entry]
        container = entry
    container["campaigns"] = [_campaign(campaign)]
    return document


def _campaign(campaign: Campaign) -> dict[str, Any]:
    out: dict[str, Any] = {"name": campaign.name}
    if campaign.key:
        out["key"] = campaign.key
    if campaign.description:
        out["description"] = campaign.description
    if campaign.executable:
        out["executable"] = True
    smart_list = _rules(campaign.smart_list)
    if smart_list:
        out["smartList"] = smart_list
    if campaign.flow:
        out["flow"] = [_step(step, number) for number, step in enumerate(campaign.flow, 1)]
    schedule = _schedule(campaign.schedule)
    if schedule:
        out["schedule"] = schedule
    return out


def _rules(rules: SmartListRules) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if rules.triggers:
        out["triggers"] = [_rule(r) for r in rules.triggers]
    if rules.filters:
        out["filters"] = [_rule(r) for r in rules.filters]
    if rules.match_type is FilterMatchType.ANY:
        out["logic"] = "any"
    elif rules.match_type is FilterMatchType.ADVANCED:
        out["logic"] = rules.advanced_logic or ""
    return out


def _rule(rule: Rule) -> str | dict[str, Any]:
    """Attribute ``{Name: {op: v}}``; membership ``{Name: {op: v, Constraint: {…}}}``;
    activity ``Name`` or ``{Name: {Attribute: {op: v}, …}}``."""
    if rule.operator is not None:
        body = _condition(rule.operator, rule.values)
        for condition in rule.constraints:
            body[condition.name] = _condition(condition.operator, condition.values)
        return {rule.name: body}
    conditions: list[Condition] = [*([rule.primary] if rule.primary else []), *rule.constraints]
    if not conditions:
        return rule.name
    return {rule.name: {c.name: _condition(c.operator, c.values) for c in conditions}}


def _condition(operator: str, values: tuple[Value, ...]) -> dict[str, Any]:
    if not values:
        return _Inline({operator: None})
    return _Inline({operator: values[0] if len(values) == 1 else list(values)})


def _step(step: Step, number: int) -> str | dict[str, Any]:
    name = step.type.value
    body: dict[str, Any] = {k: _param(v) for k, v in step.params.items()}
    if step.do_nothing:
        body["doNothing"] = True
    if step.choices:
        body["choices"] = [
            {
                "if": _rule(choice.condition),
                **{k: _param(v) for k, v in choice.params.items()},
                **({"doNothing": True} if choice.do_nothing else {}),
            }
            for choice in step.choices
        ]
    custom_id = step.id != f"s{number}"
    if not body and not custom_id:
        return name
    out: dict[str, Any] = {name: body or None}
    if custom_id:
        out["id"] = step.id
    return out


def _param(value: ParamValue) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _schedule(schedule: Schedule) -> dict[str, Any]:
    out: dict[str, Any] = {}
    rule = schedule.qualification
    if rule.type is QualificationRuleType.ANY:
        out["qualification"] = "every time"
    elif rule.type is QualificationRuleType.INTERVAL and rule.unit is not None:
        out["qualification"] = {"every": f"{rule.interval} {rule.unit.value}s"}
    if schedule.max_members is not None:
        out["maxMembers"] = schedule.max_members
    if schedule.communication_limit:
        out["communicationLimit"] = True
    if schedule.priority_override is not None:
        out["priority"] = schedule.priority_override.value
    if schedule.expires_at is not None:
        out["expiresAt"] = _instant(schedule.expires_at)
    if schedule.recurrence is not None:
        out["recurrence"] = _recurrence(schedule.recurrence)
    return out


def _recurrence(recurrence: Recurrence) -> dict[str, Any]:
    out: dict[str, Any] = {
        "startAt": _instant(recurrence.start_at),
        "intervalType": recurrence.interval_type.value,
        "interval": recurrence.interval,
    }
    if recurrence.end_at is not None:
        out["endAt"] = _instant(recurrence.end_at)
    if recurrence.weekday_only:
        out["weekdayOnly"] = True
    if recurrence.weekday_mask:
        out["weekdayMask"] = [day.value for day in recurrence.weekday_mask]
    if recurrence.day_of_month is not None:
        out["dayOfMonth"] = recurrence.day_of_month
    if recurrence.day_of_week is not None:
        out["dayOfWeek"] = recurrence.day_of_week.value
    if recurrence.week_of_month is not None:
        out["weekOfMonth"] = recurrence.week_of_month
    return out


def _instant(value: datetime) -> str:
    """ISO text with its offset: the loader reads text, never YAML timestamps."""
    return value.isoformat()
