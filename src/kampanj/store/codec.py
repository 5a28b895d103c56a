"""Domain definitions ↔ the JSON documents kept in the definition tables' JSON columns.

Every ``*_to_json`` has a ``*_from_json`` twin and the pair round-trips losslessly:
``x_from_json(x_to_json(value)) == value``. Documents always carry every key (no
defaults omitted), so two encodings of equal objects are equal documents, which is how
`apply` tells an unchanged object from an updated one.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from kampanj.model.assets import (
    Email,
    HttpMethod,
    ResponseMapping,
    ResponseType,
    TokenEncoding,
    Webhook,
)
from kampanj.model.campaigns import (
    Choice,
    ParamValue,
    Priority,
    QualificationRule,
    QualificationRuleType,
    QualificationUnit,
    Recurrence,
    RecurrenceInterval,
    Schedule,
    Step,
    StepType,
    Weekday,
)
from kampanj.model.settings import SETTING_NAMES, AccountSettings
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules, Value
from kampanj.model.tree import ProgramStatus

Document = dict[str, Any]

# JSON readers (PostgreSQL's JSONB among them) may turn an integral float such as
# 1e+16 back into an integer, so such floats are stored tagged, as text.
FLOAT_TAG = "$float"


class CodecError(ValueError):
    """A value that has no stored form (a naive datetime, NaN, an unknown type)."""


# -- scalars -------------------------------------------------------------------------


def value_to_json(value: Value | None) -> Any:
    """A filter value or a scalar step parameter as JSON."""
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CodecError(f"cannot store the non-finite number {value!r}")
        if value.is_integer():
            return {FLOAT_TAG: repr(value)}
    elif value is not None and not isinstance(value, str | int):
        raise CodecError(f"cannot store a value of type {type(value).__name__}")
    return value


def value_from_json(document: Any) -> Any:
    if isinstance(document, dict):
        return float(document[FLOAT_TAG])
    return document


def datetime_to_json(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None or value.utcoffset() is None:
        raise CodecError(f"datetime {value.isoformat()} needs a time zone (e.g. a trailing Z)")
    return value.astimezone(UTC).isoformat()


def datetime_from_json(document: str | None) -> datetime | None:
    return None if document is None else datetime.fromisoformat(document)


def _enum_value(value: Any) -> Any:
    return None if value is None else value.value


# -- smart lists ---------------------------------------------------------------------


def condition_to_json(condition: Condition) -> Document:
    return {
        "name": condition.name,
        "operator": condition.operator,
        "values": [value_to_json(v) for v in condition.values],
    }


def condition_from_json(document: Document) -> Condition:
    return Condition(
        name=document["name"],
        operator=document["operator"],
        values=tuple(value_from_json(v) for v in document["values"]),
    )


def rule_to_json(rule: Rule) -> Document:
    return {
        "name": rule.name,
        "operator": rule.operator,
        "values": [value_to_json(v) for v in rule.values],
        "primary": condition_to_json(rule.primary) if rule.primary else None,
        "constraints": [condition_to_json(c) for c in rule.constraints],
    }


def rule_from_json(document: Document) -> Rule:
    primary = document["primary"]
    return Rule(
        name=document["name"],
        operator=document["operator"],
        values=tuple(value_from_json(v) for v in document["values"]),
        primary=condition_from_json(primary) if primary is not None else None,
        constraints=tuple(condition_from_json(c) for c in document["constraints"]),
    )


def rules_to_json(rules: SmartListRules) -> Document:
    """A smart list's rules in the SL-1 shape."""
    return {
        "triggers": [rule_to_json(r) for r in rules.triggers],
        "filters": [rule_to_json(r) for r in rules.filters],
        "filterMatchType": rules.match_type.value,
        "advancedLogic": rules.advanced_logic,
    }


def rules_from_json(document: Document) -> SmartListRules:
    return SmartListRules(
        triggers=tuple(rule_from_json(r) for r in document["triggers"]),
        filters=tuple(rule_from_json(r) for r in document["filters"]),
        match_type=FilterMatchType(document["filterMatchType"]),
        advanced_logic=document["advancedLogic"],
    )


