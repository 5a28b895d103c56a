"""One campaign: name, placement, activation and its smart list (CMP-1, CMP-12, EXE-2/3)."""

from __future__ import annotations

from kampanj.definitions.validation.context import Context, Scope
from kampanj.definitions.validation.flows import check_flow
from kampanj.definitions.validation.schedules import check_schedule
from kampanj.definitions.validation.smart_lists import check_rules
from kampanj.definitions.validation.tree import folder_exists
from kampanj.model.campaigns import (
    MAX_CAMPAIGN_DESCRIPTION_LENGTH,
    MAX_CAMPAIGN_NAME_LENGTH,
    Campaign,
)
from kampanj.model.smartlists import SmartListRules

__all__ = ["check_campaign"]


def check_campaign(ctx: Context, index: int, campaign: Campaign) -> None:
    """Everything about campaign number ``index``, flow included."""
    occurrence = ctx.campaign_occurrence(index)
    scope = ctx.scope_of(campaign, occurrence)
    workspace = campaign.workspace
    if occurrence:
        ctx.add(
            "DUPLICATE_NAME",
            f"campaign {campaign.name!r} is defined twice in {'/'.join(campaign.folder)!r}; "
            "campaign names are unique per folder or program (CMP-1)",
            scope,
        )
    if not folder_exists(ctx, workspace, campaign.folder):
        ctx.add(
            "REF_UNKNOWN",
            f"campaign {campaign.name!r} is in unknown folder {'/'.join(campaign.folder)!r}",
            scope,
        )
    if len(campaign.name) > MAX_CAMPAIGN_NAME_LENGTH:
        ctx.add("CAMPAIGN_INVALID", "campaign names hold at most 255 characters", scope)
    if len(campaign.description) > MAX_CAMPAIGN_DESCRIPTION_LENGTH:
        ctx.add(
            "CAMPAIGN_INVALID",
            "campaign descriptions hold at most 2,000 characters (CMP-1)",
            scope,
            "description",
        )
    rules_scope = Scope(obj=campaign, campaign=campaign, occurrence=occurrence, prefix="smartList.")
    if campaign.executable:
        for number, trigger in enumerate(campaign.smart_list.triggers, start=1):
            ctx.add(
                "EXE_TRIGGER",
                f"executable campaign {campaign.name!r} has trigger {trigger.name!r}; "
                "executables run only when called, so remove the trigger (EXE-3)",
                rules_scope,
                f"triggers[{number}]",
            )
        if campaign.active:
            ctx.add(
                "ACTIVATION_INVALID",
                f"executable campaign {campaign.name!r} cannot be active; remove "
                "'active: true' (EXE-2)",
                scope,
                "active",
            )
    elif campaign.active:
        if not campaign.smart_list.triggers:
            ctx.add(
                "ACTIVATION_INVALID",
                f"campaign {campaign.name!r} is active but has no trigger; only trigger "
                "campaigns are activated (CMP-12)",
                scope,
                "active",
            )
        if not campaign.flow:
            ctx.add(
                "ACTIVATION_INVALID",
                f"campaign {campaign.name!r} is active but its flow is empty (CMP-12)",
                scope,
                "active",
            )
    before = len(ctx.findings)
    rules = campaign.smart_list
    if campaign.executable:
        rules = SmartListRules(
            filters=rules.filters,
            match_type=rules.match_type,
            advanced_logic=rules.advanced_logic,
        )
    valid, referenced = check_rules(ctx, rules, rules_scope, workspace, standalone=False)
    for smart in referenced:
        if id(smart) in ctx.smart_list_invalid:
            valid = False
            ctx.add(
                "SL_INVALID",
                f"campaign {campaign.name!r} uses invalid smart list "
                f"{smart.name!r}, so it qualifies nobody (SL-10)",  # type: ignore[attr-defined]
                rules_scope,
                "filters",
            )
    if not valid or any(f.is_error and f.code == "EXE_TRIGGER" for f in ctx.findings[before:]):
        ctx.campaign_rules_invalid.add(index)
    check_schedule(ctx, campaign, scope)
    check_flow(ctx, index, campaign, occurrence)
