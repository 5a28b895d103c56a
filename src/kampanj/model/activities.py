"""Activity types (ACT-3, ACT-10) and activity records (ACT-1)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import IntEnum

from kampanj.model.fields import FieldType

CUSTOM_ACTIVITY_TYPE_MIN_ID = 100_000  # ids 900-999 are kampanj's own; custom types start here
MAX_CUSTOM_ACTIVITY_TYPES = 10  # ACT-10, LIM-19
MAX_CUSTOM_ACTIVITY_ATTRIBUTES = 20  # ACT-10, LIM-19

RETAIN_14_DAYS = 14
RETAIN_90_DAYS = 90
RETAIN_25_MONTHS = 25 * 30  # ACT-3: 25 months of 30 days


class StandardActivity(IntEnum):
    """Ids of the built-in activity types (ACT-3)."""

    VISIT_WEBPAGE = 1
    FILL_OUT_FORM = 2
    CLICK_LINK = 3
    SEND_EMAIL = 6
    EMAIL_DELIVERED = 7
    EMAIL_BOUNCED = 8
    UNSUBSCRIBE_EMAIL = 9
    OPEN_EMAIL = 10
    CLICK_EMAIL = 11
    NEW_LEAD = 12
    CHANGE_DATA_VALUE = 13
    CHANGE_SCORE = 22
    ADD_TO_LIST = 24
    REMOVE_FROM_LIST = 25
    DELETE_LEAD = 37
    SEND_ALERT = 38
    INTERESTING_MOMENT = 46
    REQUEST_CAMPAIGN = 47
    CHANGE_STATUS_IN_PROGRESSION = 104
    CALL_WEBHOOK = 110
    CHANGE_PROGRAM_MEMBER_DATA = 123
    PUSH_LEAD = 145
    EXECUTE_CAMPAIGN = 901
    EMAIL_BLOCKED = 902
    REMOVE_FROM_FLOW = 903


@dataclass(frozen=True, kw_only=True, slots=True)
class AttributeDef:
    """One named attribute of an activity type."""

    name: str
    """Attribute name as users and constraints use it, e.g. ``Webpage URL``."""
    data_type: FieldType = FieldType.STRING
    """Type of the attribute's values."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ActivityTypeDef:
    """An activity type: standard (ACT-3) or custom (ACT-10)."""

    id: int
    """Activity type id; custom types are ≥ 100000."""
    name: str
    """Name of the type, e.g. ``Visit Webpage``."""
    primary: AttributeDef | None
    """Primary attribute (asset or field the activity is about), if any."""
    attributes: tuple[AttributeDef, ...] = ()
    """Other attributes."""
    trigger_name: str | None = None
    """Present-tense trigger name, e.g. ``Visits Web Page``; None when there is no trigger."""
    filter_name: str | None = None
    """Past-tense filter name, e.g. ``Visited Web Page``; None when there is no filter."""
    retention_days: int | None = None
    """Days an activity stays visible (ACT-8); None keeps it forever."""
    is_custom: bool = False
    """Defined by the account."""
    description: str = ""
    """Free text shown by the activity types API."""

    def attribute(self, name: str) -> AttributeDef | None:
        """The attribute (primary included) called ``name``, case-insensitively."""
        wanted = name.strip().casefold()
        for attribute in self.all_attributes:
            if attribute.name.casefold() == wanted:
                return attribute
        return None

    @property
    def all_attributes(self) -> tuple[AttributeDef, ...]:
        return (self.primary, *self.attributes) if self.primary else self.attributes


def _a(name: str, data_type: FieldType = FieldType.STRING) -> AttributeDef:
    return AttributeDef(name=name, data_type=data_type)


def _t(
    type_id: StandardActivity,
    name: str,
    primary: str | None,
    attributes: Iterable[str | AttributeDef],
    trigger: str | None,
    filter_name: str | None,
    retention: int | None,
    primary_type: FieldType = FieldType.STRING,
) -> ActivityTypeDef:
    return ActivityTypeDef(
        id=int(type_id),
        name=name,
        primary=_a(primary, primary_type) if primary else None,
        attributes=tuple(a if isinstance(a, AttributeDef) else _a(a) for a in attributes),
        trigger_name=trigger,
        filter_name=filter_name,
        retention_days=retention,
    )


_WEB = ("Query Parameters", "Referrer URL", "User Agent", "Client IP Address")
_INT = FieldType.INTEGER
_BOOL = FieldType.BOOLEAN
S = StandardActivity

