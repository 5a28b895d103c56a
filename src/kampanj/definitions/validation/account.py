"""Account-level definitions: settings, custom fields, activity types, channels, webhooks."""

from __future__ import annotations

import re

from kampanj.definitions.validation.context import Context, occurrences
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.names import check_duplicate_keys, check_duplicate_names
from kampanj.definitions.validation.tokens import check_token_families
from kampanj.model.activities import (
    CUSTOM_ACTIVITY_TYPE_MIN_ID,
    MAX_CUSTOM_ACTIVITY_ATTRIBUTES,
    MAX_CUSTOM_ACTIVITY_TYPES,
    ActivityTypeDef,
    ActivityTypeRegistry,
)
from kampanj.model.fields import FIELD_NAME_PATTERN, STANDARD_FIELDS, FieldDef
from kampanj.model.names import fold
from kampanj.model.settings import timezone_problem

__all__ = [
    "check_activity_types",
    "check_channels",
    "check_fields",
    "check_settings",
    "check_webhooks",
]

_MAPPING_KEY = re.compile(r"^[A-Za-z0-9_\-:\s]+$")  # HOOK-7


def check_settings(ctx: Context) -> None:
    settings = ctx.d.settings
    if settings is None:
        return
    problem = timezone_problem(settings.timezone)
    if problem:
        ctx.add("SETTING_INVALID", problem, ctx.scope_of(settings), "timezone")


def check_fields(ctx: Context) -> None:
    """Custom field names: shape, clashes with standard fields, duplicates."""
    standard: dict[str, FieldDef] = {}
    for std in STANDARD_FIELDS:
        for name in (std.name, std.display_name, *std.aliases):
            standard[fold(name)] = std
    for field_def, occurrence in occurrences(ctx.d.fields):
        assert isinstance(field_def, FieldDef)
        scope = ctx.scope_of(field_def, occurrence)
        if not FIELD_NAME_PATTERN.match(field_def.name):
            ctx.add(
                "FIELD_INVALID",
                f"custom field name {field_def.name!r} must start with a letter and hold "
                "only letters, digits and underscores (at most 63 characters), e.g. "
                "'behaviorScore'",
                scope,
                "name",
            )
        names = [(field_def.name, "name")]
        if fold(field_def.display_name) != fold(field_def.name):
            names.append((field_def.display_name, "displayName"))
        for name, where in names:
            clash = standard.get(fold(name))
            if clash is not None:
                ctx.add(
                    "DUPLICATE_NAME",
                    f"custom field {field_def.name!r}: {name!r} is already the standard "
                    f"field {clash.display_name!r} ({clash.name}); choose another name",
                    scope,
                    where,
                )
    check_duplicate_names(ctx, ctx.d.fields, lambda f: fold(f.name), "field", "in the account")
    check_duplicate_names(
        ctx,
        ctx.d.fields,
        lambda f: fold(f.display_name) if fold(f.display_name) != fold(f.name) else None,
        "field display name",
        "in the account",
    )


