"""Find a campaign among stored definitions by the name or path a person typed."""

from __future__ import annotations

import difflib

from kampanj.errors import NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign
from kampanj.smartlist.catalogue import match_key


def find_campaign(definitions: Definitions, name: str, workspace: str | None) -> Campaign:
    """A campaign by name or ``Folder/…/Name`` path (any case), optionally in one workspace."""
    candidates = [
        c
        for c in definitions.campaigns
        if workspace is None or match_key(c.workspace) == match_key(workspace)
    ]
    wanted = match_key(name)
    found = [
        c
        for c in candidates
        if wanted in (match_key(c.name), match_key("/".join((*c.folder, c.name))))
    ]
    if len(found) == 1:
        return found[0]
    if found:
        paths = "; ".join(f"{c.workspace}: {'/'.join((*c.folder, c.name))}" for c in found)
        raise UserError(f"{name!r} names {len(found)} campaigns ({paths}); write the path")
    close = difflib.get_close_matches(name, [c.name for c in candidates], n=3, cutoff=0.5)
    hint = f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
    where = f" in workspace {workspace!r}" if workspace else ""
    raise NotFoundError(f"there is no campaign named {name!r}{where}{hint}")
