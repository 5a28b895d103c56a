"""Smart campaigns: smart list + flow + schedule (CMP-1, FLOW-1)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from kampanj.model.smartlists import Rule, SmartListRules
from kampanj.model.tree import FolderPath

MAX_CAMPAIGN_NAME_LENGTH = 255  # CMP-1, LIM-12
MAX_CAMPAIGN_DESCRIPTION_LENGTH = 2_000  # CMP-1, LIM-12

ParamValue = str | int | float | bool | None | tuple[str | int, ...]
"""A step parameter as written: text (tokens allowed where TOK-13 says), number, flag or list."""


class StepType(StrEnum):
    """Flow steps kampanj supports (FLOW-24)."""

    CHANGE_DATA_VALUE = "Change Data Value"
    CHANGE_SCORE = "Change Score"
    CHANGE_PROGRAM_STATUS = "Change Program Status"
    CHANGE_PROGRAM_SUCCESS = "Change Program Success"
    ADD_TO_LIST = "Add to List"
    REMOVE_FROM_LIST = "Remove from List"
    SEND_EMAIL = "Send Email"
    SEND_ALERT = "Send Alert"
    INTERESTING_MOMENT = "Interesting Moment"
    WAIT = "Wait"
    CALL_WEBHOOK = "Call Webhook"
    REQUEST_CAMPAIGN = "Request Campaign"
    EXECUTE_CAMPAIGN = "Execute Campaign"
    REMOVE_FROM_FLOW = "Remove from Flow"
    DELETE_PERSON = "Delete Person"


class CampaignType(StrEnum):
    """Derived campaign type (CMP-2)."""

    TRIGGER = "trigger"
    BATCH = "batch"
    DEFAULT = "default"


class QualificationRuleType(StrEnum):
    """How often one person may run through a campaign (CMP-17)."""

    ONCE = "once"
    ANY = "any"
    INTERVAL = "interval"


class QualificationUnit(StrEnum):
    """Units of an interval qualification rule (CMP-17)."""

    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


class RecurrenceInterval(StrEnum):
    """Recurrence interval types (CMP-9)."""

    DAILY = "Daily"
    WEEKLY = "Weekly"
    MONTHLY = "Monthly"


class Weekday(StrEnum):
    """Days of the week, Monday first (CMP-9 ``weekdayMask``)."""

    MONDAY = "Monday"
    TUESDAY = "Tuesday"
    WEDNESDAY = "Wednesday"
    THURSDAY = "Thursday"
    FRIDAY = "Friday"
    SATURDAY = "Saturday"
    SUNDAY = "Sunday"


class Priority(StrEnum):
    """Trigger priorities (CMP-16)."""

    LOW = "Low"
    MEDIUM = "Medium"
    HIGH = "High"


@dataclass(frozen=True, kw_only=True, slots=True)
class Choice:
    """``If <condition> then <params>`` of a step (FLOW-8)."""

    condition: Rule
    """Exactly one filter from the catalogue (FLOW-10)."""
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    """Step parameters for persons taking this choice."""
    do_nothing: bool = False
    """Persons taking this choice are skipped (FLOW-11)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Step:
    """One flow step (FLOW-1)."""

    id: str
    """Unique within its flow (GEN-3), e.g. ``s1``."""
    type: StepType
    """What the step does."""
    params: Mapping[str, ParamValue] = field(default_factory=dict)
    """Default parameters, canonical names (``attribute``, ``newValue``, ...)."""
    do_nothing: bool = False
    """The Default choice does nothing."""
    choices: tuple[Choice, ...] = ()
    """Choices, first match wins (FLOW-9)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class QualificationRule:
    """Qualification rule of a campaign (CMP-17)."""

    type: QualificationRuleType = QualificationRuleType.ONCE
    """once, any (every time) or interval."""
    interval: int | None = None
    """N of ``once every N units``."""
    unit: QualificationUnit | None = None
    """Unit of the interval."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Recurrence:
    """Recurring batch schedule (CMP-9)."""

    start_at: datetime
    """First occurrence."""
    interval_type: RecurrenceInterval
    """Daily, Weekly or Monthly."""
    interval: int = 1
    """Every N days / weeks / months."""
    end_at: datetime | None = None
    """No occurrence after this instant."""
    weekday_only: bool = False
    """Daily only: skip Saturdays and Sundays."""
    weekday_mask: tuple[Weekday, ...] = ()
    """Weekly only: the days it runs."""
    day_of_month: int | None = None
    """Monthly: day 1-31."""
    day_of_week: Weekday | None = None
    """Monthly: with ``week_of_month``."""
    week_of_month: int | None = None
    """Monthly: 1-4, with ``day_of_week``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Schedule:
    """Schedule settings of a campaign (CMP-1)."""

    qualification: QualificationRule = field(default_factory=QualificationRule)
    """Who may run through again, and when."""
    communication_limit: bool = False
    """``isCommunicationLimitEnabled`` (MAIL-7)."""
    max_members: int | None = None
    """Person restriction (CMP-6); None = account default."""
    recurrence: Recurrence | None = None
    """Recurring batch runs."""
    priority_override: Priority | None = None
    """Trigger priority override (CMP-16)."""
    expires_at: datetime | None = None
    """Deactivation / recurrence end (CMP-22)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Campaign:
    """A smart campaign (CMP-1)."""

    workspace: str
    """Owning workspace."""
    folder: FolderPath
    """Containing folder or program."""
    name: str
    """Unique case-insensitively among campaigns directly in the same folder."""
    description: str = ""
    """Free text, at most 2,000 characters."""
    executable: bool = False
    """Runs only through Execute Campaign (EXE-1)."""
    smart_list: SmartListRules = field(default_factory=SmartListRules)
    """Who qualifies."""
    flow: tuple[Step, ...] = ()
    """What happens to them."""
    schedule: Schedule = field(default_factory=Schedule)
    """When and how often."""
    active: bool = False
    """Trigger campaigns only: listening for events."""
    key: str | None = None
    """Stable identity chosen by the author."""
    id: int | None = None
    """Storage id once written."""

    @property
    def type(self) -> CampaignType:
        """Derived type (CMP-2)."""
        if self.smart_list.triggers:
            return CampaignType.TRIGGER
        if self.smart_list.filters:
            return CampaignType.BATCH
        return CampaignType.DEFAULT
