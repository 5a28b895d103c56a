"""Offering activities written by API calls to trigger campaigns (ACT-6, CMP-14)."""

from __future__ import annotations

import logging

from kampanj.api.context import ApiContext
from kampanj.engine import triggers

log = logging.getLogger("kampanj.api")


def offer_to_triggers(context: ApiContext) -> None:
    """Run the engine's dispatcher after a committed write; the runs it enqueues are queued.

    The dispatcher keeps a cursor over committed activities, so if it fails here the write
    still stands and the next dispatch offers its activities; the caller is not told.
    """
    try:
        triggers.dispatch(context.database, context.clock)
    except Exception:
        log.exception("trigger dispatch after an API write failed; the next dispatch retries")
