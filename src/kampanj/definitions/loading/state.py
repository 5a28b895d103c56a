"""What loading collects across all documents, and how it records findings and positions."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kampanj.definitions import document as d
from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.sources import ObjectKey, SourceLocation, SourceMap
from kampanj.definitions.yaml_source import DataPath, YamlDocument
from kampanj.model.activities import ActivityTypeDef
from kampanj.model.assets import Email, Webhook
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import FieldDef
from kampanj.model.smartlists import SmartList, StaticList
from kampanj.model.tokens import MyToken
from kampanj.model.tree import Channel, Folder, FolderPath, Workspace

__all__ = ["FolderDecl", "LoadState", "Pending"]


@dataclass(kw_only=True, slots=True)
class Pending:
    """A smart list or campaign waiting for the catalogue (phase 2)."""

    doc: d.SmartListDoc | d.CampaignDoc
    source: YamlDocument
    path: DataPath
    workspace: str
    folder: FolderPath


@dataclass(kw_only=True, slots=True)
class FolderDecl:
    """A folder or program as first declared, and whether its own attributes are set."""

    folder: Folder
    declared_settings: bool
    where: SourceLocation | None


class LoadState:
    """Objects read so far, findings, and the source map being built."""

    def __init__(
        self, known_fields: tuple[FieldDef, ...], known_types: tuple[ActivityTypeDef, ...]
    ) -> None:
        self.known_fields = known_fields
        self.known_types = known_types
        self.findings: list[Finding] = []
        self.sources = SourceMap()
        self.settings: dict[str, Any] = {}
        self.settings_where: dict[str, SourceLocation | None] = {}
        self.fields: list[FieldDef] = []
        self.activity_types: list[ActivityTypeDef] = []
        self.channels: list[Channel] = []
        self.webhooks: list[Webhook] = []
        self.workspaces: dict[str, Workspace] = {}
        self.workspace_described: dict[str, SourceLocation | None] = {}
        self.folders: dict[str, FolderDecl] = {}
        self.tokens: list[MyToken] = []
        self.static_lists: list[StaticList] = []
        self.emails: list[Email] = []
        self.pending: list[Pending] = []
        self.smart_lists: list[SmartList] = []
        self.campaigns: list[Campaign] = []

    def where(self, source: YamlDocument, path: DataPath) -> SourceLocation | None:
        position = source.position(path)
        if position is None:
            return None
        return SourceLocation(file=source.file, line=position[0], column=position[1])

    def report(
        self,
        code: str,
        message: str,
        source: YamlDocument,
        path: DataPath,
        *,
        location: str = "",
        campaign: str | None = None,
        severity: Severity = Severity.ERROR,
    ) -> None:
        where = self.where(source, path)
        self.findings.append(
            Finding(
                code=code,
                severity=severity,
                message=message,
                location=location,
                campaign=campaign,
                file=source.file,
                line=where.line if where else None,
                column=where.column if where else None,
            )
        )

    def start(self, obj: object | ObjectKey, source: YamlDocument, path: DataPath) -> int:
        """Record a new occurrence of ``obj`` at ``path``; returns its occurrence number."""
        where = self.where(source, path) or SourceLocation(file=source.file, line=1, column=1)
        return self.sources.start(obj, where)

    def mark(
        self,
        obj: object | ObjectKey,
        occurrence: int,
        location: str,
        source: YamlDocument,
        path: DataPath,
    ) -> None:
        where = self.where(source, path)
        if where is not None:
            self.sources.record(obj, location, where, occurrence=occurrence)

    def mark_keys(
        self,
        obj: object | ObjectKey,
        occurrence: int,
        raw: Any,
        source: YamlDocument,
        path: DataPath,
    ) -> None:
        """Record each top-level key of ``raw`` as a location of the object."""
        if isinstance(raw, dict):
            for key in raw:
                self.mark(obj, occurrence, str(key), source, (*path, key))