STANDARD_ACTIVITY_TYPES: tuple[ActivityTypeDef, ...] = (
    _t(
        S.VISIT_WEBPAGE,
        "Visit Webpage",
        "Webpage ID",
        ("Webpage URL", *_WEB, "Browser"),
        "Visits Web Page",
        "Visited Web Page",
        RETAIN_90_DAYS,
    ),
    _t(
        S.FILL_OUT_FORM,
        "Fill Out Form",
        "Webform ID",
        ("Form Fields", "Webpage ID", *_WEB),
        "Fills Out Form",
        "Filled Out Form",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.CLICK_LINK,
        "Click Link",
        "Link ID",
        ("Webpage ID", *_WEB),
        "Clicks Link",
        "Clicked Link",
        RETAIN_90_DAYS,
    ),
    _t(
        S.SEND_EMAIL,
        "Send Email",
        "Mailing ID",
        (_a("Campaign Run ID", _INT), "Step ID", _a("Choice Number", _INT), "Outcome"),
        "Email is Sent",
        "Was Sent Email",
        RETAIN_90_DAYS,
    ),
    _t(
        S.EMAIL_DELIVERED,
        "Email Delivered",
        "Mailing ID",
        (_a("Campaign Run ID", _INT), _a("Choice Number", _INT)),
        "Email is Delivered",
        "Email Delivered",
        RETAIN_90_DAYS,
    ),
    _t(
        S.EMAIL_BOUNCED,
        "Email Bounced",
        "Mailing ID",
        ("Category", "Subcategory", "Details", "Email"),
        "Email Bounces",
        "Email Bounced",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.UNSUBSCRIBE_EMAIL,
        "Unsubscribe Email",
        "Mailing ID",
        (_a("Campaign Run ID", _INT), "Referrer URL", "User Agent", "Client IP Address"),
        "Unsubscribes from Email",
        "Unsubscribed from Email",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.OPEN_EMAIL,
        "Open Email",
        "Mailing ID",
        (
            _a("Campaign Run ID", _INT),
            "Platform",
            "Device",
            "User Agent",
            _a("Is Mobile Device", _BOOL),
        ),
        "Opens Email",
        "Opened Email",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.CLICK_EMAIL,
        "Click Email",
        "Mailing ID",
        ("Link", _a("Campaign Run ID", _INT), "Platform", "Device", "User Agent"),
        "Clicks Link in Email",
        "Clicked Link in Email",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.NEW_LEAD,
        "New Lead",
        None,
        ("Source Type", _a("Created Date", FieldType.DATE)),
        "Person is Created",
        "Person was Created",
        None,
    ),
    _t(
        S.CHANGE_DATA_VALUE,
        "Change Data Value",
        "Attribute",
        ("Attribute Name", "Old Value", "New Value", "Reason", "Source"),
        "Data Value Changes",
        "Data Value Changed",
        RETAIN_90_DAYS,
    ),
    _t(
        S.CHANGE_SCORE,
        "Change Score",
        "Score Field",
        ("Score Name", "Change Value", _a("Old Value", _INT), _a("New Value", _INT), "Reason"),
        "Score is Changed",
        "Score was Changed",
        RETAIN_90_DAYS,
    ),
    _t(
        S.ADD_TO_LIST,
        "Add to List",
        "List ID",
        ("Source",),
        "Added to List",
        "Was Added to List",
        RETAIN_90_DAYS,
    ),
    _t(
        S.REMOVE_FROM_LIST,
        "Remove from List",
        "List ID",
        ("Source",),
        "Removed from List",
        "Was Removed from List",
        RETAIN_25_MONTHS,
    ),
    _t(S.DELETE_LEAD, "Delete Lead", None, ("Source",), None, None, RETAIN_14_DAYS),
    _t(
        S.SEND_ALERT,
        "Send Alert",
        "Mailing ID",
        (_a("Send To Owner", _BOOL), "Send To List"),
        "Alert is Sent",
        "Was Sent Alert",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.INTERESTING_MOMENT,
        "Interesting Moment",
        "Type",
        ("Description", "Source", _a("Date", FieldType.DATETIME)),
        "Has Interesting Moment",
        "Had Interesting Moment",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.REQUEST_CAMPAIGN,
        "Request Campaign",
        "Campaign ID",
        ("Source", _a("Accepted", _BOOL), "Reason", _a("Requesting Campaign ID", _INT)),
        "Campaign is Requested",
        "Campaign was Requested",
        RETAIN_90_DAYS,
    ),
    _t(
        S.CHANGE_STATUS_IN_PROGRESSION,
        "Change Status in Progression",
        "Program ID",
        (
            "Old Status",
            _a("Old Status ID", _INT),
            "New Status",
            _a("New Status ID", _INT),
            _a("Success", _BOOL),
            _a("Acquired By", _BOOL),
            "Reason",
            "Source",
        ),
        "Program Status is Changed",
        "Program Status was Changed",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.CALL_WEBHOOK,
        "Call Webhook",
        "Webhook ID",
        (_a("Status Code", _INT), "Response", "Error Type"),
        "Webhook is Called",
        "Webhook was Called",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.CHANGE_PROGRAM_MEMBER_DATA,
        "Change Program Member Data",
        "Program ID",
        ("Attribute Name", "Old Value", "New Value", "Reason", "Source"),
        "Program Member Data Changes",
        "Program Member Data Changed",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.PUSH_LEAD,
        "Push Lead to Marketo",
        "Program ID",
        ("Source", "Reason"),
        "Person is Pushed to Marketo",
        "Person was Pushed to Marketo",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.EXECUTE_CAMPAIGN,
        "Execute Campaign",
        "Campaign ID",
        (
            _a("Qualified", _BOOL),
            "Reason",
            _a("Parent Campaign ID", _INT),
            _a("Depth", _INT),
            _a("Use Parent Token Context", _BOOL),
        ),
        None,
        "Campaign was Executed",
        RETAIN_25_MONTHS,
    ),
    _t(
        S.EMAIL_BLOCKED,
        "Email Blocked",
        "Mailing ID",
        ("Reason", _a("Campaign Run ID", _INT), "Step ID"),
        "Email is Blocked",
        "Email was Blocked",
        RETAIN_90_DAYS,
    ),
    _t(
        S.REMOVE_FROM_FLOW,
        "Remove from Flow",
        "Campaign ID",
        ("Removed From",),
        None,
        "Was Removed from Flow",
        RETAIN_25_MONTHS,
    ),
)
del S


