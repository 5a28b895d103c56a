"""One exception tree for kampanj.

    KampanjError
    ├── UserError                 bad input a person can fix; the CLI exits 1 with the message
    │   ├── ConfigurationError    unusable settings or database URL
    │   ├── DefinitionError       definitions with error findings (carries the findings)
    │   ├── NotFoundError         a named object does not exist
    │   └── ImportFileError       an import file that cannot be read at all
    └── StorageError              the database refused something it should not have

API-facing errors carry the Marketo error code they map to (``marketo_code``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kampanj.definitions.findings import Finding


class KampanjError(Exception):
    """Base of every error kampanj raises on purpose."""

    marketo_code: str = "611"


class UserError(KampanjError):
    """Input a person can fix; the message says what to change."""

    marketo_code = "1003"


class ConfigurationError(UserError):
    """Settings or a database URL kampanj cannot use."""


class NotFoundError(UserError):
    """A named object (campaign, person, list, ...) does not exist."""

    marketo_code = "1013"


class ImportFileError(UserError):
    """An import file that cannot be read at all (missing, unknown format, no header)."""


class DefinitionError(UserError):
    """Definitions with error findings; nothing was written."""

    marketo_code = "709"

    def __init__(self, message: str, findings: Sequence[Finding]) -> None:
        super().__init__(message)
        self.findings = tuple(findings)


class StorageError(KampanjError):
    """The database refused an operation kampanj expected to succeed."""
