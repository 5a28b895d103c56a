"""A campaign's schedule: qualification rule, recurrence and expiry (CMP-9, CMP-17, CMP-22)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.sources import SourceMap
from kampanj.definitions.validation.context import Context, Scope
from kampanj.model.campaigns import Campaign, QualificationRuleType, RecurrenceInterval

__all__ = ["EXPIRES_AT_LEAD_TIME", "check_expires_at_lead_time", "check_schedule"]

EXPIRES_AT_LEAD_TIME = timedelta(minutes=15)  # LIM-18


def check_schedule(ctx: Context, campaign: Campaign, scope: Scope) -> None:
    """CMP-17 qualification intervals and CMP-9 recurrence shapes."""
    schedule = campaign.schedule
    rule = schedule.qualification
    if rule.type is QualificationRuleType.INTERVAL and (
        rule.interval is None or rule.interval < 1 or rule.unit is None
    ):
        ctx.add(
            "SCHEDULE_INVALID",
            "an interval qualification rule needs N ≥ 1 and a unit (CMP-17)",
            scope,
            "schedule.qualification",
        )
    recurrence = schedule.recurrence
    if recurrence is None:
        return
    problems: list[str] = []
    interval_type = recurrence.interval_type
    if recurrence.weekday_only and interval_type is not RecurrenceInterval.DAILY:
        problems.append("weekdayOnly applies to Daily recurrences only")
    if recurrence.weekday_mask and interval_type is not RecurrenceInterval.WEEKLY:
        problems.append("weekdayMask applies to Weekly recurrences only")
    if interval_type is RecurrenceInterval.WEEKLY and not recurrence.weekday_mask:
        problems.append("Weekly recurrences need weekdayMask")
    monthly_day = recurrence.day_of_month is not None
    monthly_week = recurrence.day_of_week is not None or recurrence.week_of_month is not None
    if interval_type is RecurrenceInterval.MONTHLY:
        if monthly_day == monthly_week:
            problems.append("Monthly recurrences need either dayOfMonth or dayOfWeek + weekOfMonth")
        elif monthly_week and (recurrence.day_of_week is None or recurrence.week_of_month is None):
            problems.append("dayOfWeek and weekOfMonth go together")
    elif monthly_day or monthly_week:
        problems.append("dayOfMonth, dayOfWeek and weekOfMonth apply to Monthly recurrences only")
    if recurrence.end_at is not None and recurrence.end_at < recurrence.start_at:
        problems.append("endAt is before startAt")
    if campaign.executable or campaign.smart_list.triggers:
        problems.append("only batch campaigns recur")
    for problem in problems:
        ctx.add("SCHEDULE_INVALID", f"recurrence: {problem} (CMP-9)", scope, "schedule.recurrence")


def check_expires_at_lead_time(
    written: Sequence[Campaign],
    stored: Iterable[Campaign],
    now: datetime,
    sources: SourceMap | None = None,
) -> list[Finding]:
    """CMP-22, LIM-18: an ``expiresAt`` being set must be at least 15 minutes after ``now``.

    Only a value that is new or differs from the stored one is being set: ``written`` are
    the incoming campaigns after identity resolution (stored ids filled in), so re-applying
    an unchanged definition whose ``expiresAt`` has since come is no error. Not part of
    `validate`, which judges a state and knows no clock (the runtime guards call it too).
    """
    before = {c.id: c.schedule.expires_at for c in stored if c.id is not None}
    findings: list[Finding] = []
    for campaign in written:
        expires = campaign.schedule.expires_at
        if expires is None or (campaign.id is not None and before.get(campaign.id) == expires):
            continue
        if expires - now >= EXPIRES_AT_LEAD_TIME:
            continue
        location = "schedule.expiresAt"
        where = sources.find(campaign, location) if sources is not None else None
        findings.append(
            Finding(
                code="SCHEDULE_INVALID",
                severity=Severity.ERROR,
                message=(
                    f"campaign {campaign.name!r}: expiresAt {expires.isoformat()} is less than "
                    f"15 minutes after now ({now.isoformat(timespec='seconds')}); set it at "
                    "least 15 minutes ahead, or remove it (CMP-22, LIM-18)"
                ),
                location=location,
                campaign=campaign.name,
                campaign_id=campaign.id,
                path=(campaign.id,) if campaign.id is not None else (),
                file=where.file if where else None,
                line=where.line if where else None,
                column=where.column if where else None,
            )
        )
    return findings
