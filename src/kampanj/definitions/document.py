"""The shape of a definitions YAML document (pydantic v2, unknown keys refused).

Structural keys are camelCase and exact; enum values (types, methods, weekdays, …) are
accepted case-insensitively (GEN-7). Everything whose keys are user vocabulary —
filters, triggers, flow steps and their parameters — is kept as raw data here and
interpreted against the catalogues by ``rules`` and ``flow``, because those keys are
catalogue names, not fixed attributes. Containers keep their children raw as well, so
one bad campaign does not hide its siblings: the loader validates each item on its own.
See docs/definitions.md for the reference.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from enum import Enum
from typing import Annotated, Any, TypeVar, get_args

from pydantic import (
    AliasChoices,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
)
from pydantic.alias_generators import to_camel

from kampanj.model.assets import HttpMethod, ResponseType, TokenEncoding
from kampanj.model.campaigns import Priority, RecurrenceInterval, Weekday
from kampanj.model.fields import FieldType
from kampanj.model.names import fold
from kampanj.model.tokens import MyTokenType

E = TypeVar("E", bound=Enum)


def _as_text(value: Any) -> Any:
    """YAML scalars people mean as text (``10``, ``true``, ``+5``) become strings."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return value


def _enum_insensitive(enum: type[E]) -> BeforeValidator:
    def convert(value: Any) -> Any:
        if isinstance(value, str):
            wanted = fold(value)
            for member in enum:
                if str(member.value).casefold() == wanted or member.name.casefold() == wanted:
                    return member
        return value

    return BeforeValidator(convert)


Text = Annotated[str, BeforeValidator(_as_text)]
"""Any scalar, kept as text."""
Name = Annotated[
    str, BeforeValidator(_as_text), StringConstraints(strip_whitespace=True, min_length=1)
]
"""A non-empty name."""
Key = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
"""An author-chosen stable identity."""


class Doc(BaseModel):
    """Base of every document model: camelCase keys, unknown keys refused."""

    model_config = ConfigDict(
        extra="forbid", alias_generator=to_camel, populate_by_name=True, frozen=True
    )


class SettingsDoc(Doc):
    """``settings:`` — account settings (GEN-1, LIM)."""

    timezone: Name | None = None
    default_max_members: int | None = Field(default=None, ge=0)
    max_execute_depth: int | None = Field(default=None, ge=1)
    max_causation_depth: int | None = Field(default=None, ge=1)
    comm_limit_per_day: int | None = Field(default=None, ge=0)
    comm_limit_per7_days: int | None = Field(default=None, ge=0, alias="commLimitPer7Days")
    webhook_timeout_seconds: int | None = Field(default=None, ge=1)
    webhook_allow_hosts: list[Name] | None = None
    public_base_url: Name | None = None
    auto_cleanup: bool | None = None


class FieldDoc(Doc):
    """``fields:`` item — a custom person field (GEN-10)."""

    name: Name
    display_name: Name | None = None
    type: Annotated[FieldType, _enum_insensitive(FieldType)] = FieldType.STRING
    is_company: bool = False
    is_html_encoding_in_email: bool = True
    read_only: bool = False
    update_blocked: bool = False


class AttributeDoc(Doc):
    """An attribute of a custom activity type."""

    name: Name
    type: Annotated[FieldType, _enum_insensitive(FieldType)] = FieldType.STRING


class ActivityTypeDoc(Doc):
    """``activityTypes:`` item — a custom activity type (ACT-10)."""

    id: int
    name: Name
    trigger: Name | None = None
    filter: Name | None = None
    primary: AttributeDoc | None = None
    attributes: list[AttributeDoc] = []
    description: Text = ""
    retention_days: int | None = Field(default=None, ge=1)


class StatusDoc(Doc):
    """A program status written as a mapping."""

    name: Name
    success: bool = False


class ChannelDoc(Doc):
    """``channels:`` item — ordered program statuses."""

    name: Name
    statuses: list[Name | StatusDoc]


class TokenDoc(Doc):
    """A My Token: ``Name: {type: score, value: "+10"}`` (TOK-10)."""

    type: Annotated[MyTokenType, _enum_insensitive(MyTokenType)]
    value: Text


class HeaderDoc(Doc):
    key: Name
    value: Text


class ResponseMappingDoc(Doc):
    response_attribute: Name
    field: Name


class WebhookDoc(Doc):
    """``webhooks:`` item (HOOK-1)."""

    name: Name
    url: Text
    method: Annotated[HttpMethod, _enum_insensitive(HttpMethod)] = Field(
        default=HttpMethod.POST, validation_alias=AliasChoices("method", "requestType")
    )
    payload: Text = Field(default="", validation_alias=AliasChoices("payload", "payloadTemplate"))
    encoding: Annotated[TokenEncoding, _enum_insensitive(TokenEncoding)] = Field(
        default=TokenEncoding.NONE,
        validation_alias=AliasChoices("encoding", "requestTokenEncoding"),
    )
    response_type: Annotated[ResponseType, _enum_insensitive(ResponseType)] = ResponseType.NONE
    headers: dict[str, Text] | list[HeaderDoc] = Field(
        default_factory=dict, validation_alias=AliasChoices("headers", "customHeaders")
    )
    response_mappings: dict[str, Name] | list[ResponseMappingDoc] = Field(default_factory=dict)
    key: Key | None = None


