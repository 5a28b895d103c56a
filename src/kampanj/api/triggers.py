"""Offering activities written by API calls to trigger campaigns (ACT-6, CMP-14), and
waking separate workers to start the runs they fired (queue/notify.py)."""

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
    wake_workers(context)


def wake_workers(context: ApiContext) -> None:
    """After a committed write: wake the workers if they have something to start — a
    dispatch message on their queue, or the worker thread of this process (never raises;
    without a notifier the next tick or sweep starts it)."""
    if context.notifier is not None:
        context.notifier.wake(context.database, context.clock)
