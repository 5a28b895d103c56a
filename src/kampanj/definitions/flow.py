"""YAML flow steps → ``Step`` (FLOW-1, FLOW-8).

Forms: ``- Change Score: {scoreName: Behavior Score, change: "+5"}``, the scalar form
``- Add to List: MQLs`` (sets the step's shorthand parameter), ``- Delete Person``, and
``id:`` / ``doNothing:`` / ``choices:`` inside the parameters (``id:`` may also sit beside
the step name). Parameter names match case-insensitively, Marketo labels included
(``New Value``). Unknown parameters are kept as written for the validator; only a step
name that is not in FLOW-24 cannot become a ``Step`` and is reported here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from kampanj.definitions.rules import parse_rule
from kampanj.definitions.yaml_source import DataPath
from kampanj.model.campaigns import Choice, ParamValue, Step
from kampanj.model.smartlists import Rule
from kampanj.model.step_catalogue import (
    ParamKind,
    StepSpec,
    normalise_key,
    step_names,
    step_spec,
)
from kampanj.smartlist.catalogue import Catalogue

Mark = Callable[[str, DataPath], None]
"""Records that ``location`` (finding vocabulary) was written at a data path."""
Report = Callable[[str, str, str, DataPath], None]
"""Reports (code, message, location, data path) as a loader finding."""

_ID = "id"
_CHOICES = "choices"
_DO_NOTHING = "donothing"
_IF = "if"


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowContext:
    """What step parsing needs from the loader."""

    catalogue: Catalogue
    mark: Mark
    report: Report


def _param_value(raw: Any, spec_kind: ParamKind | None) -> ParamValue | None:
    """A YAML value as a ``ParamValue``; None when it has no such form."""
    if isinstance(raw, list):
        items: list[str | int] = []
        for item in raw:
            if isinstance(item, bool) or isinstance(item, float):
                items.append(str(item).lower() if isinstance(item, bool) else str(item))
            elif isinstance(item, str | int):
                items.append(item)
            else:
                return None
        return tuple(items)
    if isinstance(raw, dict):
        return None
    if spec_kind in (ParamKind.CAMPAIGNS, ParamKind.WEEKDAYS) and isinstance(raw, str | int):
        return (raw,)
    if isinstance(raw, str | int | float | bool) or raw is None:
        return raw
    return str(raw)


def _params(
    step: StepSpec,
    raw: dict[Any, Any],
    base: DataPath,
    location: str,
    context: FlowContext,
    *,
    skip: frozenset[str],
) -> dict[str, ParamValue]:
    params: dict[str, ParamValue] = {}
    for key, value in raw.items():
        written = str(key)
        if normalise_key(written) in skip:
            continue
        path = (*base, key)
        if (
            step.type.value == "Wait"
            and normalise_key(written) == "endon"
            and isinstance(value, dict)
        ):
            # WAIT-4 ``endOn: {weekdays: [...], at: "09:00"}`` flattens into two params.
            for inner_key, inner in value.items():
                flat = "endOn" + str(inner_key)[:1].upper() + str(inner_key)[1:]
                _put(step, params, flat, inner, (*path, inner_key), location, context)
            continue
        _put(step, params, written, value, path, location, context)
    return params


def _put(
    step: StepSpec,
    params: dict[str, ParamValue],
    written: str,
    raw: Any,
    path: DataPath,
    location: str,
    context: FlowContext,
) -> None:
    spec = step.param(written)
    name = spec.name if spec else written
    where = f"{location}.{name}"
    if name in params:
        context.report(
            "DUPLICATE_NAME",
            f"parameter {name!r} of {step.type.value} is given twice; keep one",
            where,
            path,
        )
        return
    value = _param_value(raw, spec.kind if spec else None)
    if value is None and raw is not None:
        context.report(
            "TYPE_INVALID",
            f"parameter {name!r} of {step.type.value} takes a value or a list, not a mapping",
            where,
            path,
        )
        return
    context.mark(where, path)
    params[name] = value


def parse_step(raw: Any, index: int, path: DataPath, context: FlowContext) -> Step | None:
    """One flow item → a Step with id ``s<index+1>`` unless ``id:`` is given."""
    default_id = f"s{index + 1}"
    if isinstance(raw, str):
        name, body, body_path, step_id = raw, None, path, default_id
    elif isinstance(raw, dict) and raw:
        id_keys = [k for k in raw if normalise_key(str(k)) == _ID]
        step_id = str(raw[id_keys[0]]).strip() if id_keys else default_id
        names = [k for k in raw if k not in id_keys]
        if len(names) != 1:
            context.report(
                "TYPE_INVALID",
                "write each step as '- <Step Name>: {parameters}' with exactly one step name; "
                f"found {', '.join(map(str, names)) or 'none'}",
                f"flow.{step_id}",
                path,
            )
            return None
        name = str(names[0])
        body, body_path = raw[names[0]], (*path, names[0])
    else:
        context.report(
            "TYPE_INVALID",
            "write each step as '- <Step Name>: {parameters}'",
            f"flow.{default_id}",
            path,
        )
        return None
    spec = step_spec(name)
    if isinstance(body, dict):
        id_inside = [k for k in body if normalise_key(str(k)) == _ID]
        if id_inside:
            step_id = str(body[id_inside[0]]).strip()
    location = f"flow.{step_id}"
    context.mark(location, path)
    if spec is None:
        context.report(
            "STEP_UNSUPPORTED",
            f"unknown or unsupported step {name.strip()!r}; supported steps are "
            f"{', '.join(step_names())} (FLOW-24)",
            location,
            path,
        )
        return None
    if body is None:
        return Step(id=step_id, type=spec.type)
    if not isinstance(body, dict):
        if spec.shorthand is None:
            context.report(
                "TYPE_INVALID",
                f"{spec.type.value} takes a mapping of parameters "
                f"({', '.join(p.name for p in spec.params) or 'none'})",
                location,
                body_path,
            )
            return Step(id=step_id, type=spec.type)
        shorthand = spec.param(spec.shorthand)
        value = _param_value(body, shorthand.kind if shorthand else None)
        context.mark(f"{location}.{spec.shorthand}", body_path)
        return Step(id=step_id, type=spec.type, params={spec.shorthand: value})
    skip = frozenset({_ID, _CHOICES, _DO_NOTHING})
    params = _params(spec, body, body_path, location, context, skip=skip)
    do_nothing = False
    choices: list[Choice] = []
    for key, value in body.items():
        folded = normalise_key(str(key))
        if folded == _DO_NOTHING:
            context.mark(f"{location}.doNothing", (*body_path, key))
            if not isinstance(value, bool):
                context.report(
                    "TYPE_INVALID", "doNothing takes true or false", location, (*body_path, key)
                )
            do_nothing = value is True
        elif folded == _CHOICES:
            choices = _choices(spec, value, (*body_path, key), location, context)
    return Step(
        id=step_id, type=spec.type, params=params, do_nothing=do_nothing, choices=tuple(choices)
    )


def _choices(
    spec: StepSpec, raw: Any, path: DataPath, location: str, context: FlowContext
) -> list[Choice]:
    if not isinstance(raw, list):
        context.report(
            "TYPE_INVALID",
            "choices is a list of '{if: <filter>, <parameters> | doNothing: true}'",
            f"{location}.choices",
            path,
        )
        return []
    choices: list[Choice] = []
    for number, item in enumerate(raw, start=1):
        where = f"{location}.choices[{number}]"
        item_path = (*path, number - 1)
        context.mark(where, item_path)
        if not isinstance(item, dict):
            context.report(
                "TYPE_INVALID",
                "each choice is a mapping '{if: <filter>, <parameters>}'",
                where,
                item_path,
            )
            continue
        condition = Rule(name="")
        do_nothing = False
        for key, value in item.items():
            folded = normalise_key(str(key))
            if folded == _IF:
                context.mark(f"{where}.if", (*item_path, key))
                condition = parse_rule(value, context.catalogue, trigger=False)
            elif folded == _DO_NOTHING:
                do_nothing = value is True
        params = _params(spec, item, item_path, where, context, skip=frozenset({_IF, _DO_NOTHING}))
        choices.append(Choice(condition=condition, params=params, do_nothing=do_nothing))
    return choices
