"""What every validation check shares: the merged registries, name indexes and findings."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.sources import SourceMap, folder_key, object_key
from kampanj.model.account import Definitions
from kampanj.model.activities import ActivityTypeDef, ActivityTypeRegistry
from kampanj.model.campaigns import Campaign
from kampanj.model.fields import STANDARD_FIELDS, FieldDef, FieldRegistry
from kampanj.model.names import fold
from kampanj.model.settings import MAX_EXECUTE_DEPTH
from kampanj.model.tree import Folder
from kampanj.smartlist.catalogue import Catalogue
from kampanj.tokens.tree import TokenTree

__all__ = ["WARNING_CODES", "CallEdge", "Context", "Scope"]

WARNING_CODES = frozenset(
    {
        "CHILD_SMART_LIST_INVALID",
        "TOKEN_UNKNOWN",
        "TOKEN_IN_SMART_LIST",
        "REQ_SOURCE",
        "REQ_CYCLE",
        "LOGIC_FEW_FILTERS",
        "ALERT_NO_INFO",
        "ALERT_TOKEN_BATCH",
        "TRIGGER_SELF",
        "TOKEN_TYPE_MISMATCH",
    }
)  # VAL-5: every other code is an error


@dataclass(kw_only=True, slots=True)
class CallEdge:
    """An Execute or Request Campaign call from one step (or choice) to a campaign."""

    caller: int
    target: int
    location: str
    step_id: str = ""
    use_parent_context: bool = False
    findings: list[str] = field(default_factory=list)  # codes reported on this call (VAL-7)


@dataclass(kw_only=True, slots=True)
class Scope:
    """Where a finding belongs."""

    obj: object | None = None
    campaign: Campaign | None = None
    occurrence: int = 0
    prefix: str = ""


class Context:
    """One validation run: the state under check, lookups built from it, findings so far."""

    def __init__(
        self,
        definitions: Definitions,
        sources: SourceMap | None,
        stored_fields: tuple[FieldDef, ...],
        stored_types: tuple[ActivityTypeDef, ...],
    ) -> None:
        self.d = definitions
        self.sources = sources
        self.findings: list[Finding] = []
        custom_names = {fold(f.name) for f in definitions.fields}
        extra_fields = tuple(f for f in stored_fields if fold(f.name) not in custom_names)
        self.fields = FieldRegistry((*STANDARD_FIELDS, *extra_fields, *definitions.fields))
        type_ids = {t.id for t in definitions.activity_types}
        extra_types = tuple(t for t in stored_types if t.id not in type_ids)
        self.activity_types = ActivityTypeRegistry.standard().with_types(
            (*extra_types, *definitions.activity_types)
        )
        self.catalogue = Catalogue(self.fields, self.activity_types)
        settings = definitions.settings
        self.max_depth = settings.max_execute_depth if settings else MAX_EXECUTE_DEPTH
        self.folders: dict[str, Folder] = {}
        for folder in definitions.folders:
            self.folders.setdefault(folder_key(folder.workspace, folder.path), folder)
        self.channels = {fold(c.name): c for c in definitions.channels}
        self.webhooks = {fold(w.name): w for w in definitions.webhooks}
        self.by_workspace: dict[str, dict[str, dict[str, list[object]]]] = defaultdict(
            lambda: defaultdict(lambda: defaultdict(list))
        )
        for kind, objects in (
            ("list", definitions.static_lists),
            ("smart list", definitions.smart_lists),
            ("email", definitions.emails),
            ("program", [f for f in definitions.folders if f.is_program]),
            ("campaign", definitions.campaigns),
        ):
            for obj in objects:
                self.by_workspace[kind][fold(obj.workspace)][fold(obj.name)].append(obj)
        self.campaign_index = {id(c): i for i, c in enumerate(definitions.campaigns)}
        self._campaign_occurrences: list[int] = []
        self.smart_list_invalid: set[int] = set()  # id() of invalid stand-alone smart lists
        self.campaign_rules_invalid: set[int] = set()  # campaign indices
        self.execute_edges: list[CallEdge] = []
        self.request_edges: list[CallEdge] = []
        # Calls whose target exists but cannot be called that way (EXE_TARGET,
        # REQ_TARGET_INVALID): not part of the graphs checked, still drawn by `kampanj graph`.
        self.rejected_execute_edges: list[CallEdge] = []
        self.rejected_request_edges: list[CallEdge] = []
        self.token_tree = TokenTree.from_definitions(definitions)

    def add(self, code: str, message: str, scope: Scope, location: str = "") -> None:
        """Record a finding, with file and line when a source map is known."""
        full = (
            f"{scope.prefix}{location}" if scope.prefix and location else scope.prefix or location
        )
        where = None
        if self.sources is not None and scope.obj is not None:
            where = self.sources.find(scope.obj, full, occurrence=scope.occurrence)
        campaign = scope.campaign
        self.findings.append(
            Finding(
                code=code,
                severity=Severity.WARNING if code in WARNING_CODES else Severity.ERROR,
                message=message,
                location=full,
                campaign=campaign.name if campaign else None,
                campaign_id=campaign.id if campaign else None,
                path=(campaign.id,) if campaign and campaign.id is not None else (),
                file=where.file if where else None,
                line=where.line if where else None,
                column=where.column if where else None,
            )
        )

    def scope_of(self, obj: object, occurrence: int = 0) -> Scope:
        return Scope(
            obj=obj,
            campaign=obj if isinstance(obj, Campaign) else None,
            occurrence=occurrence,
        )

    def field_names(self) -> list[str]:
        return [f.display_name for f in self.fields]

    def campaign_occurrence(self, index: int) -> int:
        """Occurrence number of campaign ``index`` among campaigns of the same identity."""
        if not self._campaign_occurrences:
            self._campaign_occurrences = [n for _, n in occurrences(self.d.campaigns)]
        return self._campaign_occurrences[index]


def occurrences(objects: Sequence[object]) -> Iterator[tuple[object, int]]:
    """Each object with its occurrence number among objects of the same identity."""
    seen: dict[tuple[str, ...], int] = defaultdict(int)
    for obj in objects:
        key = object_key(obj)
        yield obj, seen[key]
        seen[key] += 1
