"""The flow version a run's people keep until they leave it (CMP-15, WAIT-8).

At qualification the campaign's flow is stored with the run (``run.flow_snapshot``); every
later execution of the run — a resumed chunk, people back from a Wait — reads that copy,
so editing the campaign meanwhile changes nothing for people already in the flow.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, update

from kampanj.model.campaigns import Campaign
from kampanj.store.codec import flow_from_json, flow_to_json
from kampanj.store.schema import run


def pin_flow(connection: Connection, run_id: int, campaign: Campaign) -> None:
    """Store ``campaign``'s flow with the run, in the qualification transaction."""
    connection.execute(
        update(run).where(run.c.id == run_id).values(flow_snapshot=flow_to_json(campaign.flow))
    )


def pinned(campaign: Campaign, run_row: Mapping[str, Any]) -> Campaign:
    """``campaign`` with the flow pinned by the run (unchanged for runs stored before pins)."""
    snapshot = run_row["flow_snapshot"]
    if snapshot is None:
        return campaign
    return dataclasses.replace(campaign, flow=flow_from_json(snapshot))