# -- flows ---------------------------------------------------------------------------


def param_to_json(value: ParamValue) -> Any:
    if isinstance(value, tuple):
        return [value_to_json(v) for v in value]
    return value_to_json(value)


def param_from_json(document: Any) -> ParamValue:
    if isinstance(document, list):
        return tuple(value_from_json(v) for v in document)
    value: ParamValue = value_from_json(document)
    return value


def params_to_json(params: Mapping[str, ParamValue]) -> Document:
    return {name: param_to_json(value) for name, value in params.items()}


def params_from_json(document: Document) -> dict[str, ParamValue]:
    return {name: param_from_json(value) for name, value in document.items()}


def choice_to_json(choice: Choice) -> Document:
    return {
        "condition": rule_to_json(choice.condition),
        "params": params_to_json(choice.params),
        "doNothing": choice.do_nothing,
    }


def choice_from_json(document: Document) -> Choice:
    return Choice(
        condition=rule_from_json(document["condition"]),
        params=params_from_json(document["params"]),
        do_nothing=document["doNothing"],
    )


def step_to_json(step: Step) -> Document:
    return {
        "id": step.id,
        "type": step.type.value,
        "params": params_to_json(step.params),
        "doNothing": step.do_nothing,
        "choices": [choice_to_json(c) for c in step.choices],
    }


def step_from_json(document: Document) -> Step:
    return Step(
        id=document["id"],
        type=StepType(document["type"]),
        params=params_from_json(document["params"]),
        do_nothing=document["doNothing"],
        choices=tuple(choice_from_json(c) for c in document["choices"]),
    )


def flow_to_json(flow: tuple[Step, ...]) -> list[Document]:
    """A flow as an ordered list of step documents (FLOW-1)."""
    return [step_to_json(s) for s in flow]


def flow_from_json(document: list[Document]) -> tuple[Step, ...]:
    return tuple(step_from_json(s) for s in document)


# -- schedules -----------------------------------------------------------------------


def recurrence_to_json(recurrence: Recurrence) -> Document:
    return {
        "startAt": datetime_to_json(recurrence.start_at),
        "endAt": datetime_to_json(recurrence.end_at),
        "intervalType": recurrence.interval_type.value,
        "interval": recurrence.interval,
        "weekdayOnly": recurrence.weekday_only,
        "weekdayMask": [d.value for d in recurrence.weekday_mask],
        "dayOfMonth": recurrence.day_of_month,
        "dayOfWeek": _enum_value(recurrence.day_of_week),
        "weekOfMonth": recurrence.week_of_month,
    }


def recurrence_from_json(document: Document) -> Recurrence:
    start_at = datetime_from_json(document["startAt"])
    if start_at is None:
        raise CodecError("a stored recurrence has no startAt")
    day_of_week = document["dayOfWeek"]
    return Recurrence(
        start_at=start_at,
        end_at=datetime_from_json(document["endAt"]),
        interval_type=RecurrenceInterval(document["intervalType"]),
        interval=document["interval"],
        weekday_only=document["weekdayOnly"],
        weekday_mask=tuple(Weekday(d) for d in document["weekdayMask"]),
        day_of_month=document["dayOfMonth"],
        day_of_week=Weekday(day_of_week) if day_of_week is not None else None,
        week_of_month=document["weekOfMonth"],
    )


def schedule_to_json(schedule: Schedule) -> Document:
    """Schedule settings in the CMP-1 shape."""
    rule = schedule.qualification
    return {
        "qualificationRuleType": rule.type.value,
        "qualificationRuleInterval": rule.interval,
        "qualificationRuleUnit": _enum_value(rule.unit),
        "isCommunicationLimitEnabled": schedule.communication_limit,
        "maxMembers": schedule.max_members,
        "recurrence": recurrence_to_json(schedule.recurrence) if schedule.recurrence else None,
        "priorityOverride": _enum_value(schedule.priority_override),
        "expiresAt": datetime_to_json(schedule.expires_at),
    }


