"""Fault injection for crash tests (LEDG-4): SIGKILL this process at a named point.

``KAMPANJ_FAULT`` names one point, e.g. ``before-commit:s2:chunk:0`` (inside the step's
transaction), ``after-step:s2:chunk:1`` (just after it committed) or ``after-wake:3``
(people of run 3 woke from a Wait, their steps not yet taken). Unset, every check is one
environment lookup and nothing happens.
"""

from __future__ import annotations

import os
import signal

FAULT_ENV = "KAMPANJ_FAULT"


def point(*parts: object) -> str:
    """The name of a fault point: its parts joined with ``:``."""
    return ":".join(str(part) for part in parts)


def hit(*parts: object) -> None:
    """Die at once, like a power cut, when ``KAMPANJ_FAULT`` names this point."""
    wanted = os.environ.get(FAULT_ENV)
    if wanted and wanted == point(*parts):
        os.kill(os.getpid(), signal.SIGKILL)
