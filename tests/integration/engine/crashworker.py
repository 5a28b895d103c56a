"""Child processes for SIGKILL crash tests: they arm a fault point, then run or tick.

Started with the ``spawn`` method, so each child is a fresh interpreter with its own
database connections; the fault point (``KAMPANJ_FAULT``) is set in the child only.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections.abc import Callable
from datetime import datetime

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.engine.faults import FAULT_ENV
from kampanj.engine.tick import tick
from kampanj.store.database import Database

_TIMEOUT_SECONDS = 300  # a hung child fails the test instead of hanging it


def run_campaign(url: str, campaign: str, now: str, chunk_size: int, fault: str) -> None:
    os.environ[FAULT_ENV] = fault
    run_batch(
        Database(url), FixedClock(datetime.fromisoformat(now)), campaign, chunk_size=chunk_size
    )


def run_tick(url: str, now: str, fault: str) -> None:
    os.environ[FAULT_ENV] = fault
    tick(Database(url), FixedClock(datetime.fromisoformat(now)))


def killed(target: Callable[..., None], *args: object) -> None:
    """Run ``target(*args)`` in a child and require that its fault point killed it."""
    child = multiprocessing.get_context("spawn").Process(target=target, args=args)
    child.start()
    child.join(_TIMEOUT_SECONDS)
    if child.is_alive():
        child.kill()
        child.join()
        raise AssertionError("the child did not finish in time")
    assert child.exitcode == -signal.SIGKILL, f"child exit code {child.exitcode}: fault not hit"