def schedule_from_json(document: Document) -> Schedule:
    unit = document["qualificationRuleUnit"]
    recurrence = document["recurrence"]
    priority = document["priorityOverride"]
    return Schedule(
        qualification=QualificationRule(
            type=QualificationRuleType(document["qualificationRuleType"]),
            interval=document["qualificationRuleInterval"],
            unit=QualificationUnit(unit) if unit is not None else None,
        ),
        communication_limit=document["isCommunicationLimitEnabled"],
        max_members=document["maxMembers"],
        recurrence=recurrence_from_json(recurrence) if recurrence is not None else None,
        priority_override=Priority(priority) if priority is not None else None,
        expires_at=datetime_from_json(document["expiresAt"]),
    )


# -- assets --------------------------------------------------------------------------


def email_to_json(email: Email) -> Document:
    """An email's content and flags (MAIL-1); name and folder are columns."""
    return {
        "subject": email.subject,
        "fromName": email.from_name,
        "fromEmail": email.from_email,
        "replyTo": email.reply_to,
        "html": email.html,
        "text": email.text,
        "operational": email.operational,
        "approved": email.approved,
    }


def email_fields_from_json(document: Document) -> dict[str, Any]:
    """Keyword arguments of `Email` held in the document."""
    return {
        "subject": document["subject"],
        "from_name": document["fromName"],
        "from_email": document["fromEmail"],
        "reply_to": document["replyTo"],
        "html": document["html"],
        "text": document["text"],
        "operational": document["operational"],
        "approved": document["approved"],
    }


def webhook_to_json(webhook: Webhook) -> Document:
    """A webhook's request and response settings (HOOK-1); name and key are columns."""
    return {
        "url": webhook.url,
        "requestType": webhook.request_type.value,
        "payloadTemplate": webhook.payload_template,
        "requestTokenEncoding": webhook.request_token_encoding.value,
        "responseType": webhook.response_type.value,
        "customHeaders": [{"key": k, "value": v} for k, v in webhook.custom_headers],
        "responseMappings": [
            {"responseAttribute": m.response_attribute, "field": m.field}
            for m in webhook.response_mappings
        ],
    }


def webhook_fields_from_json(document: Document) -> dict[str, Any]:
    """Keyword arguments of `Webhook` held in the document."""
    return {
        "url": document["url"],
        "request_type": HttpMethod(document["requestType"]),
        "payload_template": document["payloadTemplate"],
        "request_token_encoding": TokenEncoding(document["requestTokenEncoding"]),
        "response_type": ResponseType(document["responseType"]),
        "custom_headers": tuple((h["key"], h["value"]) for h in document["customHeaders"]),
        "response_mappings": tuple(
            ResponseMapping(response_attribute=m["responseAttribute"], field=m["field"])
            for m in document["responseMappings"]
        ),
    }


def statuses_to_json(statuses: tuple[ProgramStatus, ...]) -> list[Document]:
    """A channel's progression, in rank order."""
    return [{"name": s.name, "success": s.success} for s in statuses]


def statuses_from_json(document: list[Document]) -> tuple[ProgramStatus, ...]:
    return tuple(ProgramStatus(name=s["name"], success=s["success"]) for s in document)


# -- settings ------------------------------------------------------------------------


def settings_to_json(settings: AccountSettings) -> dict[str, Any]:
    """One JSON value per setting, keyed by its YAML / REST name."""
    return {
        name: list(value) if isinstance(value, tuple) else value
        for name, value in (
            (name, getattr(settings, attribute)) for name, attribute in SETTING_NAMES.items()
        )
    }


def settings_from_json(values: Mapping[str, Any]) -> AccountSettings:
    """Settings from stored values; names kampanj does not know are ignored."""
    arguments: dict[str, Any] = {}
    for name, value in values.items():
        attribute = SETTING_NAMES.get(name)
        if attribute is not None:
            arguments[attribute] = tuple(value) if isinstance(value, list) else value
    return AccountSettings(**arguments)
