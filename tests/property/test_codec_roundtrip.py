"""The stored JSON form of definitions is lossless: decode(encode(x)) == x for any x."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

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
from kampanj.model.settings import AccountSettings
from kampanj.model.smartlists import Condition, FilterMatchType, Rule, SmartListRules
from kampanj.model.tree import ProgramStatus
from kampanj.store import codec

text = st.text(max_size=12)
# Any finite float, including integral ones such as 1e16 that JSON readers turn into ints.
numbers = st.floats(allow_nan=False, allow_infinity=False)
values = st.one_of(text, st.integers(), numbers, st.booleans())
offsets = st.builds(
    lambda minutes: timezone(timedelta(minutes=minutes)), st.integers(-14 * 60, 14 * 60)
)
aware = st.datetimes(
    min_value=datetime(1971, 1, 1), max_value=datetime(2200, 1, 1), timezones=offsets
)


def _optional(strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | strategy


conditions = st.builds(
    Condition, name=text, operator=text, values=st.tuples() | st.lists(values).map(tuple)
)
rules = st.builds(
    Rule,
    name=text,
    operator=_optional(text),
    values=st.lists(values, max_size=3).map(tuple),
    primary=_optional(conditions),
    constraints=st.lists(conditions, max_size=3).map(tuple),
)
smart_list_rules = st.builds(
    SmartListRules,
    triggers=st.lists(rules, max_size=3).map(tuple),
    filters=st.lists(rules, max_size=3).map(tuple),
    match_type=st.sampled_from(FilterMatchType),
    advanced_logic=_optional(text),
)
param_values = st.one_of(
    st.none(), values, st.lists(st.one_of(text, st.integers()), max_size=3).map(tuple)
)
params = st.dictionaries(text, param_values, max_size=4)
choices = st.builds(Choice, condition=rules, params=params, do_nothing=st.booleans())
steps = st.builds(
    Step,
    id=text,
    type=st.sampled_from(StepType),
    params=params,
    do_nothing=st.booleans(),
    choices=st.lists(choices, max_size=3).map(tuple),
)
recurrences = st.builds(
    Recurrence,
    start_at=aware,
    interval_type=st.sampled_from(RecurrenceInterval),
    interval=st.integers(1, 100),
    end_at=_optional(aware),
    weekday_only=st.booleans(),
    weekday_mask=st.lists(st.sampled_from(Weekday), max_size=7).map(tuple),
    day_of_month=_optional(st.integers(1, 31)),
    day_of_week=_optional(st.sampled_from(Weekday)),
    week_of_month=_optional(st.integers(1, 4)),
)
schedules = st.builds(
    Schedule,
    qualification=st.builds(
        QualificationRule,
        type=st.sampled_from(QualificationRuleType),
        interval=_optional(st.integers(1, 1000)),
        unit=_optional(st.sampled_from(QualificationUnit)),
    ),
    communication_limit=st.booleans(),
    max_members=_optional(st.integers(0, 10**9)),
    recurrence=_optional(recurrences),
    priority_override=_optional(st.sampled_from(Priority)),
    expires_at=_optional(aware),
)
emails = st.builds(
    Email,
    workspace=st.just("Default"),
    folder=st.just(("Emails",)),
    name=text,
    subject=text,
    from_name=text,
    from_email=text,
    reply_to=text,
    html=text,
    text=text,
    operational=st.booleans(),
    approved=st.booleans(),
)
webhooks = st.builds(
    Webhook,
    name=st.just("hook"),
    url=text,
    request_type=st.sampled_from(HttpMethod),
    payload_template=text,
    request_token_encoding=st.sampled_from(TokenEncoding),
    response_type=st.sampled_from(ResponseType),
    custom_headers=st.lists(st.tuples(text, text), max_size=3).map(tuple),
    response_mappings=st.lists(
        st.builds(ResponseMapping, response_attribute=text, field=text), max_size=3
    ).map(tuple),
)
settings = st.builds(
    AccountSettings,
    timezone=text,
    default_max_members=_optional(st.integers(0, 10**6)),
    max_execute_depth=st.integers(0, 10),
    max_causation_depth=st.integers(0, 100),
    comm_limit_per_day=_optional(st.integers(0, 100)),
    comm_limit_per_7_days=_optional(st.integers(0, 100)),
    webhook_timeout_seconds=st.integers(1, 600),
    webhook_allow_hosts=st.lists(text, max_size=3).map(tuple),
    public_base_url=text,
    auto_cleanup=st.booleans(),
)


def _stored(document: Any) -> Any:
    """What a JSON column gives back: the document after a trip through JSON text."""
    return json.loads(json.dumps(document))


@given(smart_list_rules)
def test_smart_list_rules_round_trip(rules: SmartListRules) -> None:
    """SL-1 shape: triggers, filters, match type and logic survive storage."""
    assert codec.rules_from_json(_stored(codec.rules_to_json(rules))) == rules


@given(st.lists(steps, max_size=4).map(tuple))
def test_flows_round_trip(flow: tuple[Step, ...]) -> None:
    """FLOW-1: steps keep order, ids, params (lists, numbers, flags) and choices."""
    assert codec.flow_from_json(_stored(codec.flow_to_json(flow))) == flow


@given(schedules)
def test_schedules_round_trip(schedule: Schedule) -> None:
    """CMP-1, CMP-9: schedule settings and recurrence survive; instants stay equal."""
    assert codec.schedule_from_json(_stored(codec.schedule_to_json(schedule))) == schedule


@given(emails)
def test_emails_round_trip(email: Email) -> None:
    document = _stored(codec.email_to_json(email))
    decoded = Email(
        workspace=email.workspace,
        folder=email.folder,
        name=email.name,
        **codec.email_fields_from_json(document),
    )
    assert decoded == email


@given(webhooks)
def test_webhooks_round_trip(webhook: Webhook) -> None:
    """HOOK-1: method, encodings, headers and response mappings survive."""
    document = _stored(codec.webhook_to_json(webhook))
    assert Webhook(name=webhook.name, **codec.webhook_fields_from_json(document)) == webhook


@given(st.lists(st.builds(ProgramStatus, name=text, success=st.booleans()), max_size=5))
def test_channel_statuses_round_trip(statuses: list[ProgramStatus]) -> None:
    document = _stored(codec.statuses_to_json(tuple(statuses)))
    assert codec.statuses_from_json(document) == tuple(statuses)


@given(settings)
def test_settings_round_trip(account_settings: AccountSettings) -> None:
    document = _stored(codec.settings_to_json(account_settings))
    assert codec.settings_from_json(document) == account_settings


@given(smart_list_rules, smart_list_rules)
def test_different_rules_never_share_a_document(a: SmartListRules, b: SmartListRules) -> None:
    """Change detection compares documents, so unequal rules must encode differently."""
    if a != b:
        assert codec.rules_to_json(a) != codec.rules_to_json(b)


@given(numbers)
def test_floats_keep_their_type(number: float) -> None:
    decoded = codec.value_from_json(_stored(codec.value_to_json(number)))
    assert isinstance(decoded, float)
    assert decoded == number


def test_naive_datetimes_are_refused_with_a_clear_message() -> None:
    with pytest.raises(codec.CodecError, match="time zone"):
        codec.datetime_to_json(datetime(2026, 1, 1))


def test_datetimes_are_stored_in_utc() -> None:
    """GEN-1: timestamps are stored in UTC."""
    local = datetime(2026, 3, 2, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert codec.datetime_to_json(local) == "2026-03-02T10:00:00+00:00"
    assert codec.datetime_from_json("2026-03-02T10:00:00+00:00") == local.astimezone(UTC)
