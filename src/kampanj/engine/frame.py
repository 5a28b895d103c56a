"""What executing a run's flow needs: the run (`FlowRun`) and one call level (`Frame`).

Level 0 is the run's top campaign; each inline Execute Campaign call adds a level (EXE-7).
A frame knows its chunk, depth, call path and token context; the campaign-wide facts the
call-time guards need (EXE-12..14) are computed once per `FlowRun` and cached.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, Select, Table, select

from kampanj.clock import Clock
from kampanj.engine.validity import CampaignProblems, campaign_problems
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import FieldRegistry
from kampanj.model.settings import MAX_EXECUTE_DEPTH
from kampanj.smartlist.catalogue import match_key
from kampanj.smartlist.context import CompileContext
from kampanj.tokens.context import TokenContext


@dataclass(frozen=True, kw_only=True, slots=True)
class FlowRun:
    """What executing one run's flow needs besides the database."""

    run_id: int
    campaign: Campaign
    fields: FieldRegistry
    compile_context: CompileContext
    tokens: Callable[[], TokenContext]
    """A fresh level-0 step context (the clock is read per step, GEN-1)."""
    references: Any
    definitions: Definitions | None = None
    """Every stored definition: Execute Campaign reads its child here at call time."""
    max_depth: int = MAX_EXECUTE_DEPTH
    """Setting ``maxExecuteDepth`` as it is now (GEN-9, EXE-14)."""
    _problems: dict[int, CampaignProblems] = field(default_factory=dict)
    _validated: list[bool] = field(default_factory=list)

    def campaign_named(self, reference: object, workspace: str) -> Campaign | None:
        """The campaign a step names: id, name or ``Folder/…/Name`` in ``workspace``."""
        if self.definitions is None:
            return None
        return campaign_named(self.definitions, reference, workspace)

    def problems(self, campaign: Campaign) -> CampaignProblems:
        """The campaign's own error findings now (validated once per run)."""
        if not self._validated:
            self._validated.append(True)
            if self.definitions is not None:
                self._problems.update(campaign_problems(self.definitions))
        assert campaign.id is not None
        return self._problems.get(campaign.id, CampaignProblems())


def campaign_named(definitions: Definitions, reference: object, workspace: str) -> Campaign | None:
    """The campaign a step names: id, name or ``Folder/…/Name`` in ``workspace`` (EXE-5)."""
    here = [c for c in definitions.campaigns if match_key(c.workspace) == match_key(workspace)]
    text = str(reference).strip()
    if isinstance(reference, int) or text.isdigit():
        return next((c for c in here if c.id == int(text)), None)
    wanted = match_key(text)
    found = [
        c for c in here if wanted in (match_key(c.name), match_key("/".join((*c.folder, c.name))))
    ]
    return found[0] if len(found) == 1 else None


@dataclass(frozen=True, kw_only=True, slots=True)
class Frame:
    """One level of the call stack while a step executes for one chunk."""

    chunk: int
    """The run chunk being executed (the whole nested call belongs to it)."""
    depth: int
    """0 for the run's top campaign, 1 for a child it calls, … (EXE-7)."""
    path: tuple[str, ...]
    """Call-path segments of the calling steps, level 0 first (LEDG-1)."""
    tokens: TokenContext
    """The token context of this level's campaign (TOK-19..22, EXE-16)."""
    clock: Clock
    """Read once per step (GEN-1)."""
    markers: set[str]
    """Call paths executed in this transaction: their LEDG-1 markers commit with it."""

    @property
    def campaign(self) -> Campaign:
        return self.tokens.campaign

    @property
    def chain(self) -> tuple[Campaign, ...]:
        """The current call chain, level 0 first."""
        return tuple(frame.campaign for frame in self.tokens.call_stack)

    def call_path(self, segment: str) -> str:
        return "/".join((*self.path, segment))

    def enter(self, child: Campaign, *, use_parent_context: bool, segment: str) -> Frame:
        """The frame of ``child`` called from this level's step ``segment`` (EXE-16)."""
        return Frame(
            chunk=self.chunk,
            depth=self.depth + 1,
            path=(*self.path, segment),
            tokens=self.tokens.call(child, use_parent_context=use_parent_context),
            clock=self.clock,
            markers=self.markers,
        )


@dataclass(frozen=True, kw_only=True, slots=True)
class Members:
    """The flow instances a step executes for: ``run_member`` rows at level 0, the call's
    ``call_member`` rows inside an Execute Campaign call."""

    table: Table
    """``run_member`` or ``call_member``."""
    where: tuple[ColumnElement[bool], ...]
    """The rows of this step and chunk that are still in the flow."""
    partitioned: bool = True
    """False when every row takes the Default: ``branch`` was not written and is ignored."""

    def branch(self, branch: int) -> tuple[ColumnElement[bool], ...]:
        if not self.partitioned:
            return self.where
        return (*self.where, self.table.c.branch == branch)

    def persons(self, branch: int) -> Select[Any]:
        """Person ids of one partition: the cohort a step function receives."""
        return select(self.table.c.person_id).where(*self.branch(branch))

    def entries(self, branch: int) -> Select[Any]:
        """(person id, entry id) of one partition."""
        return select(self.table.c.person_id, self.table.c.entry_id).where(*self.branch(branch))
