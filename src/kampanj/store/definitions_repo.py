"""The definitions repository: read, merge and write a whole `Definitions` bundle.

`apply_definitions` writes in the caller's transaction, so with `Database.begin()` an
apply is all or nothing. Identity rules are in `repositories.merging`; writes never
delete (objects the input does not mention stay).
"""

from __future__ import annotations

from kampanj.store.repositories.merging import MergePlan, merge, plan_merge
from kampanj.store.repositories.reading import read_definitions
from kampanj.store.repositories.report import ApplyReport, Kind, Outcome
from kampanj.store.repositories.writing import apply_definitions

__all__ = [
    "ApplyReport",
    "Kind",
    "MergePlan",
    "Outcome",
    "apply_definitions",
    "merge",
    "plan_merge",
    "read_definitions",
]
