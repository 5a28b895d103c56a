"""Smart list rules, stand-alone smart lists and static lists (SL-1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kampanj.model.tree import FolderPath

Value = str | int | float | bool
"""A literal filter value as written (SL-8: tokens are not resolved)."""


class FilterMatchType(StrEnum):
    """How filters combine (SL-3, SL-4)."""

    ALL = "All"
    ANY = "Any"
    ADVANCED = "Advanced"


@dataclass(frozen=True, kw_only=True, slots=True)
class Condition:
    """An operator and its values, applied to a field or an activity attribute."""

    name: str
    """Field or attribute the condition reads (``primary`` for an activity's primary value)."""
    operator: str
    """Operator in canonical casing, e.g. ``is not empty``."""
    values: tuple[Value, ...] = ()
    """Values compared against; several values follow SL-11."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Rule:
    """A filter or trigger: a catalogue name plus its conditions (SL-1)."""

    name: str
    """Catalogue name as users know it: ``Lead Score``, ``Visited Web Page``, ``Member of List``."""
    operator: str | None = None
    """Operator of attribute and membership filters; None for activity rules."""
    values: tuple[Value, ...] = ()
    """Values of attribute and membership filters."""
    primary: Condition | None = None
    """Condition on an activity rule's primary attribute."""
    constraints: tuple[Condition, ...] = ()
    """Constraints of activity and membership rules, incl. ``Date of Activity``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class SmartListRules:
    """Triggers, filters and filter logic of a smart list (SL-1)."""

    triggers: tuple[Rule, ...] = ()
    """Triggers, always OR-ed (SL-2)."""
    filters: tuple[Rule, ...] = ()
    """Filters numbered 1…N by position."""
    match_type: FilterMatchType = FilterMatchType.ALL
    """How the filters combine."""
    advanced_logic: str | None = None
    """Expression over filter numbers when ``match_type`` is Advanced (SL-4)."""

    @property
    def is_empty(self) -> bool:
        return not self.triggers and not self.filters


@dataclass(frozen=True, kw_only=True, slots=True)
class SmartList:
    """A stand-alone smart list: filters only, membership computed on demand (SL-7)."""

    workspace: str
    """Owning workspace."""
    folder: FolderPath
    """Containing folder or program."""
    name: str
    """Name, unique in the workspace (case-insensitive)."""
    rules: SmartListRules
    """Its filters and logic."""
    description: str = ""
    """Free text."""
    key: str | None = None
    """Stable identity chosen by the author."""
    id: int | None = None
    """Storage id once written."""


@dataclass(frozen=True, kw_only=True, slots=True)
class StaticList:
    """An explicit set of persons (overview §7)."""

    workspace: str
    """Owning workspace."""
    folder: FolderPath
    """Containing folder or program."""
    name: str
    """Name, unique in the workspace (case-insensitive)."""
    description: str = ""
    """Free text."""
    key: str | None = None
    """Stable identity chosen by the author."""
    id: int | None = None
    """Storage id once written."""
