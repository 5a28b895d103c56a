"""Flow steps: ids, which steps a campaign kind allows, parameters, choices (FLOW-*, EXE-3)."""

from __future__ import annotations

from collections.abc import Iterator

from kampanj.definitions.validation.context import Context, Scope
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.smart_lists import check_rule
from kampanj.definitions.validation.step_params import check_param_value
from kampanj.definitions.validation.tokens import check_token_text, visible_tokens
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import Campaign, ParamValue, Step, StepType
from kampanj.model.names import fold
from kampanj.model.step_catalogue import CampaignKind, StepSpec, step_spec

__all__ = ["check_flow", "kind_of"]

# Activity each step writes (ACT-4), for the TRIGGER_SELF warning.
_STEP_ACTIVITY: dict[StepType, int] = {
    StepType.CHANGE_DATA_VALUE: StandardActivity.CHANGE_DATA_VALUE,
    StepType.CHANGE_SCORE: StandardActivity.CHANGE_SCORE,
    StepType.CHANGE_PROGRAM_STATUS: StandardActivity.CHANGE_STATUS_IN_PROGRESSION,
    StepType.CHANGE_PROGRAM_SUCCESS: StandardActivity.CHANGE_PROGRAM_MEMBER_DATA,
    StepType.ADD_TO_LIST: StandardActivity.ADD_TO_LIST,
    StepType.REMOVE_FROM_LIST: StandardActivity.REMOVE_FROM_LIST,
    StepType.SEND_EMAIL: StandardActivity.SEND_EMAIL,
    StepType.SEND_ALERT: StandardActivity.SEND_ALERT,
    StepType.INTERESTING_MOMENT: StandardActivity.INTERESTING_MOMENT,
    StepType.CALL_WEBHOOK: StandardActivity.CALL_WEBHOOK,
    StepType.REQUEST_CAMPAIGN: StandardActivity.REQUEST_CAMPAIGN,
}


def kind_of(campaign: Campaign) -> CampaignKind:
    if campaign.executable:
        return CampaignKind.EXECUTABLE
    if campaign.smart_list.triggers:
        return CampaignKind.TRIGGER
    return CampaignKind.BATCH


def check_flow(ctx: Context, index: int, campaign: Campaign, occurrence: int) -> None:
    """Every step of campaign number ``index``, each choice a branch of its own."""
    kind = kind_of(campaign)
    seen: set[str] = set()
    my_tokens = visible_tokens(ctx, campaign.workspace, campaign.folder)
    triggered = kind is CampaignKind.TRIGGER or kind is CampaignKind.EXECUTABLE
    for step in campaign.flow:
        scope = ctx.scope_of(campaign, occurrence)
        location = f"flow.{step.id}"
        if step.id in seen:
            ctx.add(
                "DUPLICATE_NAME",
                f"step id {step.id!r} is used twice in the flow; ids are unique (GEN-3)",
                scope,
                location,
            )
        seen.add(step.id)
        spec = step_spec(step.type.value)
        assert spec is not None
        _check_step_kind(ctx, campaign, kind, spec, scope, location)
        if not spec.choices_allowed and step.choices:
            ctx.add(
                "STEP_PARAM_INVALID",
                f"{spec.type.value} takes no choices (WAIT-1); split it into separate steps",
                scope,
                f"{location}.choices[1]",
            )
        branches: list[tuple[str, dict[str, ParamValue], dict[str, ParamValue], bool]] = [
            (location, dict(step.params), dict(step.params), step.do_nothing)
        ]
        for number, choice in enumerate(step.choices, start=1):
            where = f"{location}.choices[{number}]"
            check_rule(
                ctx,
                choice.condition,
                scope,
                f"{where}.if",
                campaign.workspace,
                trigger=False,
                in_choice=True,
            )
            merged = {**step.params, **choice.params}
            branches.append((where, dict(choice.params), merged, choice.do_nothing))
        for where, own, merged, do_nothing in branches:
            _check_params(
                ctx,
                index,
                campaign,
                kind,
                spec,
                step,
                where,
                own,
                merged,
                do_nothing,
                scope,
                my_tokens=my_tokens,
                triggered=triggered,
            )
        _check_trigger_self(ctx, campaign, step, scope, location)


