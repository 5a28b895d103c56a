"""Clone a campaign (CMP-24..26, EXE-1): validated like any definition write, all or nothing.

The clone gets the source's smart list, flow, description and schedule settings except
recurrence; pending runs, activation, qualification history and members stay behind
(they are rows of the source, never copied). It is inactive, lives in the source's
workspace, and is executable only when asked — also when the source is executable.
References are copied as written, so "this campaign" / "this program" follow the copy
and every named reference keeps its target (CMP-26).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import Connection

from kampanj.clock import Clock
from kampanj.definitions.export import campaign_yaml
from kampanj.definitions.findings import Finding, Severity, findings_summary
from kampanj.definitions.lookup import find_campaign
from kampanj.definitions.validate import validate
from kampanj.errors import DefinitionError, NotFoundError, UserError
from kampanj.model.account import Definitions
from kampanj.model.campaigns import MAX_CAMPAIGN_NAME_LENGTH, Campaign
from kampanj.model.names import fold
from kampanj.model.tree import FolderPath
from kampanj.store.database import Database
from kampanj.store.definitions_repo import apply_definitions, merge, read_definitions

__all__ = [
    "ClonedCampaign",
    "clone_campaign",
    "clone_definition",
    "clone_stored",
    "resolve_folder",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class ClonedCampaign:
    """The stored clone, its source, and the findings the clone brings (warnings only)."""

    campaign: Campaign
    """The clone as stored (with its new id)."""
    source: Campaign
    """The campaign it was copied from."""
    findings: tuple[Finding, ...]
    """Warnings about the clone (errors would have refused it)."""
    yaml: str
    """The clone as a YAML document of docs/definitions.md, ready to commit ("" in a root)."""

    def to_dict(self) -> dict[str, Any]:
        """``{"id", "name", "workspace", "folder", "executable", "active", "source", …}``."""
        clone = self.campaign
        return {
            "id": clone.id,
            "name": clone.name,
            "workspace": clone.workspace,
            "folder": "/".join(clone.folder),
            "executable": clone.executable,
            "active": clone.active,
            "type": clone.type.value,
            "source": {"id": self.source.id, "name": self.source.name},
            **findings_summary(self.findings),
        }


def clone_definition(
    source: Campaign, *, name: str, folder: FolderPath, executable: bool
) -> Campaign:
    """The definition of a clone of ``source`` (CMP-24): nothing stored, no identity yet."""
    return Campaign(
        workspace=source.workspace,
        folder=folder,
        name=name,
        description=source.description,
        executable=executable,
        smart_list=source.smart_list,
        flow=source.flow,
        schedule=replace(source.schedule, recurrence=None),
        active=False,
        key=None,
        id=None,
    )


def resolve_folder(definitions: Definitions, workspace: str, path: str) -> FolderPath:
    """The folder or program ``path`` (``A/B``, any case) of ``workspace``.

    Campaigns live in folders and programs (definition files cannot place one in a
    workspace's root), so the root is not a target.
    """
    wanted = tuple(fold(part) for part in path.strip().strip("/").split("/"))
    candidates = [f for f in definitions.folders if fold(f.workspace) == fold(workspace)]
    for folder in candidates:
        if tuple(fold(part) for part in folder.path) == wanted:
            return folder.path
    known = sorted("/".join(f.path) for f in candidates if fold(f.name) == wanted[-1])
    hint = f"; did you mean {' or '.join(repr(k) for k in known)}?" if known else ""
    raise NotFoundError(
        f"there is no folder or program {path!r} in workspace {workspace!r}{hint} "
        "(write the path from the workspace root, e.g. 'Lead Management/Lead Scoring')"
    )


def clone_campaign(
    database: Database,
    campaign: str,
    *,
    name: str,
    to: str | None = None,
    executable: bool = False,
    workspace: str | None = None,
    clock: Clock | None = None,
) -> ClonedCampaign:
    """Clone ``campaign`` as ``name`` in one transaction (CMP-24, CMP-25, VAL-1, VAL-3).

    Raises `NotFoundError` for an unknown campaign or folder, and `DefinitionError`
    (Marketo 709, nothing written) for a taken name, a triggered campaign cloned into an
    executable, or any error finding the clone would add to the stored state.
    """
    with database.begin() as connection:
        stored = read_definitions(connection)
        source = find_campaign(stored, campaign, workspace)
        folder = source.folder if to is None else resolve_folder(stored, source.workspace, to)
        return clone_stored(
            connection, stored, source, name=name, folder=folder, executable=executable, clock=clock
        )


def clone_stored(
    connection: Connection,
    stored: Definitions,
    source: Campaign,
    *,
    name: str,
    folder: FolderPath,
    executable: bool = False,
    clock: Clock | None = None,
) -> ClonedCampaign:
    """Clone ``source`` (one of ``stored``) into ``folder`` in the caller's transaction.

    For callers that identify campaigns and folders their own way (REST ids, API-25);
    refuses like `clone_campaign`, before anything is written.
    """
    clone = clone_definition(source, name=name.strip(), folder=folder, executable=executable)
    _check_name(stored, clone)
    findings = _validate(stored, source, clone)
    apply_definitions(connection, Definitions(campaigns=(clone,)), clock=clock)
    written = _stored_clone(connection, clone)
    return ClonedCampaign(
        campaign=written,
        source=source,
        findings=tuple(findings),
        yaml=campaign_yaml(written, stored.folders) if written.folder else "",
    )


def _check_name(stored: Definitions, clone: Campaign) -> None:
    """CMP-1: 1–255 characters, unique case-insensitively in the target folder."""
    if not clone.name:
        raise UserError("the clone needs a name: --name NEW")
    if len(clone.name) > MAX_CAMPAIGN_NAME_LENGTH:
        raise UserError(
            f"campaign names hold at most {MAX_CAMPAIGN_NAME_LENGTH} characters (CMP-1)"
        )
    for other in stored.campaigns:
        if _same_place(other, clone) and fold(other.name) == fold(clone.name):
            where = "/".join(clone.folder) or "the workspace root"
            message = (
                f"there is already a campaign {other.name!r} in {where!r} "
                f"(workspace {clone.workspace!r}); campaign names are unique per folder or "
                "program (CMP-1): choose another --name or --to"
            )
            raise DefinitionError(
                message + "; nothing written",
                [_finding("DUPLICATE_NAME", message, clone)],
            )


def _validate(stored: Definitions, source: Campaign, clone: Campaign) -> list[Finding]:
    """Validate the state with the clone (VAL-1); refuse errors the clone adds (VAL-3).

    Errors already present in the stored state (forced writes) belong to other campaigns
    and do not block the clone; everything the clone introduces does, including errors
    it causes elsewhere (a reference by name that the new campaign makes ambiguous).
    """
    existing = {_identity(f) for f in validate(stored) if f.is_error}
    findings = validate(merge(stored, Definitions(campaigns=(clone,))))
    added = [f for f in findings if f.is_error and _identity(f) not in existing]
    if clone.executable and source.smart_list.triggers:
        names = ", ".join(repr(t.name) for t in source.smart_list.triggers)
        raise DefinitionError(
            f"campaign {source.name!r} has trigger(s) {names}; a campaign with triggers "
            "cannot be cloned into an executable one (CMP-25, EXE-3): nothing written",
            added,
        )
    if added:
        raise DefinitionError(
            f"the clone {clone.name!r} would add {len(added)} error finding(s): nothing written",
            added,
        )
    return [f for f in findings if not f.is_error and _about(f, clone)]


def _stored_clone(connection: Connection, clone: Campaign) -> Campaign:
    for campaign in read_definitions(connection).campaigns:
        if _same_place(campaign, clone) and fold(campaign.name) == fold(clone.name):
            return campaign
    raise AssertionError(f"the clone {clone.name!r} was written but cannot be read back")


def _same_place(a: Campaign, b: Campaign) -> bool:
    return fold(a.workspace) == fold(b.workspace) and [fold(p) for p in a.folder] == [
        fold(p) for p in b.folder
    ]


def _about(finding: Finding, clone: Campaign) -> bool:
    return finding.campaign_id is None and finding.campaign == clone.name


def _identity(finding: Finding) -> tuple[str, str | None, int | None, str]:
    # Not the message: "did you mean …" hints may change once the clone exists.
    return (finding.code, finding.campaign, finding.campaign_id, finding.location)


def _finding(code: str, message: str, clone: Campaign) -> Finding:
    return Finding(code=code, severity=Severity.ERROR, message=message, campaign=clone.name)