class ActivityTypeRegistry:
    """Activity types by id, name, trigger name and filter name (case-insensitive)."""

    def __init__(self, types: Iterable[ActivityTypeDef]) -> None:
        self._types = tuple(types)
        self._by_id = {t.id: t for t in self._types}
        self._by_name = {t.name.casefold(): t for t in self._types}
        self._by_trigger = {t.trigger_name.casefold(): t for t in self._types if t.trigger_name}
        self._by_filter = {t.filter_name.casefold(): t for t in self._types if t.filter_name}

    @classmethod
    def standard(cls) -> ActivityTypeRegistry:
        return cls(STANDARD_ACTIVITY_TYPES)

    def with_types(self, extra: Iterable[ActivityTypeDef]) -> ActivityTypeRegistry:
        return ActivityTypeRegistry((*self._types, *extra))

    def by_id(self, type_id: int) -> ActivityTypeDef | None:
        return self._by_id.get(type_id)

    def by_name(self, name: str) -> ActivityTypeDef | None:
        return self._by_name.get(name.strip().casefold())

    def by_trigger(self, name: str) -> ActivityTypeDef | None:
        return self._by_trigger.get(name.strip().casefold())

    def by_filter(self, name: str) -> ActivityTypeDef | None:
        return self._by_filter.get(name.strip().casefold())

    def resolve(self, name_or_id: str | int) -> ActivityTypeDef | None:
        """A type by id, or by type, trigger or filter name."""
        if isinstance(name_or_id, int) or name_or_id.strip().isdigit():
            return self.by_id(int(name_or_id))
        return self.by_name(name_or_id) or self.by_trigger(name_or_id) or self.by_filter(name_or_id)

    def __iter__(self) -> Iterator[ActivityTypeDef]:
        return iter(self._types)

    def __len__(self) -> int:
        return len(self._types)


@dataclass(frozen=True, kw_only=True, slots=True)
class Activity:
    """An immutable, timestamped fact about one person (ACT-1)."""

    id: int
    """Ascending id; ``marketoGUID`` is its decimal string."""
    person_id: int
    """The person it is about."""
    activity_type_id: int
    """Its type (ACT-3 or custom)."""
    activity_date: datetime
    """Clock at commit, UTC."""
    campaign_id: int | None = None
    """Campaign whose step wrote it; None otherwise."""
    run_id: int | None = None
    """Run that wrote it (extension)."""
    primary_attribute_value_id: int | None = None
    """Id of the primary asset or field."""
    primary_attribute_value: str | None = None
    """Name or value of the primary attribute."""
    attributes: Mapping[str, object] = field(default_factory=dict)
    """Other attributes by name; empty ones are omitted."""

    @property
    def marketo_guid(self) -> str:
        return str(self.id)
