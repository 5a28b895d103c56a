"""``cloneToProgramName`` of schedule.json (API-21): copy a campaign's program, then the
caller schedules the copy of the campaign.

The copy sits beside the original (same parent folder) under the new name and holds a copy
of every folder, My Token and campaign beneath the program. Campaigns are copied as
`clone_definition` copies one (CMP-24): inactive, no recurrence, no runs, members or
history, references as written — so "this program" follows the copy. Static lists, smart
lists and emails have workspace-unique names in kampanj (their references name them), so a
program holding any of them cannot be copied under the same names: refused with 709, as
Marketo refuses programs with static lists. The write is validated like `kampanj apply`
(VAL-3): an error finding the copy adds refuses it.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import date

from sqlalchemy import Connection

from kampanj.api.envelope import BUSINESS_RULE, ApiError
from kampanj.api.settings import QUOTA_DAY_ZONE, ApiSettings
from kampanj.api.validation import refuse_new_errors
from kampanj.clock import Clock
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign
from kampanj.model.names import fold
from kampanj.model.tree import FolderPath
from kampanj.services.clone import clone_definition
from kampanj.store.definitions_repo import apply_definitions, merge, read_definitions

CLONE_LIMIT = "1020"
MAX_PROGRAM_NAME_LENGTH = 255


class CloneBudget:
    """``cloneToProgramPerDay`` per account, per day from 00:00 UTC−06:00 (API-21, LIM-11).

    Kept in the server's memory like the API-9 counters (limits.py).
    """

    def __init__(self, settings: ApiSettings, clock: Clock) -> None:
        self._limit = settings.clone_to_program_per_day
        self._clock = clock
        self._lock = threading.Lock()
        self._day: date | None = None
        self._used = 0

    def check(self) -> None:
        """1020 when today's clones are used up."""
        with self._lock:
            if self._today() == self._day and self._used >= self._limit:
                raise ApiError(
                    CLONE_LIMIT,
                    f"Clone limit reached: at most {self._limit} cloneToProgramName calls a day",
                )

    def spend(self) -> None:
        with self._lock:
            today = self._today()
            if today != self._day:
                self._day, self._used = today, 0
            self._used += 1

    def _today(self) -> date:
        return self._clock.now().astimezone(QUOTA_DAY_ZONE).date()


def _program_of(definitions: Definitions, campaign: Campaign) -> FolderPath:
    """The path of the innermost program holding ``campaign``; 709 when there is none."""
    programs = {
        tuple(fold(p) for p in f.path): f.path
        for f in definitions.folders
        if f.is_program and fold(f.workspace) == fold(campaign.workspace)
    }
    for length in range(len(campaign.folder), 0, -1):
        found = programs.get(tuple(fold(p) for p in campaign.folder[:length]))
        if found is not None:
            return found
    raise ApiError(
        BUSINESS_RULE,
        f"Campaign {campaign.name!r} is not in a program; cloneToProgramName needs one",
    )


def _beneath(path: FolderPath | None, root: FolderPath) -> bool:
    if path is None or len(path) < len(root):
        return False
    return [fold(p) for p in path[: len(root)]] == [fold(p) for p in root]


def clone_program(
    connection: Connection, campaign: Campaign, name: str, clock: Clock
) -> FolderPath:
    """Copy the program holding ``campaign`` as ``name`` in the caller's transaction;
    returns the folder of the campaign's copy. 709 (nothing written) when it cannot be
    copied."""
    name = name.strip()
    if not name or len(name) > MAX_PROGRAM_NAME_LENGTH:
        raise ApiError(
            BUSINESS_RULE, f"cloneToProgramName must be 1-{MAX_PROGRAM_NAME_LENGTH} characters"
        )
    stored = read_definitions(connection)
    root = _program_of(stored, campaign)
    workspace = fold(campaign.workspace)

    def inside(item_workspace: str | None, path: FolderPath | None) -> bool:
        return fold(item_workspace or "") == workspace and _beneath(path, root)

    for kind, items in (
        ("static lists", stored.static_lists),
        ("smart lists", stored.smart_lists),
        ("emails", stored.emails),
    ):
        held = [i.name for i in items if inside(i.workspace, i.folder)]
        if held:
            raise ApiError(
                BUSINESS_RULE,
                f"Program {root[-1]!r} holds {kind} ({', '.join(map(repr, held))}), whose "
                "names are unique in the workspace: it cannot be cloned",
            )
    if any(fold(f.name) == fold(name) for f in stored.folders if fold(f.workspace) == workspace):
        raise ApiError(
            BUSINESS_RULE, f"The name {name!r} is taken by a folder or program in the workspace"
        )
    target = (*root[:-1], name)

    def moved(path: FolderPath) -> FolderPath:
        return (*target, *path[len(root) :])

    copy = Definitions(
        folders=tuple(
            replace(f, path=moved(f.path), key=None, id=None)
            for f in stored.folders
            if inside(f.workspace, f.path)
        ),
        tokens=tuple(
            replace(t, folder=moved(t.folder))
            for t in stored.tokens
            if t.folder is not None and inside(t.workspace, t.folder)
        ),
        campaigns=tuple(
            clone_definition(c, name=c.name, folder=moved(c.folder), executable=c.executable)
            for c in stored.campaigns
            if inside(c.workspace, c.folder)
        ),
    )
    refuse_new_errors(stored, merge(stored, copy))
    apply_definitions(connection, copy, clock=clock)
    return moved(campaign.folder)
