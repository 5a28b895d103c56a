"""Lint and apply definition files: load, merge over the stored state, validate, write.

The CLI (`kampanj lint` / `kampanj apply`), the demo and the native API share these, so
VAL-1 (one validator over the resulting state) and VAL-3 (all or nothing) hold everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from kampanj.clock import Clock, SystemClock
from kampanj.definitions.findings import Finding, Severity, count, findings_summary
from kampanj.definitions.loader import LoadedDefinitions, load_paths
from kampanj.definitions.validate import validate
from kampanj.definitions.validation.schedules import check_expires_at_lead_time
from kampanj.errors import DefinitionError
from kampanj.model.account import Definitions
from kampanj.store.database import Database
from kampanj.store.definitions_repo import (
    ApplyReport,
    apply_definitions,
    plan_merge,
    read_definitions,
)


@dataclass(frozen=True, kw_only=True, slots=True)
class AppliedDefinitions:
    """What an apply wrote and the findings it reported (with --force, errors too)."""

    report: ApplyReport
    """Created / updated / unchanged names per kind."""
    findings: tuple[Finding, ...]
    """Loader and validator findings of the applied state."""

    def to_dict(self) -> dict[str, Any]:
        """``{"created", "updated", "unchanged", "findings", "errors", "warnings"}``."""
        return {**self.report.to_dict(), **findings_summary(self.findings)}


def check(
    paths: Sequence[Path], stored: Definitions, *, clock: Clock | None = None
) -> tuple[LoadedDefinitions, list[Finding]]:
    """Load ``paths`` and validate the state they would produce over ``stored`` (VAL-1),
    plus what depends on the change and the clock: an ``expiresAt`` set or changed by
    ``paths`` is at least 15 minutes ahead (CMP-22, LIM-18)."""
    # Stored custom fields and activity types are known to smart lists in the files.
    loaded = load_paths(paths, fields=stored.fields, activity_types=stored.activity_types)
    plan = plan_merge(stored, loaded.definitions)
    now = (clock or SystemClock()).now()
    return loaded, [
        *loaded.findings,
        *validate(plan.merged, sources=loaded.sources),
        *check_expires_at_lead_time(plan.written.campaigns, stored.campaigns, now, loaded.sources),
    ]


def apply_paths(
    database: Database,
    paths: Sequence[Path],
    *,
    force: bool = False,
    clock: Clock | None = None,
) -> AppliedDefinitions:
    """Validate and write ``paths`` in one transaction.

    Raises `DefinitionError` (carrying the findings, nothing written) on any error
    finding unless ``force`` (VAL-3); `UserError` for changes that are never allowed
    (EXE-1 executable flag, a field's type, WS-3).
    """
    with database.begin() as connection:
        loaded, findings = check(paths, read_definitions(connection), clock=clock)
        errors = count(findings, Severity.ERROR)
        if errors and not force:
            raise DefinitionError(
                f"{errors} error finding(s): nothing written (fix them, or use --force)",
                findings,
            )
        report = apply_definitions(connection, loaded.definitions, clock=clock)
    return AppliedDefinitions(report=report, findings=tuple(findings))
