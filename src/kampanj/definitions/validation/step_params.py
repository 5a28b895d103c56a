"""One flow-step parameter value: its kind, the assets it names, campaign-call edges."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC

from kampanj.definitions.validation.context import CallEdge, Context, Scope
from kampanj.definitions.validation.hints import suggest
from kampanj.definitions.validation.references import reference, resolve
from kampanj.definitions.validation.tree import nearest_program
from kampanj.model.assets import Email
from kampanj.model.campaigns import Campaign, ParamValue, Step, StepType
from kampanj.model.conversions import ValueConversionError, text_parser
from kampanj.model.fields import FieldType
from kampanj.model.names import fold
from kampanj.model.score_change import parse_change
from kampanj.model.smartlists import Rule
from kampanj.model.step_catalogue import (
    THIS_CAMPAIGN,
    THIS_PROGRAM,
    CampaignKind,
    ParamKind,
    ParamSpec,
)
from kampanj.model.tree import Folder
from kampanj.model.wait import parse_duration, parse_time_of_day, parse_weekdays
from kampanj.smartlist.catalogue import is_date_text, match_key
from kampanj.tokens.syntax import has_token_syntax

__all__ = ["check_param_value"]

_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_BOOLEAN_TEXT = {"true", "false", "yes", "no", "1", "0"}  # FLOW-14
_REQUESTED_TRIGGER = "campaign is requested"
_FLOW_ACTION_SOURCE = "marketo flow action"


def check_param_value(
    ctx: Context,
    index: int,
    campaign: Campaign,
    kind: CampaignKind,
    step: Step,
    param: ParamSpec,
    value: ParamValue,
    merged: dict[str, ParamValue],
    scope: Scope,
    location: str,
    label: str,
) -> None:
    """``value`` fits ``param``; named assets exist; Execute/Request calls become edges."""
    workspace = campaign.workspace
    what = f"{label} {param.name}"
    text = value if isinstance(value, str) else None
    has_tokens = param.tokens and text is not None and has_token_syntax(text)

    def invalid(message: str, code: str = "STEP_PARAM_INVALID") -> None:
        ctx.add(code, f"{what}: {message}", scope, location)

    match param.kind:
        case ParamKind.BOOLEAN:
            if not isinstance(value, bool):
                invalid(f"write true or false, not {value!r}")
        case ParamKind.TEXT:
            if value is not None and not isinstance(value, str | int | float | bool):
                invalid("takes a single text value, not a list")
            if step.type is StepType.CHANGE_DATA_VALUE and not has_tokens:
                _check_new_value(ctx, merged, value, invalid)
            if step.type is StepType.CHANGE_PROGRAM_SUCCESS:
                _check_success_value(merged, value, invalid)
        case ParamKind.INTEGER_TEXT:
            if not has_tokens and not (
                (isinstance(value, int) and not isinstance(value, bool))
                or (isinstance(value, str) and _INTEGER.match(value))
            ):
                invalid(f"write a whole number or a token, not {value!r}")
        case ParamKind.FIELD | ParamKind.SCORE_FIELD:
            found = ctx.fields.get(str(value)) if isinstance(value, str) else None
            if found is None:
                invalid(
                    f"there is no field {value!r}" + suggest(str(value), ctx.field_names()),
                    "REF_UNKNOWN",
                )
            elif param.kind is ParamKind.SCORE_FIELD and found.data_type is not FieldType.SCORE:
                invalid(
                    f"{found.display_name!r} is a {found.data_type.value} field; Change Score "
                    "needs a score field"
                )
            elif found.read_only or found.update_blocked:
                invalid(f"{found.display_name!r} is read-only; flows cannot change it (FLOW-14)")
        case ParamKind.SCORE_CHANGE:
            if not has_tokens and not (
                (isinstance(value, int) and not isinstance(value, bool))
                or (isinstance(value, str) and parse_change(value) is not None)
            ):
                invalid(
                    f"{value!r} is not a score change; write +N, -N, N, =N, =+N or =-N, or "
                    "use a token such as {{my.Score}} (FLOW-16)"
                )
        case ParamKind.CHOICE:
            if match_key(str(value)) not in {match_key(c) for c in param.choices}:
                invalid(f"{value!r} is not one of {', '.join(param.choices)}")
        case ParamKind.DURATION:
            if parse_duration(value) is None:
                invalid(
                    f"{value!r} is not a duration; write N minutes|hours|days|weeks|months|"
                    "years with a whole N ≥ 1, e.g. '4 hours' (WAIT-2)",
                    "WAIT_UNPARSEABLE",
                )
        case ParamKind.DATE:
            if not is_date_text(str(value)):
                invalid(f"write a date yyyy-MM-dd or an ISO date-time, not {value!r} (WAIT-5)")
        case ParamKind.WEEKDAYS:
            if parse_weekdays(value) is None:
                days = value if isinstance(value, tuple) else (value,)
                bad = [d for d in days if parse_weekdays(d) is None]
                invalid(f"weekdays are Monday…Sunday; {bad!r} is not (WAIT-4)")
        case ParamKind.TIME_OF_DAY:
            if parse_time_of_day(value) is None:
                invalid(f"write a time HH:MM such as '09:00', not {value!r} (WAIT-4)")
        case ParamKind.STATIC_LIST:
            reference(ctx, "list", str(value), workspace, scope, location, what)
        case ParamKind.EMAIL:
            email = reference(ctx, "email", str(value), workspace, scope, location, what)
            if isinstance(email, Email):
                if not email.approved:
                    invalid(f"email {email.name!r} is not approved (MAIL-1)", "EMAIL_UNAPPROVED")
                if (
                    step.type is StepType.SEND_ALERT
                    and "sp_send_alert_info" not in (email.html + email.text).casefold()
                ):
                    invalid(
                        f"alert email {email.name!r} lacks {{{{sp_send_alert_info}}}}, so the "
                        "alert will not say who it is about (MAIL-12)",
                        "ALERT_NO_INFO",
                    )
        case ParamKind.PROGRAM:
            _program(ctx, campaign, value, scope, location, what)
        case ParamKind.PROGRAM_STATUS:
            program = _program(
                ctx, campaign, merged.get("program", THIS_PROGRAM), None, location, what
            )
            if program is not None:
                channel = ctx.channels.get(fold(program.channel or ""))
                if channel is None:
                    invalid(
                        f"program {program.name!r} has no channel, so it has no statuses",
                        "REF_UNKNOWN",
                    )
                elif channel.rank(str(value)) is None:
                    invalid(
                        f"{value!r} is not a status of channel {channel.name!r} of program "
                        f"{program.name!r}; statuses are "
                        f"{', '.join(s.name for s in channel.statuses)} (FLOW-20)",
                        "REF_UNKNOWN",
                    )
        case ParamKind.WEBHOOK:
            if fold(str(value)) not in ctx.webhooks:
                invalid(
                    f"there is no webhook {value!r}"
                    + suggest(str(value), [w.name for w in ctx.d.webhooks]),
                    "REF_UNKNOWN",
                )
        case ParamKind.CAMPAIGN:
            _campaign_target(ctx, index, campaign, step, value, merged, scope, location, what)
        case ParamKind.CAMPAIGNS:
            targets = value if isinstance(value, tuple) else (value,)
            for target in targets:
                if fold(str(target)) in (THIS_CAMPAIGN, "this campaign"):
                    continue
                reference(ctx, "campaign", str(target), workspace, scope, location, what)
    if param.name == "toOtherEmails" and has_tokens and kind is CampaignKind.BATCH:
        invalid(
            "tokens in toOtherEmails resolve only in trigger or requested runs; in a batch "
            "campaign those addresses are dropped (MAIL-11)",
            "ALERT_TOKEN_BATCH",
        )


def _check_new_value(
    ctx: Context,
    merged: dict[str, ParamValue],
    value: ParamValue,
    invalid: Callable[[str], None],
) -> None:
    """FLOW-13/14: a literal new value must convert to the field's type."""
    target = ctx.fields.get(str(merged.get("attribute", "")))
    if target is None or value is None:
        return
    text = str(value).strip()
    if text in ("", "NULL"):
        return
    problem = _conversion_problem(target.data_type, value)
    if problem:
        invalid(f"{text!r} does not fit {target.display_name!r}: {problem} (FLOW-14)")


