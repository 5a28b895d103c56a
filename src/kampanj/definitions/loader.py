"""Loading YAML definitions into the frozen domain model, with file/line positions.

Public contract (used by ``kampanj lint`` / ``kampanj apply``)::

    load_paths(paths) -> LoadedDefinitions     # files or directories (*.yaml, *.yml)
    load_text(text, file="<string>") -> LoadedDefinitions

Loading happens in two phases. Phase 1 reads every document's shape (pydantic, unknown
keys refused) and collects account-level objects and the folder tree. Phase 2 builds
the field and activity-type registries from everything seen (plus ``fields`` /
``activity_types`` the caller already has stored) and converts smart lists and flows
against that catalogue, so a filter on a custom field defined in another file works.

Several files may contribute to one workspace. A folder or program written in several
places is one container: each place may add contents, but only one may declare the
container's own attributes (description, key, tokens, channel), and all must agree on
folder vs program; anything else is a ``DUPLICATE_NAME`` finding, never a silent merge.
Loader findings are shape problems only (YAML syntax, unknown or missing keys, wrong
types, unknown steps); everything else is left to ``validate``.
"""

from __future__ import annotations

import copy
import difflib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ValidationError

from kampanj.definitions import document as d
from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.flow import FlowContext, parse_step
from kampanj.definitions.rules import parse_logic, parse_rule
from kampanj.definitions.sources import (
    ObjectKey,
    SourceLocation,
    SourceMap,
    folder_key,
    object_key,
)
from kampanj.definitions.yaml_source import DataPath, YamlDocument, load_yaml
from kampanj.model.account import Definitions
from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry, AttributeDef
from kampanj.model.assets import Email, ResponseMapping, Webhook
from kampanj.model.campaigns import (
    Campaign,
    QualificationRule,
    QualificationRuleType,
    QualificationUnit,
    Recurrence,
    Schedule,
    Step,
)
from kampanj.model.fields import (
    FIELD_NAME_PATTERN,
    STANDARD_FIELDS,
    FieldDef,
    FieldRegistry,
    custom_column_name,
)
from kampanj.model.settings import SETTING_NAMES, AccountSettings
from kampanj.model.smartlists import SmartList, SmartListRules, StaticList
from kampanj.model.tokens import MyToken
from kampanj.model.tree import (
    DEFAULT_WORKSPACE,
    Channel,
    Folder,
    FolderKind,
    FolderPath,
    ProgramStatus,
    Workspace,
)
from kampanj.smartlist.catalogue import Catalogue

__all__ = [
    "LoadedDefinitions",
    "SourceLocation",
    "SourceMap",
    "load_documents",
    "load_paths",
    "load_text",
]

M = TypeVar("M", bound=BaseModel)
YAML_SUFFIXES = (".yaml", ".yml")
_UNITS = {unit.value: unit for unit in QualificationUnit}


@dataclass(frozen=True, kw_only=True, slots=True)
class LoadedDefinitions:
    """What loading produced: the definitions, shape findings and positions."""

    definitions: Definitions
    """Everything that could be converted."""
    findings: tuple[Finding, ...]
    """Shape errors (YAML syntax, unknown or missing keys, wrong types), with file and line."""
    sources: SourceMap = field(default_factory=SourceMap)
    """Where each object and each part of it was written."""


def load_text(
    text: str,
    file: str = "<string>",
    *,
    fields: Iterable[FieldDef] = (),
    activity_types: Iterable[ActivityTypeDef] = (),
) -> LoadedDefinitions:
    """Load one YAML text (several ``---`` documents allowed)."""
    parsed = load_yaml(text, file)
    return load_documents(
        parsed.documents, parsed.findings, fields=fields, activity_types=activity_types
    )


def load_paths(
    paths: Sequence[Path],
    *,
    fields: Iterable[FieldDef] = (),
    activity_types: Iterable[ActivityTypeDef] = (),
) -> LoadedDefinitions:
    """Load files and directories (``*.yaml`` / ``*.yml`` recursively, in sorted order).

    ``fields`` and ``activity_types`` are custom ones already stored, so smart lists in
    these files can use them without redefining them.
    """
    documents: list[YamlDocument] = []
    findings: list[Finding] = []
    for file in _yaml_files(paths, findings):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            findings.append(
                Finding(
                    code="YAML_INVALID",
                    severity=Severity.ERROR,
                    message=f"cannot read {file}: {error}",
                    file=str(file),
                )
            )
            continue
        parsed = load_yaml(text, str(file))
        documents.extend(parsed.documents)
        findings.extend(parsed.findings)
    return load_documents(documents, findings, fields=fields, activity_types=activity_types)


