"""Which step types this engine executes, and the function that executes each."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select

from kampanj.engine.steps import (
    alert,
    data_value,
    delete_person,
    email,
    lists,
    moment,
    program,
    request_campaign,
    score,
    wait,
    webhook,
)
from kampanj.engine.steps.base import StepEnv, StepOutcome
from kampanj.model.campaigns import ParamValue, StepType

StepFunction = Callable[[Connection, StepEnv, Mapping[str, ParamValue], Select[Any]], StepOutcome]

STEP_FUNCTIONS: Mapping[StepType, StepFunction] = {
    StepType.CHANGE_DATA_VALUE: data_value.apply,
    StepType.CHANGE_SCORE: score.apply,
    StepType.ADD_TO_LIST: lists.add,
    StepType.REMOVE_FROM_LIST: lists.remove,
    StepType.INTERESTING_MOMENT: moment.apply,
    StepType.WAIT: wait.apply,
    StepType.CHANGE_PROGRAM_STATUS: program.change_status,
    StepType.CHANGE_PROGRAM_SUCCESS: program.change_success,
    StepType.SEND_EMAIL: email.send_email,
    StepType.SEND_ALERT: alert.send_alert,
    StepType.DELETE_PERSON: delete_person.apply,
    StepType.REQUEST_CAMPAIGN: request_campaign.apply,
    StepType.CALL_WEBHOOK: webhook.call_webhook,
}
"""Every other FLOW-24 step is refused at run start, never skipped silently."""

Precheck = Callable[[Connection, StepEnv, Mapping[str, ParamValue]], ColumnElement[bool] | None]

STEP_PRECHECKS: Mapping[StepType, Precheck] = {
    StepType.CHANGE_DATA_VALUE: data_value.flagged,
    StepType.CHANGE_SCORE: score.flagged,
}
"""Persons a step must read apart (clamped scores, over-long values), as a predicate over
``person`` columns: the cohort engine counts them in the statement that checks for deleted
persons (`StepEnv.flagged`), so a step where nobody is flagged skips its own pass."""