def _conversion_problem(data_type: FieldType, value: ParamValue) -> str | None:
    """Why a literal cannot be stored in a field of ``data_type`` (FLOW-14).

    The import's converters decide, so a value lint accepts is one the field can hold.
    """
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    try:
        text_parser(data_type, UTC)(text)
    except ValueConversionError as error:
        return str(error)
    return None


def _check_success_value(
    merged: dict[str, ParamValue], value: ParamValue, invalid: Callable[[str], None]
) -> None:
    attribute = fold(str(merged.get("attribute", "")))
    if attribute == "success" and fold(str(value)) not in _BOOLEAN_TEXT:
        invalid(f"Success takes true or false, not {value!r} (FLOW-22)")
    if attribute == "success date" and not is_date_text(str(value)):
        invalid(f"Success Date takes a date yyyy-MM-dd, not {value!r} (FLOW-22)")


def _program(
    ctx: Context,
    campaign: Campaign,
    value: ParamValue,
    scope: Scope | None,
    location: str,
    what: str,
) -> Folder | None:
    """The program a step names (or the enclosing one); reports only when ``scope`` is given."""
    if value is None or fold(str(value)) == THIS_PROGRAM:
        program = nearest_program(ctx, campaign.workspace, campaign.folder)
        if program is None and scope is not None:
            ctx.add(
                "STEP_PARAM_INVALID",
                f"{what}: campaign {campaign.name!r} is not inside a program, so name the "
                "program explicitly",
                scope,
                location,
            )
        return program
    if scope is None:
        here, _ = resolve(ctx, "program", str(value), campaign.workspace)
        found = here[0] if len(here) == 1 else None
    else:
        found = reference(ctx, "program", str(value), campaign.workspace, scope, location, what)
    return found if isinstance(found, Folder) else None