def _check_step_kind(
    ctx: Context,
    campaign: Campaign,
    kind: CampaignKind,
    spec: StepSpec,
    scope: Scope,
    location: str,
) -> None:
    if kind in spec.allowed_in:
        return
    name = spec.type.value
    if kind is CampaignKind.EXECUTABLE and spec.type is StepType.WAIT:
        code, why = (
            "EXE_WAIT",
            "executables run inline and cannot wait; move the Wait into a requested "
            "campaign (EXE-3)",
        )
    elif kind is CampaignKind.EXECUTABLE and spec.type is StepType.CALL_WEBHOOK:
        code, why = (
            "EXE_WEBHOOK",
            "executables cannot call webhooks; use Request Campaign to a trigger campaign (EXE-3)",
        )
    elif spec.type is StepType.CALL_WEBHOOK:
        code, why = "HOOK_BATCH", "Call Webhook is allowed only in trigger campaigns (HOOK-2)"
    else:
        code, why = "STEP_UNSUPPORTED", f"not allowed in {kind.value} campaigns (FLOW-24)"
    ctx.add(code, f"{name} in {kind.value} campaign {campaign.name!r}: {why}", scope, location)


def _check_params(
    ctx: Context,
    index: int,
    campaign: Campaign,
    kind: CampaignKind,
    spec: StepSpec,
    step: Step,
    where: str,
    own: dict[str, ParamValue],
    merged: dict[str, ParamValue],
    do_nothing: bool,
    scope: Scope,
    *,
    my_tokens: set[str],
    triggered: bool,
) -> None:
    """Unknown and missing parameters, each value, tokens in text, Wait modes."""
    name = spec.type.value
    label = f"{name} ({step.id})"
    for param_name in own:
        if spec.param(param_name) is None:
            accepted = ", ".join(p.name for p in spec.params) or "no parameters"
            ctx.add(
                "STEP_PARAM_INVALID",
                f"{label}: unknown parameter {param_name!r}"
                + suggest(param_name, [p.name for p in spec.params])
                + f"; {name} takes {accepted}",
                scope,
                f"{where}.{param_name}",
            )
    if not do_nothing:
        for param in spec.params:
            if param.required and merged.get(param.name) in (None, "", ()):
                ctx.add(
                    "STEP_PARAM_INVALID",
                    f"{label} needs {param.name!r}"
                    + (f" ({', '.join(param.aliases)})" if param.aliases else ""),
                    scope,
                    where,
                )
    for param in spec.params:
        if param.name not in own:
            continue
        value = own[param.name]
        location = f"{where}.{param.name}"
        check_param_value(
            ctx, index, campaign, kind, step, param, value, merged, scope, location, label
        )
        if param.tokens:
            for text in _token_texts(value):
                check_token_text(
                    ctx,
                    text,
                    scope,
                    location,
                    f"{label} {param.name}",
                    my_tokens=my_tokens,
                    triggered=triggered,
                )
    if spec.type is StepType.WAIT and not do_nothing:
        modes = [m for m in ("duration", "date", "token") if merged.get(m) not in (None, "")]
        if len(modes) != 1:
            ctx.add(
                "STEP_PARAM_INVALID",
                f"{label} needs exactly one of duration, date or token (WAIT-2..6)",
                scope,
                where,
            )
        if "token" in modes and kind is not CampaignKind.TRIGGER:
            ctx.add(
                "WAIT_DATE_TOKEN_BATCH",
                f"{label}: date-token waits work only in trigger campaigns (WAIT-6)",
                scope,
                f"{where}.token",
            )


def _token_texts(value: ParamValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        yield from (v for v in value if isinstance(v, str))


def _check_trigger_self(
    ctx: Context, campaign: Campaign, step: Step, scope: Scope, location: str
) -> None:
    """TRIGGER_SELF: a step writes the activity one of the campaign's triggers listens to."""
    activity_id = _STEP_ACTIVITY.get(step.type)
    if activity_id is None:
        return
    for trigger in campaign.smart_list.triggers:
        entry = ctx.catalogue.trigger(trigger.name)
        if entry is None or entry.activity_type is None or entry.activity_type.id != activity_id:
            continue
        if (
            step.type is StepType.CHANGE_DATA_VALUE
            and trigger.primary is not None
            and trigger.primary.operator == "is"
        ):
            target = ctx.fields.get(str(step.params.get("attribute", "")))
            wanted = {fold(str(v)) for v in trigger.primary.values}
            if target is not None and not wanted & {
                fold(target.display_name),
                fold(target.name),
            }:
                continue
        ctx.add(
            "TRIGGER_SELF",
            f"{step.type.value} ({step.id}) writes an activity that trigger "
            f"{trigger.name!r} of this campaign listens to; the campaign may trigger itself",
            scope,
            location,
        )
        return