def _yaml_files(paths: Sequence[Path], findings: list[Finding]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
            if not found:
                findings.append(_path_invalid(path, "is a directory without *.yaml or *.yml files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            findings.append(_path_invalid(path, "does not exist"))
    return files


def _path_invalid(path: Path, problem: str) -> Finding:
    return Finding(
        code="PATH_INVALID",
        severity=Severity.ERROR,
        message=f"{path} {problem}; give YAML files or directories that hold them",
        file=str(path),
    )


def load_documents(
    documents: Sequence[YamlDocument],
    findings: Iterable[Finding] = (),
    *,
    fields: Iterable[FieldDef] = (),
    activity_types: Iterable[ActivityTypeDef] = (),
) -> LoadedDefinitions:
    """Convert parsed YAML documents (all files together) into definitions."""
    loader = _Loader(tuple(fields), tuple(activity_types))
    loader.findings.extend(findings)
    for yaml_document in documents:
        loader.read(yaml_document)
    return loader.finish()


@dataclass(kw_only=True, slots=True)
class _Pending:
    """A smart list or campaign waiting for the catalogue (phase 2)."""

    doc: d.SmartListDoc | d.CampaignDoc
    source: YamlDocument
    path: DataPath
    workspace: str
    folder: FolderPath


@dataclass(kw_only=True, slots=True)
class _FolderDecl:
    folder: Folder
    declared_settings: bool
    where: SourceLocation | None


class _Loader:
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
        self.folders: dict[str, _FolderDecl] = {}
        self.tokens: list[MyToken] = []
        self.static_lists: list[StaticList] = []
        self.emails: list[Email] = []
        self.pending: list[_Pending] = []
        self.smart_lists: list[SmartList] = []
        self.campaigns: list[Campaign] = []

    # -- helpers ----------------------------------------------------------------------

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

    def model(
        self,
        model: type[M],
        raw: Any,
        source: YamlDocument,
        path: DataPath,
        what: str,
        *,
        campaign: str | None = None,
    ) -> M | None:
        """Validate ``raw``; report every problem; retry without unknown keys."""
        try:
            return model.model_validate(raw)
        except ValidationError as error:
            errors = error.errors()
        self._report_validation(model, errors, raw, source, path, what, campaign)
        cleaned = copy.deepcopy(raw)
        removed = False
        for item in errors:
            if item["type"] == "extra_forbidden":
                removed = _remove(cleaned, item["loc"]) or removed
        if not removed:
            return None
        try:
            return model.model_validate(cleaned)
        except ValidationError:
            return None

    def _report_validation(
        self,
        model: type[BaseModel],
        errors: Sequence[Any],
        raw: Any,
        source: YamlDocument,
        path: DataPath,
        what: str,
        campaign: str | None,
    ) -> None:
        resolved: list[tuple[DataPath, Any]] = []
        for item in errors:
            data_path = _data_path(raw, item["loc"])
            resolved.append((data_path, item))
        seen: set[tuple[DataPath, str]] = set()
        for data_path, item in resolved:
            kind = str(item["type"])
            # A union's "wrong type" branch is noise when another branch went deeper.
            if kind.endswith("_type") and any(
                len(other) > len(data_path) and other[: len(data_path)] == data_path
                for other, _ in resolved
            ):
                continue
            code, message = _describe(model, kind, item, data_path, what)
            if (data_path, code) in seen:
                continue
            seen.add((data_path, code))
            location = ".".join(str(p) for p in data_path)
            self.report(
                code, message, source, (*path, *data_path), location=location, campaign=campaign
            )

    # -- phase 1 ----------------------------------------------------------------------

    def read(self, source: YamlDocument) -> None:
        if not isinstance(source.data, dict):
            self.report(
                "TYPE_INVALID",
                "a definitions file is a mapping of sections (settings, fields, workspace, "
                "folders, …)",
                source,
                (),
            )
            return
        top = self.model(d.FileDoc, source.data, source, (), "file")
        if top is None:
            return
        if top.settings is not None:
            self._settings(top.settings, source)
        for index, raw in enumerate(top.fields):
            self._field(raw, source, ("fields", index))
        for index, raw in enumerate(top.activity_types):
            self._activity_type(raw, source, ("activityTypes", index))
        for index, raw in enumerate(top.channels):
            self._channel(raw, source, ("channels", index))
        self._tokens(top.tokens, source, ("tokens",), None, None)
        for index, raw in enumerate(top.webhooks):
            self._webhook(raw, source, ("webhooks", index))
        if top.workspace is None and not (top.folders or top.programs):
            return
        workspace = self._workspace(top.workspace, source)
        for index, raw in enumerate(top.folders):
            self._folder(raw, source, ("folders", index), workspace, (), FolderKind.FOLDER)
        for index, raw in enumerate(top.programs):
            self._folder(raw, source, ("programs", index), workspace, (), FolderKind.PROGRAM)

    def _settings(self, raw: dict[str, Any], source: YamlDocument) -> None:
        doc = self.model(d.SettingsDoc, raw, source, ("settings",), "settings")
        if doc is None:
            return
        occurrence = self.start(("settings",), source, ("settings",))
        for key, value in doc.model_dump(by_alias=True, exclude_unset=True).items():
            where = self.where(source, ("settings", key))
            if where is not None:
                self.sources.record(("settings",), key, where, occurrence=occurrence)
            if key in self.settings:
                first = self.settings_where.get(key)
                self.report(
                    "DUPLICATE_NAME",
                    f"setting {key!r} is set twice (first at {first}); keep one",
                    source,
                    ("settings", key),
                )
                continue
            self.settings[key] = tuple(value) if isinstance(value, list) else value
            self.settings_where[key] = where

    def _field(self, raw: Any, source: YamlDocument, path: DataPath) -> None:
        doc = self.model(d.FieldDoc, raw, source, path, f"field #{path[-1] + 1}")  # type: ignore[operator]
        if doc is None:
            return
        column = custom_column_name(doc.name) if FIELD_NAME_PATTERN.match(doc.name) else ""
        field_def = FieldDef(
            name=doc.name,
            display_name=doc.display_name or doc.name,
            data_type=doc.type,
            column=column,
            is_custom=True,
            is_company=doc.is_company,
            is_html_encoding_in_email=doc.is_html_encoding_in_email,
            read_only=doc.read_only,
            update_blocked=doc.update_blocked,
        )
        self.fields.append(field_def)
        occurrence = self.start(field_def, source, path)
        self.mark_keys(field_def, occurrence, raw, source, path)

    def _activity_type(self, raw: Any, source: YamlDocument, path: DataPath) -> None:
        doc = self.model(d.ActivityTypeDoc, raw, source, path, "activity type")
        if doc is None:
            return
        activity_type = ActivityTypeDef(
            id=doc.id,
            name=doc.name,
            primary=AttributeDef(name=doc.primary.name, data_type=doc.primary.type)
            if doc.primary
            else None,
            attributes=tuple(AttributeDef(name=a.name, data_type=a.type) for a in doc.attributes),
            trigger_name=doc.trigger,
            filter_name=doc.filter,
            retention_days=doc.retention_days,
            is_custom=True,
            description=doc.description,
        )
        self.activity_types.append(activity_type)
        occurrence = self.start(activity_type, source, path)
        self.mark_keys(activity_type, occurrence, raw, source, path)

    def _channel(self, raw: Any, source: YamlDocument, path: DataPath) -> None:
        doc = self.model(d.ChannelDoc, raw, source, path, "channel")
        if doc is None:
            return
        channel = Channel(
            name=doc.name,
            statuses=tuple(
                ProgramStatus(name=s)
                if isinstance(s, str)
                else ProgramStatus(name=s.name, success=s.success)
                for s in doc.statuses
            ),
        )
        self.channels.append(channel)
        occurrence = self.start(channel, source, path)
        for index in range(len(doc.statuses)):
            self.mark(
                channel, occurrence, f"statuses[{index + 1}]", source, (*path, "statuses", index)
            )

    def _tokens(
        self,
        raw: dict[str, Any],
        source: YamlDocument,
        path: DataPath,
        workspace: str | None,
        folder: FolderPath | None,
    ) -> None:
        for name, value in raw.items():
            doc = self.model(d.TokenDoc, value, source, (*path, name), f"My Token {name!r}")
            if doc is None:
                continue
            token = MyToken(
                name=str(name).strip(),
                type=doc.type,
                value=doc.value,
                workspace=workspace,
                folder=folder,
            )
            self.tokens.append(token)
            occurrence = self.start(token, source, (*path, name))
            self.mark_keys(token, occurrence, value, source, (*path, name))

    def _webhook(self, raw: Any, source: YamlDocument, path: DataPath) -> None:
        doc = self.model(d.WebhookDoc, raw, source, path, "webhook")
        if doc is None:
            return
        headers = (
            tuple(doc.headers.items())
            if isinstance(doc.headers, dict)
            else tuple((h.key, h.value) for h in doc.headers)
        )
        mappings = (
            tuple(
                ResponseMapping(response_attribute=k, field=v)
                for k, v in doc.response_mappings.items()
            )
            if isinstance(doc.response_mappings, dict)
            else tuple(
                ResponseMapping(response_attribute=m.response_attribute, field=m.field)
                for m in doc.response_mappings
            )
        )
        webhook = Webhook(
            name=doc.name,
            url=doc.url,
            request_type=doc.method,
            payload_template=doc.payload,
            request_token_encoding=doc.encoding,
            response_type=doc.response_type,
            custom_headers=headers,
            response_mappings=mappings,
            key=doc.key,
        )
        self.webhooks.append(webhook)
        occurrence = self.start(webhook, source, path)
        self.mark_keys(webhook, occurrence, raw, source, path)

    def _workspace(self, raw: str | d.WorkspaceDoc | None, source: YamlDocument) -> str:
        if raw is None or isinstance(raw, str):
            name = raw or DEFAULT_WORKSPACE
            description = ""
            tokens: dict[str, Any] = {}
        else:
            name, description, tokens = raw.name, raw.description, raw.tokens
        folded = " ".join(name.split()).casefold()
        existing = self.workspaces.get(folded)
        declares = bool(description or tokens)
        if existing is None:
            self.workspaces[folded] = Workspace(name=name, description=description)
            self.workspace_described[folded] = None
            self.start(self.workspaces[folded], source, ("workspace",))
        elif declares and self.workspace_described.get(folded) is not None:
            first = self.workspace_described[folded]
            self.report(
                "DUPLICATE_NAME",
                f"workspace {name!r} has its description or tokens declared twice (first at "
                f"{first}); declare them in one file",
                source,
                ("workspace",),
            )
        elif declares:
            self.workspaces[folded] = Workspace(name=existing.name, description=description)
        if declares and self.workspace_described.get(folded) is None:
            self.workspace_described[folded] = self.where(source, ("workspace",))
        workspace = self.workspaces[folded].name
        self._tokens(tokens, source, ("workspace", "tokens"), workspace, ())
        return workspace

    def _folder(
        self,
        raw: Any,
        source: YamlDocument,
        path: DataPath,
        workspace: str,
        parent: FolderPath,
        kind: FolderKind,
    ) -> None:
        model: type[d.FolderDoc] = d.ProgramDoc if kind is FolderKind.PROGRAM else d.FolderDoc
        label = "program" if kind is FolderKind.PROGRAM else "folder"
        name = raw.get("name") if isinstance(raw, dict) else None
        doc = self.model(model, raw, source, path, f"{label} {name!r}" if name else label)
        if doc is None:
            return
        folder_path = (*parent, doc.name)
        folder = Folder(
            workspace=workspace,
            path=folder_path,
            kind=kind,
            description=doc.description,
            channel=doc.channel if isinstance(doc, d.ProgramDoc) else None,
            key=doc.key,
        )
        self._declare_folder(folder, doc.declares_settings(), source, path)
        self._tokens(doc.tokens, source, (*path, "tokens"), workspace, folder_path)
        for index, child in enumerate(doc.folders):
            self._folder(
                child, source, (*path, "folders", index), workspace, folder_path, FolderKind.FOLDER
            )
        for index, child in enumerate(doc.programs):
            self._folder(
                child,
                source,
                (*path, "programs", index),
                workspace,
                folder_path,
                FolderKind.PROGRAM,
            )
        for index, child in enumerate(doc.lists):
            self._static_list(child, source, (*path, "lists", index), workspace, folder_path)
        for index, child in enumerate(doc.smart_lists):
            item_path = (*path, "smartLists", index)
            smart = self.model(d.SmartListDoc, child, source, item_path, "smart list")
            if smart is not None:
                self.pending.append(
                    _Pending(
                        doc=smart,
                        source=source,
                        path=item_path,
                        workspace=workspace,
                        folder=folder_path,
                    )
                )
        for index, child in enumerate(doc.emails):
            self._email(child, source, (*path, "emails", index), workspace, folder_path)
        for index, child in enumerate(doc.campaigns):
            item_path = (*path, "campaigns", index)
            name = child.get("name") if isinstance(child, dict) else None
            campaign = self.model(
                d.CampaignDoc,
                child,
                source,
                item_path,
                f"campaign {name!r}" if name else "campaign",
                campaign=str(name) if name else None,
            )
            if campaign is not None:
                self.pending.append(
                    _Pending(
                        doc=campaign,
                        source=source,
                        path=item_path,
                        workspace=workspace,
                        folder=folder_path,
                    )
                )

    def _declare_folder(
        self, folder: Folder, declares: bool, source: YamlDocument, path: DataPath
    ) -> None:
        key = folder_key(folder.workspace, folder.path)
        where = self.where(source, path)
        existing = self.folders.get(key)
        label = "/".join(folder.path)
        if existing is None:
            self.folders[key] = _FolderDecl(folder=folder, declared_settings=declares, where=where)
            occurrence = self.start(folder, source, path)
            self.mark(folder, occurrence, "channel", source, (*path, "channel"))
            return
        if existing.folder.kind is not folder.kind:
            self.report(
                "DUPLICATE_NAME",
                f"{label!r} is declared as a {folder.kind.value.lower()} here and as a "
                f"{existing.folder.kind.value.lower()} at {existing.where}; "
                "a container is either a folder or a program",
                source,
                path,
            )
            return
        if declares and existing.declared_settings:
            self.report(
                "DUPLICATE_NAME",
                f"{folder.kind.value.lower()} {label!r} declares its own attributes "
                f"(description, key, tokens, channel) here and at {existing.where}; declare "
                "them in one place and list only contents elsewhere",
                source,
                path,
            )
            return
        if declares:
            self.folders[key] = _FolderDecl(folder=folder, declared_settings=True, where=where)
            if where is not None:
                self.sources.record(folder, "channel", where, occurrence=0)

    def _static_list(
        self, raw: Any, source: YamlDocument, path: DataPath, workspace: str, folder: FolderPath
    ) -> None:
        doc = self.model(d.ListDoc, raw, source, path, "list")
        if doc is None:
            return
        static = StaticList(
            workspace=workspace,
            folder=folder,
            name=doc.name,
            description=doc.description,
            key=doc.key,
        )
        self.static_lists.append(static)
        self.start(static, source, path)

    def _email(
        self, raw: Any, source: YamlDocument, path: DataPath, workspace: str, folder: FolderPath
    ) -> None:
        doc = self.model(d.EmailDoc, raw, source, path, "email")
        if doc is None:
            return
        email = Email(
            workspace=workspace,
            folder=folder,
            name=doc.name,
            subject=doc.subject,
            from_name=doc.from_name,
            from_email=doc.from_email,
            reply_to=doc.reply_to,
            html=doc.html,
            text=doc.text,
            operational=doc.operational,
            approved=doc.approved,
            key=doc.key,
        )
        self.emails.append(email)
        occurrence = self.start(email, source, path)
        self.mark_keys(email, occurrence, raw, source, path)

    # -- phase 2 ----------------------------------------------------------------------

    def finish(self) -> LoadedDefinitions:
        fields = FieldRegistry((*STANDARD_FIELDS, *self.known_fields, *self.fields))
        types = ActivityTypeRegistry.standard().with_types(
            (*self.known_types, *self.activity_types)
        )
        catalogue = Catalogue(fields, types)
        zone = _zone(self.settings.get("timezone"))
        for pending in self.pending:
            if isinstance(pending.doc, d.SmartListDoc):
                self._smart_list(pending, pending.doc, catalogue)
            else:
                self._campaign(pending, pending.doc, catalogue, zone)
        settings = None
        if self.settings:
            settings = AccountSettings(
                **{SETTING_NAMES[k]: v for k, v in self.settings.items() if k in SETTING_NAMES}
            )
        definitions = Definitions(
            settings=settings,
            fields=tuple(self.fields),
            activity_types=tuple(self.activity_types),
            channels=tuple(self.channels),
            webhooks=tuple(self.webhooks),
            workspaces=tuple(self.workspaces.values()),
            folders=tuple(decl.folder for decl in self.folders.values()),
            tokens=tuple(self.tokens),
            static_lists=tuple(self.static_lists),
            smart_lists=tuple(self.smart_lists),
            emails=tuple(self.emails),
            campaigns=tuple(self.campaigns),
        )
        findings = tuple(sorted(self.findings, key=Finding.sort_key))
        return LoadedDefinitions(definitions=definitions, findings=findings, sources=self.sources)

    def _rules(
        self,
        raw_triggers: list[Any],
        raw_filters: list[Any],
        logic: str | None,
        catalogue: Catalogue,
        mark: Any,
        base: DataPath,
        prefix: str,
    ) -> SmartListRules:
        triggers = []
        for index, raw in enumerate(raw_triggers):
            mark(f"{prefix}triggers[{index + 1}]", (*base, "triggers", index))
            _mark_conditions(
                mark, f"{prefix}triggers[{index + 1}]", raw, (*base, "triggers", index)
            )
            triggers.append(parse_rule(raw, catalogue, trigger=True))
        filters = []
        for index, raw in enumerate(raw_filters):
            mark(f"{prefix}filters[{index + 1}]", (*base, "filters", index))
            _mark_conditions(mark, f"{prefix}filters[{index + 1}]", raw, (*base, "filters", index))
            filters.append(parse_rule(raw, catalogue, trigger=False))
        mark(f"{prefix}logic", (*base, "logic"))
        match_type, advanced = parse_logic(logic)
        return SmartListRules(
            triggers=tuple(triggers),
            filters=tuple(filters),
            match_type=match_type,
            advanced_logic=advanced,
        )

    def _smart_list(self, pending: _Pending, doc: d.SmartListDoc, catalogue: Catalogue) -> None:
        key = object_key(
            SmartList(
                workspace=pending.workspace,
                folder=pending.folder,
                name=doc.name,
                rules=SmartListRules(),
            )
        )
        occurrence = self.start(key, pending.source, pending.path)

        def mark(location: str, path: DataPath) -> None:
            self.mark(key, occurrence, location, pending.source, (*pending.path, *path))

        rules = self._rules(doc.triggers, doc.filters, doc.logic, catalogue, mark, (), "")
        self.smart_lists.append(
            SmartList(
                workspace=pending.workspace,
                folder=pending.folder,
                name=doc.name,
                rules=rules,
                description=doc.description,
                key=doc.key,
            )
        )

    def _campaign(
        self, pending: _Pending, doc: d.CampaignDoc, catalogue: Catalogue, zone: ZoneInfo
    ) -> None:
        key = object_key(
            Campaign(workspace=pending.workspace, folder=pending.folder, name=doc.name)
        )
        source = pending.source
        occurrence = self.start(key, source, pending.path)

        def mark(location: str, path: DataPath) -> None:
            self.mark(key, occurrence, location, source, (*pending.path, *path))

        raw = source.data
        for part in pending.path:
            raw = raw[part]
        self.mark_keys(key, occurrence, raw, source, pending.path)
        rules = self._rules(
            doc.smart_list.triggers,
            doc.smart_list.filters,
            doc.smart_list.logic,
            catalogue,
            mark,
            ("smartList",),
            "smartList.",
        )

        def report(code: str, message: str, location: str, path: DataPath) -> None:
            self.report(code, message, source, path, location=location, campaign=doc.name)

        context = FlowContext(
            catalogue=catalogue,
            mark=lambda location, path: self.mark(key, occurrence, location, source, path),
            report=report,
        )
        steps: list[Step] = []
        for index, item in enumerate(doc.flow):
            step = parse_step(item, index, (*pending.path, "flow", index), context)
            if step is not None:
                steps.append(step)
        schedule_raw = raw.get("schedule") if isinstance(raw, dict) else None
        if isinstance(schedule_raw, dict):
            for name in schedule_raw:
                mark(f"schedule.{name}", ("schedule", name))
        qualification = self._qualification(doc.schedule.qualification, source, pending, doc.name)
        recurrence = None
        if doc.schedule.recurrence is not None:
            r = doc.schedule.recurrence
            recurrence = Recurrence(
                start_at=_aware(r.start_at, zone),
                interval_type=r.interval_type,
                interval=r.interval,
                end_at=_aware(r.end_at, zone) if r.end_at else None,
                weekday_only=r.weekday_only,
                weekday_mask=tuple(r.weekday_mask),
                day_of_month=r.day_of_month,
                day_of_week=r.day_of_week,
                week_of_month=r.week_of_month,
            )
        schedule = Schedule(
            qualification=qualification,
            communication_limit=doc.schedule.communication_limit,
            max_members=doc.schedule.max_members,
            recurrence=recurrence,
            priority_override=doc.schedule.priority,
            expires_at=_aware(doc.schedule.expires_at, zone) if doc.schedule.expires_at else None,
        )
        self.campaigns.append(
            Campaign(
                workspace=pending.workspace,
                folder=pending.folder,
                name=doc.name,
                description=doc.description,
                executable=doc.executable,
                smart_list=rules,
                flow=tuple(steps),
                schedule=schedule,
                active=doc.active,
                key=doc.key,
            )
        )

    def _qualification(
        self, raw: str | d.EveryDoc, source: YamlDocument, pending: _Pending, campaign: str
    ) -> QualificationRule:
        text = raw.every if isinstance(raw, d.EveryDoc) else raw
        folded = " ".join(text.split()).casefold()
        if not isinstance(raw, d.EveryDoc):
            if folded == "once":
                return QualificationRule(type=QualificationRuleType.ONCE)
            if folded in ("every time", "any", "everytime"):
                return QualificationRule(type=QualificationRuleType.ANY)
            for prefix in ("once every ", "every "):
                if folded.startswith(prefix):
                    folded = folded[len(prefix) :]
                    break
            else:
                folded = "?"
        parts = folded.split()
        if len(parts) == 2 and parts[0].isdigit() and int(parts[0]) >= 1:
            unit = _UNITS.get(parts[1].removesuffix("s"))
            if unit is not None:
                return QualificationRule(
                    type=QualificationRuleType.INTERVAL, interval=int(parts[0]), unit=unit
                )
        self.report(
            "TYPE_INVALID",
            f"qualification {text!r} is not understood; write 'once', 'every time' or "
            "{every: N hour|day|week|month} (CMP-17)",
            source,
            (*pending.path, "schedule", "qualification"),
            location="schedule.qualification",
            campaign=campaign,
        )
        return QualificationRule()


def _mark_conditions(mark: Any, location: str, raw: Any, path: DataPath) -> None:
    if isinstance(raw, dict) and len(raw) == 1:
        ((name, body),) = raw.items()
        if isinstance(body, dict):
            for key in body:
                mark(f"{location}.{key}", (*path, name, key))


def _zone(name: Any) -> ZoneInfo:
    try:
        return ZoneInfo(str(name)) if name else ZoneInfo("UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(value: datetime, zone: ZoneInfo) -> datetime:
    """Times without an offset are in the account time zone (GEN-1)."""
    return value if value.tzinfo is not None else value.replace(tzinfo=zone)


def _data_path(raw: Any, loc: Sequence[Any]) -> DataPath:
    """The part of a pydantic error location that exists in the data (drops union tags)."""
    current = raw
    path: list[str | int] = []
    for part in loc:
        if isinstance(current, dict) and part in current:
            current = current[part]
            path.append(part)
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            current = current[part]
            path.append(part)
    return tuple(path)


def _remove(raw: Any, loc: Sequence[Any]) -> bool:
    path = _data_path(raw, loc)
    if not path:
        return False
    parent = raw
    for part in path[:-1]:
        parent = parent[part]
    if isinstance(parent, dict) and path[-1] in parent:
        del parent[path[-1]]
        return True
    return False


def _describe(
    model: type[BaseModel], kind: str, item: Any, data_path: DataPath, what: str
) -> tuple[str, str]:
    dotted = ".".join(str(p) for p in data_path)
    if kind == "extra_forbidden":
        allowed = d.allowed_keys(model, item["loc"])
        unknown = str(item["loc"][-1]) if item["loc"] else dotted
        close = difflib.get_close_matches(unknown, allowed, n=1)
        hint = f"did you mean {close[0]!r}? " if close else ""
        return (
            "UNKNOWN_KEY",
            f"unknown key {dotted!r} in {what}; {hint}allowed keys: {', '.join(allowed)} "
            "(see docs/definitions.md)",
        )
    if kind == "missing":
        missing = str(item["loc"][-1]) if item["loc"] else "?"
        where = f" under {dotted!r}" if dotted else ""
        return "MISSING_KEY", f"{what} needs {missing!r}{where}"
    return "TYPE_INVALID", f"{what}: {dotted or 'value'}: {item['msg']}"
