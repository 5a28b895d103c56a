"""A child process for SIGKILL delivery tests: arm a fault point, then deliver the outbox."""

from __future__ import annotations

import os
from datetime import datetime

from kampanj.clock import FixedClock
from kampanj.engine.delivery import deliver
from kampanj.engine.faults import FAULT_ENV
from kampanj.store.database import Database


def run_deliver(url: str, now: str, fault: str) -> None:
    os.environ[FAULT_ENV] = fault
    deliver(Database(url), FixedClock(datetime.fromisoformat(now)))
