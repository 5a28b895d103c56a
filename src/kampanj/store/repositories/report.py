"""What an apply did, per kind of object (created / updated / unchanged, with names)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    """Kinds of definitions in write order (parents before what refers to them)."""

    SETTINGS = "settings"
    WORKSPACES = "workspaces"
    FIELDS = "fields"
    ACTIVITY_TYPES = "activityTypes"
    CHANNELS = "channels"
    WEBHOOKS = "webhooks"
    FOLDERS = "folders"
    TOKENS = "tokens"
    STATIC_LISTS = "staticLists"
    SMART_LISTS = "smartLists"
    EMAILS = "emails"
    CAMPAIGNS = "campaigns"


class Outcome(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, kw_only=True, slots=True)
class ApplyReport:
    """Names of the objects an apply created, updated or left unchanged, per kind."""

    entries: dict[Outcome, dict[Kind, list[str]]] = field(
        default_factory=lambda: {o: {k: [] for k in Kind} for o in Outcome}
    )
    """Outcome → kind → names, in write order."""

    def record(self, kind: Kind, outcome: Outcome, name: str) -> None:
        self.entries[outcome][kind].append(name)

    def names(self, outcome: Outcome, kind: Kind) -> list[str]:
        return list(self.entries[outcome][kind])

    def count(self, outcome: Outcome, kind: Kind | None = None) -> int:
        kinds = list(Kind) if kind is None else [kind]
        return sum(len(self.entries[outcome][k]) for k in kinds)

    @property
    def changed(self) -> bool:
        return self.count(Outcome.CREATED) + self.count(Outcome.UPDATED) > 0

    def to_dict(self) -> dict[str, Any]:
        """``{"created": {kind: [names]}, "updated": …, "unchanged": …}``."""
        return {
            outcome.value: {kind.value: list(names) for kind, names in by_kind.items()}
            for outcome, by_kind in self.entries.items()
        }
