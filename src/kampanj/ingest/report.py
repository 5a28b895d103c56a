"""What an import tells its caller: progress while it runs, a report at the end."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True, slots=True)
class SkippedRow:
    """A row that was not loaded, and why."""

    line: int
    """1-based line of the file where the row starts."""
    reason: str
    """What is wrong with it, naming the field and value to fix."""


ProgressCallback = Callable[[int, int | None], None]
"""Called after each chunk with (bytes of the file read so far, file size if known)."""


def no_progress(_done: int, _total: int | None) -> None:
    """A progress callback that ignores progress."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ImportReport:
    """Outcome of `import_people`."""

    created: int
    """People created (each with a New Lead activity, ACT-7)."""
    updated: int
    """People with at least one changed field (one Change Data Value per field, ACT-7)."""
    unchanged: int
    """Rows matching a person whose values were already stored."""
    skipped: tuple[SkippedRow, ...]
    """Rows not loaded, in file order."""
    seconds: float
    """Wall time of the import."""

    def to_dict(self) -> dict[str, object]:
        return {
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True, kw_only=True, slots=True)
class ActivityImportReport:
    """Outcome of `import_activities`."""

    imported: int
    """Activities written."""
    skipped: tuple[SkippedRow, ...]
    """Rows not loaded, in file order."""
    seconds: float
    """Wall time of the import."""

    def to_dict(self) -> dict[str, object]:
        return {
            "imported": self.imported,
            "skipped": [{"line": s.line, "reason": s.reason} for s in self.skipped],
            "seconds": round(self.seconds, 3),
        }


@dataclass(kw_only=True, slots=True)
class Skips:
    """Collects skipped rows while an import runs."""

    rows: list[SkippedRow] = field(default_factory=list)

    def add(self, line: int, reason: str) -> None:
        self.rows.append(SkippedRow(line=line, reason=reason))

    def frozen(self) -> tuple[SkippedRow, ...]:
        return tuple(sorted(self.rows, key=lambda s: s.line))
