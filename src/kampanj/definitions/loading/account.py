"""Reading account-level sections: settings, fields, activity types, channels, tokens, webhooks."""

from __future__ import annotations

from typing import Any

from kampanj.definitions import document as d
from kampanj.definitions.loading.shape import read_model
from kampanj.definitions.loading.state import LoadState
from kampanj.definitions.yaml_source import DataPath, YamlDocument
from kampanj.model.activities import ActivityTypeDef, AttributeDef
from kampanj.model.assets import ResponseMapping, Webhook
from kampanj.model.fields import FIELD_NAME_PATTERN, FieldDef, custom_column_name
from kampanj.model.tokens import MyToken
from kampanj.model.tree import Channel, FolderPath, ProgramStatus

__all__ = [
    "read_activity_type",
    "read_channel",
    "read_field",
    "read_settings",
    "read_tokens",
    "read_webhook",
]


def read_settings(state: LoadState, raw: dict[str, Any], source: YamlDocument) -> None:
    """Account settings; each setting may be written once across all files."""
    doc = read_model(state, d.SettingsDoc, raw, source, ("settings",), "settings")
    if doc is None:
        return
    occurrence = state.start(("settings",), source, ("settings",))
    for key, value in doc.model_dump(by_alias=True, exclude_unset=True).items():
        where = state.where(source, ("settings", key))
        if where is not None:
            state.sources.record(("settings",), key, where, occurrence=occurrence)
        if key in state.settings:
            first = state.settings_where.get(key)
            state.report(
                "DUPLICATE_NAME",
                f"setting {key!r} is set twice (first at {first}); keep one",
                source,
                ("settings", key),
            )
            continue
        state.settings[key] = tuple(value) if isinstance(value, list) else value
        state.settings_where[key] = where


def read_field(state: LoadState, raw: Any, source: YamlDocument, path: DataPath) -> None:
    doc = read_model(state, d.FieldDoc, raw, source, path, f"field #{path[-1] + 1}")  # type: ignore[operator]
    if doc is None:
        return
    column = custom_column_name(doc.name) if FIELD_NAME_PATTERN.match(doc.name) else ""
    field_def = FieldDef(
        name=doc.name,
        display_name=doc.display_name or doc.name,
        data_type=doc.type,
        column=column,
        is_custom=True,
        is_company=doc.is_company,
        is_html_encoding_in_email=doc.is_html_encoding_in_email,
        read_only=doc.read_only,
        update_blocked=doc.update_blocked,
    )
    state.fields.append(field_def)
    occurrence = state.start(field_def, source, path)
    state.mark_keys(field_def, occurrence, raw, source, path)


def read_activity_type(state: LoadState, raw: Any, source: YamlDocument, path: DataPath) -> None:
    doc = read_model(state, d.ActivityTypeDoc, raw, source, path, "activity type")
    if doc is None:
        return
    activity_type = ActivityTypeDef(
        id=doc.id,
        name=doc.name,
        primary=AttributeDef(name=doc.primary.name, data_type=doc.primary.type)
        if doc.primary
        else None,
        attributes=tuple(AttributeDef(name=a.name, data_type=a.type) for a in doc.attributes),
        trigger_name=doc.trigger,
        filter_name=doc.filter,
        retention_days=doc.retention_days,
        is_custom=True,
        description=doc.description,
    )
    state.activity_types.append(activity_type)
    occurrence = state.start(activity_type, source, path)
    state.mark_keys(activity_type, occurrence, raw, source, path)


def read_channel(state: LoadState, raw: Any, source: YamlDocument, path: DataPath) -> None:
    doc = read_model(state, d.ChannelDoc, raw, source, path, "channel")
    if doc is None:
        return
    channel = Channel(
        name=doc.name,
        statuses=tuple(
            ProgramStatus(name=s)
            if isinstance(s, str)
            else ProgramStatus(name=s.name, success=s.success)
            for s in doc.statuses
        ),
    )
    state.channels.append(channel)
    occurrence = state.start(channel, source, path)
    for index in range(len(doc.statuses)):
        state.mark(
            channel, occurrence, f"statuses[{index + 1}]", source, (*path, "statuses", index)
        )


def read_tokens(
    state: LoadState,
    raw: dict[str, Any],
    source: YamlDocument,
    path: DataPath,
    workspace: str | None,
    folder: FolderPath | None,
) -> None:
    """My Tokens defined at one place: the account (no workspace) or a folder."""
    for name, value in raw.items():
        doc = read_model(state, d.TokenDoc, value, source, (*path, name), f"My Token {name!r}")
        if doc is None:
            continue
        token = MyToken(
            name=str(name).strip(),
            type=doc.type,
            value=doc.value,
            workspace=workspace,
            folder=folder,
        )
        state.tokens.append(token)
        occurrence = state.start(token, source, (*path, name))
        state.mark_keys(token, occurrence, value, source, (*path, name))


def read_webhook(state: LoadState, raw: Any, source: YamlDocument, path: DataPath) -> None:
    doc = read_model(state, d.WebhookDoc, raw, source, path, "webhook")
    if doc is None:
        return
    headers = (
        tuple(doc.headers.items())
        if isinstance(doc.headers, dict)
        else tuple((h.key, h.value) for h in doc.headers)
    )
    mappings = (
        tuple(
            ResponseMapping(response_attribute=k, field=v) for k, v in doc.response_mappings.items()
        )
        if isinstance(doc.response_mappings, dict)
        else tuple(
            ResponseMapping(response_attribute=m.response_attribute, field=m.field)
            for m in doc.response_mappings
        )
    )
    webhook = Webhook(
        name=doc.name,
        url=doc.url,
        request_type=doc.method,
        payload_template=doc.payload,
        request_token_encoding=doc.encoding,
        response_type=doc.response_type,
        custom_headers=headers,
        response_mappings=mappings,
        key=doc.key,
    )
    state.webhooks.append(webhook)
    occurrence = state.start(webhook, source, path)
    state.mark_keys(webhook, occurrence, raw, source, path)