class WorkspaceDoc(Doc):
    """``workspace:`` written as a mapping; ``tokens`` sit on its root folder (WS-4)."""

    name: Name
    description: Text = ""
    tokens: dict[str, Any] = {}


class FolderDoc(Doc):
    """``folders:`` item: a folder, holding folders, programs and assets."""

    name: Name
    description: Text = ""
    key: Key | None = None
    tokens: dict[str, Any] = {}
    folders: list[Any] = []
    programs: list[Any] = []
    lists: list[Any] = []
    smart_lists: list[Any] = []
    emails: list[Any] = []
    campaigns: list[Any] = []

    def declares_settings(self) -> bool:
        """Whether this declaration sets the folder's own attributes (not just contents)."""
        return bool(self.description or self.key or self.tokens)


class ProgramDoc(FolderDoc):
    """``programs:`` item: a program with a channel."""

    channel: Name | None = None

    def declares_settings(self) -> bool:
        return super().declares_settings() or self.channel is not None


class ListDoc(Doc):
    """``lists:`` item — a static list."""

    name: Name
    description: Text = ""
    key: Key | None = None


class SmartListDoc(Doc):
    """``smartLists:`` item — a stand-alone smart list (filters only, SL-7)."""

    name: Name
    description: Text = ""
    key: Key | None = None
    filters: list[Any] = []
    logic: Text | None = None
    triggers: list[Any] = []


class EmailDoc(Doc):
    """``emails:`` item (MAIL-1)."""

    name: Name
    subject: Text
    from_name: Text = ""
    from_email: Text = ""
    reply_to: Text = ""
    html: Text = ""
    text: Text = ""
    operational: bool = False
    approved: bool = True
    key: Key | None = None


class RulesDoc(Doc):
    """A campaign's ``smartList:`` (SL-1)."""

    triggers: list[Any] = []
    filters: list[Any] = []
    logic: Text | None = None


class EveryDoc(Doc):
    """``qualification: {every: 2 weeks}`` (CMP-17)."""

    every: Text


class RecurrenceDoc(Doc):
    """``schedule.recurrence`` (CMP-9)."""

    start_at: datetime
    interval_type: Annotated[RecurrenceInterval, _enum_insensitive(RecurrenceInterval)]
    interval: int = Field(default=1, ge=1)
    end_at: datetime | None = None
    weekday_only: bool = False
    weekday_mask: list[Annotated[Weekday, _enum_insensitive(Weekday)]] = []
    day_of_month: int | None = Field(default=None, ge=1, le=31)
    day_of_week: Annotated[Weekday, _enum_insensitive(Weekday)] | None = None
    week_of_month: int | None = Field(default=None, ge=1, le=4)


class ScheduleDoc(Doc):
    """A campaign's ``schedule:`` (CMP-1)."""

    qualification: Text | EveryDoc = "once"
    communication_limit: bool = False
    max_members: int | None = Field(default=None, ge=0)
    recurrence: RecurrenceDoc | None = None
    priority: Annotated[Priority, _enum_insensitive(Priority)] | None = Field(
        default=None, validation_alias=AliasChoices("priority", "priorityOverride")
    )
    expires_at: datetime | None = None


class CampaignDoc(Doc):
    """``campaigns:`` item — a smart campaign (CMP-1)."""

    name: Name
    key: Key | None = None
    description: Text = ""
    executable: bool = False
    active: bool = False
    smart_list: RulesDoc = RulesDoc()
    flow: list[Any] = []
    schedule: ScheduleDoc = ScheduleDoc()


class FileDoc(Doc):
    """One YAML document: account sections plus one workspace's tree."""

    settings: dict[str, Any] | None = None
    fields: list[Any] = []
    activity_types: list[Any] = []
    channels: list[Any] = []
    tokens: dict[str, Any] = {}
    webhooks: list[Any] = []
    workspace: Name | WorkspaceDoc | None = None
    folders: list[Any] = []
    programs: list[Any] = []


def allowed_keys(model: type[BaseModel], location: Sequence[Any]) -> list[str]:
    """The keys allowed where a pydantic error ``location`` points (its last part is the key).

    Walks the models along the location; list indices, dict keys and union tags that name
    no field leave the candidates as they are.
    """
    candidates: list[type[BaseModel]] = [model]
    for part in location[:-1]:
        named = [c for c in candidates if c.__name__ == part]
        if named:
            candidates = named
            continue
        inner = [
            found
            for candidate in candidates
            for name, info in candidate.model_fields.items()
            if part in (name, info.alias)
            for found in _models_in(info.annotation)
        ]
        if inner:
            candidates = inner
    keys: list[str] = []
    for candidate in candidates:
        for name, info in candidate.model_fields.items():
            key = info.alias or name
            if key not in keys:
                keys.append(key)
    return keys


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]
