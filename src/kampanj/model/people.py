"""Persons (overview §5) and their program memberships (overview §7)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime

FieldValue = str | int | float | bool | date | datetime | None
"""A person field value in its Python form."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Person:
    """A person record: id plus typed field values keyed by REST field name."""

    id: int
    """Ascending, never reused (GEN-3)."""
    fields: Mapping[str, FieldValue] = field(default_factory=dict)
    """Field values by REST name (``email``, ``leadScore``, custom names)."""

    def get(self, name: str) -> FieldValue:
        return self.fields.get(name)


@dataclass(frozen=True, kw_only=True, slots=True)
class ProgramMembership:
    """A person's membership in a program."""

    program_id: int
    """The program."""
    person_id: int
    """The member."""
    status: str
    """Current program status."""
    success: bool = False
    """Reached a success status."""
    success_date: date | None = None
    """When success was reached."""
    acquired_by: bool = False
    """This program acquired the person."""
    membership_date: datetime | None = None
    """When the person became a member."""
