"""What compiling a smart list needs: registries, the clock, references by name."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Table, exists, select

from kampanj.model.account import Definitions
from kampanj.model.smartlists import SmartList, Value
from kampanj.smartlist.backends import PersonSet
from kampanj.smartlist.catalogue import Catalogue, ConditionSpec, match_key, value_problem
from kampanj.smartlist.conditions import Moment

_T = TypeVar("_T")


class InvalidSmartList(Exception):
    """A smart list that cannot qualify anyone (SL-9, SL-10); the message says why."""


class Placement(StrEnum):
    """Where the compiled predicate will run, which decides the subquery form."""

    SET = "set"
    """Over the whole ``person`` table: uncorrelated ``IN`` subqueries (`PersonSet`), each
    scanned once through the ``(activity_type_id, activity_date, …)`` covering index (on
    SQLite ``Min. Number of Times`` ≥ 2 stays a correlated count, see `compile_activity`)."""
    PERSON = "person"
    """Restricted to a few persons (triggers, explain): correlated ``EXISTS`` probes
    through the ``(person_id, activity_type_id, activity_date)`` index."""


def _key(workspace: str, name: str) -> tuple[str, str]:
    return match_key(workspace), match_key(name)


@dataclass(frozen=True, kw_only=True, slots=True)
class References:
    """Assets a filter may name, by (workspace, name) folded (GEN-7, WS-2)."""

    static_lists: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """Static list ids."""
    smart_lists: Mapping[tuple[str, str], SmartList] = field(default_factory=dict)
    """Stand-alone smart lists (their rules are compiled inline)."""
    programs: Mapping[tuple[str, str], int] = field(default_factory=dict)
    """Program (folder) ids."""
    campaigns: Mapping[tuple[str, tuple[str, ...]], tuple[int, ...]] = field(default_factory=dict)
    """Campaign ids per name (several campaigns may share a name in different folders)."""

    @classmethod
    def from_definitions(cls, definitions: Definitions) -> References:
        campaigns: dict[tuple[str, tuple[str, ...]], list[int]] = {}
        for campaign in definitions.campaigns:
            if campaign.id is not None:
                key = (match_key(campaign.workspace), (match_key(campaign.name),))
                campaigns.setdefault(key, []).append(campaign.id)
        return cls(
            static_lists={
                _key(s.workspace, s.name): s.id
                for s in definitions.static_lists
                if s.id is not None
            },
            smart_lists={_key(s.workspace, s.name): s for s in definitions.smart_lists},
            programs={
                _key(f.workspace, f.name): f.id
                for f in definitions.folders
                if f.is_program and f.id is not None
            },
            campaigns={k: tuple(v) for k, v in campaigns.items()},
        )

    def static_list(self, workspace: str, name: Value) -> int:
        return _found(self.static_lists.get(_key(workspace, str(name))), "static list", name)

    def smart_list(self, workspace: str, name: Value) -> SmartList:
        return _found(self.smart_lists.get(_key(workspace, str(name))), "smart list", name)

    def program(self, workspace: str, name: Value) -> int:
        return _found(self.programs.get(_key(workspace, str(name))), "program", name)

    def campaign(self, workspace: str, name: Value) -> int:
        ids = self.campaigns.get((match_key(workspace), (match_key(str(name)),)), ())
        if len(ids) > 1:
            raise InvalidSmartList(f"several campaigns are named {name!r}")
        return _found(ids[0] if ids else None, "campaign", name)


def _found(value: _T | None, kind: str, name: Value) -> _T:
    if value is None:
        raise InvalidSmartList(f"there is no {kind} named {name!r} in this workspace (SL-9)")
    return value


@dataclass(frozen=True, kw_only=True, slots=True)
class CompileContext:
    """Everything a compile function reads; immutable, one per evaluation instant."""

    catalogue: Catalogue
    """Filters and triggers of this account's fields and activity types."""
    person: Table
    """The ``person`` table with the account's custom-field columns."""
    moment: Moment
    """Clock instant and account time zone for relative dates (GEN-1)."""
    workspace: str = "Default"
    """Workspace whose assets filters name (WS-2)."""
    references: References = field(default_factory=References)
    """Named assets."""
    placement: Placement = Placement.SET
    """Subquery form to emit."""
    nesting: tuple[str, ...] = ()
    """Smart lists being compiled around this one (cycle detection, SL-9)."""

    def at(self, placement: Placement) -> CompileContext:
        return replace(self, placement=placement)

    def inside(self, smart_list: str) -> CompileContext:
        return replace(self, nesting=(*self.nesting, match_key(smart_list)))

    def person_in(
        self, person_id: ColumnElement[Any], *where: ColumnElement[bool]
    ) -> ColumnElement[bool]:
        """True when the person has a row among ``where`` (``person_id`` its person column)."""
        if self.placement is Placement.PERSON:
            return exists().where(person_id == self.person.c.id, *where)
        rows = select(person_id).where(*where)
        return PersonSet(self.person.c.id, (rows,), sqlite=self.person.c.id.in_(rows))


def checked_operator(
    subject: str, spec: ConditionSpec, operator: str | None, values: Sequence[Value]
) -> str:
    """The canonical operator of a condition, or `InvalidSmartList` with the SL-9 reason.

    The checks are the catalogue's, the same the validator reports at lint time.
    """
    canonical = spec.operator(operator) if operator else None
    if canonical is None:
        raise InvalidSmartList(
            f"{subject}: operator {operator!r} does not fit; use one of "
            f"{', '.join(spec.operators)} (SL-9)"
        )
    problem = value_problem(spec, canonical, values)
    if problem:
        raise InvalidSmartList(f"{subject}: {problem} (SL-9)")
    return canonical
