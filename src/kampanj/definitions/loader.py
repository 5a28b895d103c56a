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

The steps live in ``kampanj.definitions.loading``, one module per kind of document
part; this module drives the two phases.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kampanj.definitions import document as d
from kampanj.definitions.findings import Finding
from kampanj.definitions.loading.account import (
    read_activity_type,
    read_channel,
    read_field,
    read_settings,
    read_tokens,
    read_webhook,
)
from kampanj.definitions.loading.campaigns import account_zone, convert_campaign
from kampanj.definitions.loading.paths import YAML_SUFFIXES, read_yaml_files
from kampanj.definitions.loading.shape import read_model
from kampanj.definitions.loading.smart_lists import convert_smart_list
from kampanj.definitions.loading.state import LoadState
from kampanj.definitions.loading.tree import read_folder, read_workspace
from kampanj.definitions.sources import SourceLocation, SourceMap
from kampanj.definitions.yaml_source import YamlDocument, load_yaml
from kampanj.model.account import Definitions
from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry
from kampanj.model.fields import STANDARD_FIELDS, FieldDef, FieldRegistry
from kampanj.model.settings import SETTING_NAMES, AccountSettings
from kampanj.model.tree import FolderKind
from kampanj.smartlist.catalogue import Catalogue

__all__ = [
    "YAML_SUFFIXES",
    "LoadedDefinitions",
    "SourceLocation",
    "SourceMap",
    "load_documents",
    "load_paths",
    "load_text",
]


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
    documents, findings = read_yaml_files(paths)
    return load_documents(documents, findings, fields=fields, activity_types=activity_types)


def load_documents(
    documents: Sequence[YamlDocument],
    findings: Iterable[Finding] = (),
    *,
    fields: Iterable[FieldDef] = (),
    activity_types: Iterable[ActivityTypeDef] = (),
) -> LoadedDefinitions:
    """Convert parsed YAML documents (all files together) into definitions."""
    state = LoadState(tuple(fields), tuple(activity_types))
    state.findings.extend(findings)
    for yaml_document in documents:
        _read_document(state, yaml_document)
    return _finish(state)


def _read_document(state: LoadState, source: YamlDocument) -> None:
    """Phase 1: shapes, account-level objects and the folder tree of one document."""
    if not isinstance(source.data, dict):
        state.report(
            "TYPE_INVALID",
            "a definitions file is a mapping of sections (settings, fields, workspace, folders, …)",
            source,
            (),
        )
        return
    top = read_model(state, d.FileDoc, source.data, source, (), "file")
    if top is None:
        return
    if top.settings is not None:
        read_settings(state, top.settings, source)
    for index, raw in enumerate(top.fields):
        read_field(state, raw, source, ("fields", index))
    for index, raw in enumerate(top.activity_types):
        read_activity_type(state, raw, source, ("activityTypes", index))
    for index, raw in enumerate(top.channels):
        read_channel(state, raw, source, ("channels", index))
    read_tokens(state, top.tokens, source, ("tokens",), None, None)
    for index, raw in enumerate(top.webhooks):
        read_webhook(state, raw, source, ("webhooks", index))
    if top.workspace is None and not (top.folders or top.programs):
        return
    workspace = read_workspace(state, top.workspace, source)
    for index, raw in enumerate(top.folders):
        read_folder(state, raw, source, ("folders", index), workspace, (), FolderKind.FOLDER)
    for index, raw in enumerate(top.programs):
        read_folder(state, raw, source, ("programs", index), workspace, (), FolderKind.PROGRAM)


def _finish(state: LoadState) -> LoadedDefinitions:
    """Phase 2: smart lists and campaigns against the full catalogue, then the result."""
    fields = FieldRegistry((*STANDARD_FIELDS, *state.known_fields, *state.fields))
    types = ActivityTypeRegistry.standard().with_types((*state.known_types, *state.activity_types))
    catalogue = Catalogue(fields, types)
    zone = account_zone(state.settings.get("timezone"))
    for pending in state.pending:
        if isinstance(pending.doc, d.SmartListDoc):
            convert_smart_list(state, pending, pending.doc, catalogue)
        else:
            convert_campaign(state, pending, pending.doc, catalogue, zone)
    settings = None
    if state.settings:
        settings = AccountSettings(
            **{SETTING_NAMES[k]: v for k, v in state.settings.items() if k in SETTING_NAMES}
        )
    definitions = Definitions(
        settings=settings,
        fields=tuple(state.fields),
        activity_types=tuple(state.activity_types),
        channels=tuple(state.channels),
        webhooks=tuple(state.webhooks),
        workspaces=tuple(state.workspaces.values()),
        folders=tuple(decl.folder for decl in state.folders.values()),
        tokens=tuple(state.tokens),
        static_lists=tuple(state.static_lists),
        smart_lists=tuple(state.smart_lists),
        emails=tuple(state.emails),
        campaigns=tuple(state.campaigns),
    )
    findings = tuple(sorted(state.findings, key=Finding.sort_key))
    return LoadedDefinitions(definitions=definitions, findings=findings, sources=state.sources)
