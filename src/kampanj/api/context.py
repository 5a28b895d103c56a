"""What every endpoint reaches through the app: database, clock, settings, limiter, queue."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request

from kampanj.api.limits import CallLimiter
from kampanj.api.program_clone import CloneBudget
from kampanj.api.settings import ApiSettings
from kampanj.clock import Clock
from kampanj.queue.notify import Wake
from kampanj.store.database import Database


@dataclass(frozen=True, kw_only=True, slots=True)
class ApiContext:
    """Shared by every request of one app."""

    database: Database
    """The account's database."""
    clock: Clock
    """The one clock (GEN-1)."""
    settings: ApiSettings
    """Limits and identity."""
    limiter: CallLimiter
    """API-9 counters."""
    clones: CloneBudget
    """``cloneToProgramPerDay`` (API-21)."""
    notifier: Wake | None = None
    """Wakes the workers after a write that gives them work: separate `kampanj worker`
    processes through their queue (`kampanj serve --workers 0`) or the worker thread of this
    process (`--workers 1`); None when nothing but ticks runs the queue."""


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.kampanj
    return context
