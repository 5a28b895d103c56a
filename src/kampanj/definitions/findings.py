"""Validation findings (VAL-2, VAL-5)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, kw_only=True, slots=True)
class Finding:
    """One problem found in definitions; the message says what to change."""

    code: str
    """Catalogue code (VAL-5), e.g. ``REF_UNKNOWN``."""
    severity: Severity
    """Errors block writes; warnings never do."""
    message: str
    """What is wrong and what to change."""
    location: str = ""
    """Where inside the object, e.g. ``flow.s2.choices[1]``."""
    campaign: str | None = None
    """Name of the campaign the finding belongs to, if any."""
    campaign_id: int | None = None
    """Id of that campaign once stored."""
    path: tuple[int, ...] = ()
    """Campaign ids from the validated campaign down (call-graph findings)."""
    file: str | None = None
    """YAML file the problem is in."""
    line: int | None = None
    """1-based line in ``file``."""
    column: int | None = None
    """1-based column in ``file``."""

    @property
    def is_error(self) -> bool:
        return self.severity is Severity.ERROR

    def where(self) -> str:
        """``file:line:column`` as far as known."""
        if self.file is None:
            return ""
        if self.line is None:
            return self.file
        if self.column is None:
            return f"{self.file}:{self.line}"
        return f"{self.file}:{self.line}:{self.column}"

    def sort_key(self) -> tuple[str, int, int, str, str]:
        return (self.file or "", self.line or 0, self.column or 0, self.location, self.code)

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "severity": self.severity.value,
            "campaignId": self.campaign_id,
            "campaign": self.campaign,
            "path": list(self.path),
            "location": self.location,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "column": self.column,
        }


def count(findings: Sequence[Finding], severity: Severity) -> int:
    """How many of ``findings`` have ``severity``."""
    return sum(1 for f in findings if f.severity is severity)


def findings_summary(findings: Sequence[Finding]) -> dict[str, Any]:
    """``{"findings": [...], "errors": n, "warnings": n}``: lint and apply JSON (VAL-6)."""
    return {
        "findings": [f.to_dict() for f in findings],
        "errors": count(findings, Severity.ERROR),
        "warnings": count(findings, Severity.WARNING),
    }
