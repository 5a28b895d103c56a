"""Converting campaigns: smart list, flow steps and schedule (phase 2)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from kampanj.definitions import document as d
from kampanj.definitions.flow import FlowContext, parse_step
from kampanj.definitions.loading.smart_lists import convert_rules
from kampanj.definitions.loading.state import LoadState, Pending
from kampanj.definitions.sources import object_key
from kampanj.definitions.yaml_source import DataPath, YamlDocument
from kampanj.model.campaigns import (
    Campaign,
    QualificationRule,
    QualificationRuleType,
    QualificationUnit,
    Recurrence,
    Schedule,
    Step,
)
from kampanj.model.names import fold
from kampanj.smartlist.catalogue import Catalogue

__all__ = ["account_zone", "convert_campaign"]

_UNITS = {unit.value: unit for unit in QualificationUnit}


def account_zone(name: Any) -> ZoneInfo:
    """The account time zone setting, UTC when unset or unknown (``validate`` reports it)."""
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def convert_campaign(
    state: LoadState, pending: Pending, doc: d.CampaignDoc, catalogue: Catalogue, zone: ZoneInfo
) -> None:
    key = object_key(Campaign(workspace=pending.workspace, folder=pending.folder, name=doc.name))
    source = pending.source
    occurrence = state.start(key, source, pending.path)

    def mark(location: str, path: DataPath) -> None:
        state.mark(key, occurrence, location, source, (*pending.path, *path))

    raw = source.data
    for part in pending.path:
        raw = raw[part]
    state.mark_keys(key, occurrence, raw, source, pending.path)
    rules = convert_rules(
        doc.smart_list.triggers,
        doc.smart_list.filters,
        doc.smart_list.logic,
        catalogue,
        mark,
        ("smartList",),
        "smartList.",
    )

    def report(code: str, message: str, location: str, path: DataPath) -> None:
        state.report(code, message, source, path, location=location, campaign=doc.name)

    context = FlowContext(
        catalogue=catalogue,
        mark=lambda location, path: state.mark(key, occurrence, location, source, path),
        report=report,
    )
    steps: list[Step] = []
    for index, item in enumerate(doc.flow):
        step = parse_step(item, index, (*pending.path, "flow", index), context)
        if step is not None:
            steps.append(step)
    schedule_raw = raw.get("schedule") if isinstance(raw, dict) else None
    if isinstance(schedule_raw, dict):
        for name in schedule_raw:
            mark(f"schedule.{name}", ("schedule", name))
    qualification = _qualification(state, doc.schedule.qualification, source, pending, doc.name)
    recurrence = None
    if doc.schedule.recurrence is not None:
        r = doc.schedule.recurrence
        recurrence = Recurrence(
            start_at=_aware(r.start_at, zone),
            interval_type=r.interval_type,
            interval=r.interval,
            end_at=_aware(r.end_at, zone) if r.end_at else None,
            weekday_only=r.weekday_only,
            weekday_mask=tuple(r.weekday_mask),
            day_of_month=r.day_of_month,
            day_of_week=r.day_of_week,
            week_of_month=r.week_of_month,
        )
    schedule = Schedule(
        qualification=qualification,
        communication_limit=doc.schedule.communication_limit,
        max_members=doc.schedule.max_members,
        recurrence=recurrence,
        priority_override=doc.schedule.priority,
        expires_at=_aware(doc.schedule.expires_at, zone) if doc.schedule.expires_at else None,
    )
    state.campaigns.append(
        Campaign(
            workspace=pending.workspace,
            folder=pending.folder,
            name=doc.name,
            description=doc.description,
            executable=doc.executable,
            smart_list=rules,
            flow=tuple(steps),
            schedule=schedule,
            active=doc.active,
            key=doc.key,
        )
    )


def _qualification(
    state: LoadState,
    raw: str | d.EveryDoc,
    source: YamlDocument,
    pending: Pending,
    campaign: str,
) -> QualificationRule:
    """CMP-17: 'once', 'every time' or an interval such as 'every 2 days'."""
    text = raw.every if isinstance(raw, d.EveryDoc) else raw
    folded = fold(text)
    if not isinstance(raw, d.EveryDoc):
        if folded == "once":
            return QualificationRule(type=QualificationRuleType.ONCE)
        if folded in ("every time", "any", "everytime"):
            return QualificationRule(type=QualificationRuleType.ANY)
        for prefix in ("once every ", "every "):
            if folded.startswith(prefix):
                folded = folded[len(prefix) :]
                break
        else:
            folded = "?"
    parts = folded.split()
    if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) >= 1:
        unit = _UNITS.get(parts[1].removesuffix("s"))
        if unit is not None:
            return QualificationRule(
                type=QualificationRuleType.INTERVAL, interval=int(parts[0]), unit=unit
            )
    state.report(
        "TYPE_INVALID",
        f"qualification {text!r} is not understood; write 'once', 'every time' or "
        "{every: N hour|day|week|month} (CMP-17)",
        source,
        (*pending.path, "schedule", "qualification"),
        location="schedule.qualification",
        campaign=campaign,
    )
    return QualificationRule()


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    """Times without an offset are in the account time zone (GEN-1)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)