def check_activity_types(ctx: Context) -> None:
    """ACT-10: custom activity type limits, ids and names."""
    custom = ctx.d.activity_types
    standard = ActivityTypeRegistry.standard()
    if len(custom) > MAX_CUSTOM_ACTIVITY_TYPES:
        extra = custom[MAX_CUSTOM_ACTIVITY_TYPES]
        ctx.add(
            "ACTIVITY_TYPE_INVALID",
            f"at most {MAX_CUSTOM_ACTIVITY_TYPES} custom activity types are allowed "
            f"(ACT-10); remove {len(custom) - MAX_CUSTOM_ACTIVITY_TYPES}",
            ctx.scope_of(extra),
        )
    for activity_type, occurrence in occurrences(custom):
        assert isinstance(activity_type, ActivityTypeDef)
        scope = ctx.scope_of(activity_type, occurrence)
        label = f"custom activity type {activity_type.name!r}"
        if activity_type.id < CUSTOM_ACTIVITY_TYPE_MIN_ID:
            ctx.add(
                "ACTIVITY_TYPE_INVALID",
                f"{label} has id {activity_type.id}; custom ids start at "
                f"{CUSTOM_ACTIVITY_TYPE_MIN_ID}",
                scope,
                "id",
            )
        if len(activity_type.attributes) > MAX_CUSTOM_ACTIVITY_ATTRIBUTES:
            ctx.add(
                "ACTIVITY_TYPE_INVALID",
                f"{label} has {len(activity_type.attributes)} attributes; at most "
                f"{MAX_CUSTOM_ACTIVITY_ATTRIBUTES} are allowed (ACT-10)",
                scope,
                "attributes",
            )
        if activity_type.primary is None:
            ctx.add(
                "ACTIVITY_TYPE_INVALID",
                f"{label} needs a primary attribute (ACT-10)",
                scope,
            )
        if not activity_type.trigger_name and not activity_type.filter_name:
            ctx.add(
                "ACTIVITY_TYPE_INVALID",
                f"{label} needs a trigger name and a filter name (ACT-10)",
                scope,
            )
        names = [a.name for a in activity_type.all_attributes]
        if len({fold(n) for n in names}) != len(names):
            ctx.add(
                "DUPLICATE_NAME",
                f"{label} names an attribute twice; attribute names must be unique",
                scope,
                "attributes",
            )
        for name, where, lookup in (
            (activity_type.name, "name", standard.by_name),
            (activity_type.trigger_name, "trigger", standard.by_trigger),
            (activity_type.filter_name, "filter", standard.by_filter),
        ):
            if name and lookup(name) is not None:
                ctx.add(
                    "DUPLICATE_NAME",
                    f"{label}: {name!r} is already a standard activity {where} name",
                    scope,
                    where,
                )
    check_duplicate_names(ctx, custom, lambda t: t.id, "activity type id", "in the account")
    check_duplicate_names(ctx, custom, lambda t: fold(t.name), "activity type", "in the account")
    check_duplicate_names(
        ctx,
        custom,
        lambda t: fold(t.trigger_name) if t.trigger_name else None,
        "trigger name of activity type",
        "in the account",
    )
    check_duplicate_names(
        ctx,
        custom,
        lambda t: fold(t.filter_name) if t.filter_name else None,
        "filter name of activity type",
        "in the account",
    )


def check_channels(ctx: Context) -> None:
    """Channel names and their program statuses."""
    check_duplicate_names(ctx, ctx.d.channels, lambda c: fold(c.name), "channel", "in the account")
    for channel, occurrence in occurrences(ctx.d.channels):
        scope = ctx.scope_of(channel, occurrence)
        statuses = channel.statuses  # type: ignore[attr-defined]
        if not statuses:
            ctx.add(
                "CHANNEL_INVALID",
                f"channel {channel.name!r} needs at least one status",  # type: ignore[attr-defined]
                scope,
            )
        seen: set[str] = set()
        for number, status in enumerate(statuses, start=1):
            if fold(status.name) in seen:
                ctx.add(
                    "DUPLICATE_NAME",
                    f"channel {channel.name!r} lists status {status.name!r} twice",  # type: ignore[attr-defined]
                    scope,
                    f"statuses[{number}]",
                )
            seen.add(fold(status.name))


def check_webhooks(ctx: Context) -> None:
    """Webhook names, token families in requests, response mappings (HOOK-6, HOOK-7)."""
    check_duplicate_names(ctx, ctx.d.webhooks, lambda w: fold(w.name), "webhook", "in the account")
    for webhook, occurrence in occurrences(ctx.d.webhooks):
        scope = ctx.scope_of(webhook, occurrence)
        label = f"webhook {webhook.name!r}"  # type: ignore[attr-defined]
        texts = [("url", webhook.url), ("payload", webhook.payload_template)]  # type: ignore[attr-defined]
        texts += [("headers", value) for _, value in webhook.custom_headers]  # type: ignore[attr-defined]
        for where, text in texts:
            check_token_families(ctx, text, scope, where, f"{label} {where}")
        for mapping in webhook.response_mappings:  # type: ignore[attr-defined]
            segments = re.split(r"\.|\[\d+\]", mapping.response_attribute)
            if not all(_MAPPING_KEY.match(part) for part in segments if part) or not any(segments):
                ctx.add(
                    "WEBHOOK_INVALID",
                    f"{label}: response attribute {mapping.response_attribute!r}: keys "
                    "between dots and [i] may hold only letters, digits, '-', '_', ':' and "
                    "spaces (HOOK-6, HOOK-7)",
                    scope,
                    "responseMappings",
                )
            target = ctx.fields.get(mapping.field)
            if target is None:
                ctx.add(
                    "REF_UNKNOWN",
                    f"{label} maps a response value into unknown field {mapping.field!r}"
                    + suggest(mapping.field, ctx.field_names()),
                    scope,
                    "responseMappings",
                )
            elif target.read_only:
                ctx.add(
                    "WEBHOOK_INVALID",
                    f"{label} maps into read-only field {target.display_name!r} (HOOK-7)",
                    scope,
                    "responseMappings",
                )
    check_duplicate_keys(ctx, ctx.d.webhooks, "webhook")