def _campaign_target(
    ctx: Context,
    index: int,
    campaign: Campaign,
    step: Step,
    value: ParamValue,
    merged: dict[str, ParamValue],
    scope: Scope,
    location: str,
    what: str,
) -> None:
    """EXE-5 / REQ-1 / REQ-13 checks of a called campaign; records the call-graph edge."""
    execute = step.type is StepType.EXECUTE_CAMPAIGN
    code = "EXE_TARGET" if execute else "REQ_TARGET_INVALID"
    target = reference(
        ctx, "campaign", str(value), campaign.workspace, scope, location, what, missing_code=code
    )
    if not isinstance(target, Campaign):
        return
    target_index = ctx.campaign_index[id(target)]
    edge = CallEdge(
        caller=index,
        target=target_index,
        location=location.rsplit(".", 1)[0],
        step_id=step.id,
        use_parent_context=merged.get("useParentContext") is True,
    )
    if execute:
        if not target.executable:
            ctx.add(
                "EXE_TARGET",
                f"{what}: {target.name!r} is not executable; Execute Campaign calls only "
                "campaigns with 'executable: true' (EXE-5)",
                scope,
                location,
            )
            edge.findings.append("EXE_TARGET")
            ctx.rejected_execute_edges.append(edge)
            return
        ctx.execute_edges.append(edge)
        return
    requested = [t for t in target.smart_list.triggers if fold(t.name) == _REQUESTED_TRIGGER]
    if target.executable or not requested:
        ctx.add(
            "REQ_TARGET_INVALID",
            f"{what}: {target.name!r} is not a trigger campaign with a 'Campaign is "
            "Requested' trigger (REQ-1)",
            scope,
            location,
        )
        edge.findings.append("REQ_TARGET_INVALID")
        ctx.rejected_request_edges.append(edge)
        return
    if not any(_accepts_flow_action(t) for t in requested):
        ctx.add(
            "REQ_SOURCE",
            f"{what}: {target.name!r} does not accept source 'Marketo Flow Action', so "
            "this request will never be accepted (REQ-13)",
            scope,
            location,
        )
        edge.findings.append("REQ_SOURCE")
    ctx.request_edges.append(edge)


def _accepts_flow_action(trigger: Rule) -> bool:
    for condition in trigger.constraints:
        if fold(condition.name) == "source":
            if condition.operator == "is any":
                return True
            return any(fold(str(v)) == _FLOW_ACTION_SOURCE for v in condition.values)
    return True
