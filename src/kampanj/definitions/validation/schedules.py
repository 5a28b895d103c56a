"""A campaign's schedule: qualification rule and recurrence (CMP-9, CMP-17)."""

from __future__ import annotations

from kampanj.definitions.validation.context import Context, Scope
from kampanj.model.campaigns import Campaign, QualificationRuleType, RecurrenceInterval

__all__ = ["check_schedule"]


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
