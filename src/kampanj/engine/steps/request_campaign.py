"""Request Campaign step (REQ-1..3, REQ-9, REQ-14): a Request Campaign activity per person.

In the step's transaction each person gets one Request Campaign activity (47) with
``Source=Marketo Flow Action``, ``Accepted`` and, when not accepted, ``Reason`` (REQ-2); the
caller goes on at once. After the step commits, the trigger dispatcher turns each accepted
activity into a requested run of the target for that person (REQ-6, REQ-9, engine/triggers.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Integer, Select, false, literal, null, select, true

from kampanj.engine.request_rules import FLOW_ACTION, refusal
from kampanj.engine.steps.base import (
    StepEnv,
    StepOutcome,
    cohort_size,
    every_person_fails,
    insert_activity_select,
    json_bool,
    text_value,
)
from kampanj.model.activities import StandardActivity
from kampanj.model.campaigns import Campaign, CampaignType, ParamValue
from kampanj.smartlist.catalogue import match_key
from kampanj.store import codec
from kampanj.store.repositories.reading import load_folder_index
from kampanj.store.schema import campaign

REQUEST_NOT_ACCEPTED = "REQUEST_NOT_ACCEPTED"  # REQ-3
REQ_TARGET_INVALID = "REQ_TARGET_INVALID"  # REQ-1


def apply(
    connection: Connection, env: StepEnv, params: Mapping[str, ParamValue], cohort: Select[Any]
) -> StepOutcome:
    reference = params.get("campaign")
    target = find_target(connection, reference, env.campaign.workspace)
    if target is None or target.executable or target.type is not CampaignType.TRIGGER:
        # Lint refuses this (REQ_TARGET_INVALID); only a forced write gets here.
        return every_person_fails(
            connection,
            env,
            cohort,
            REQ_TARGET_INVALID,
            f"Request Campaign target {reference!r} is not a trigger campaign of this "
            "workspace (REQ-1); nothing was requested",
        )
    reason = refusal(target, FLOW_ACTION)
    ids = cohort.subquery("cohort")
    insert_activity_select(
        connection,
        env,
        source=select(ids.c.person_id),
        person_id=ids.c.person_id,
        activity_type_id=StandardActivity.REQUEST_CAMPAIGN,
        primary_value=target.name,
        primary_id=target.id,
        attributes={
            "Accepted": json_bool(connection, true() if reason is None else false()),
            "Reason": null() if reason is None else text_value(reason),
            "Requesting Campaign ID": literal(env.campaign_id, Integer),
        },
    )
    outcome = StepOutcome(executed=cohort_size(connection, cohort))
    if reason is not None:
        outcome.warnings.append(
            env.issue(
                REQUEST_NOT_ACCEPTED,
                f"campaign {target.name!r} did not accept the request ({reason}); it did not "
                "run (REQ-3)",
            )
        )
    return outcome


def find_target(connection: Connection, reference: object, workspace: str) -> Campaign | None:
    """The campaign a step names by id, name or ``Folder/…/Name`` in ``workspace``."""
    index = load_folder_index(connection)
    rows = [
        row
        for row in connection.execute(select(campaign))
        if match_key(index.workspace_of(row.folder_id)) == match_key(workspace)
    ]
    text = str(reference).strip()
    if isinstance(reference, int) or text.isdigit():
        found = [row for row in rows if row.id == int(text)]
    else:
        wanted = match_key(text)
        found = [
            row
            for row in rows
            if wanted
            in (match_key(row.name), match_key("/".join((*index.path_of(row.folder_id), row.name))))
        ]
    if len(found) != 1:
        return None
    row = found[0]
    return Campaign(
        id=row.id,
        name=row.name,
        workspace=workspace,
        folder=index.path_of(row.folder_id),
        executable=row.executable,
        active=row.active,
        smart_list=codec.rules_from_json(row.smart_list),
        flow=codec.flow_from_json(row.flow),
        schedule=codec.schedule_from_json(row.schedule),
    )
