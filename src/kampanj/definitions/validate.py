"""The validator behind ``kampanj lint`` and every definition write (VAL-1..VAL-5).

``validate`` looks at a complete state — the caller merges stored and incoming
definitions first — and returns every problem it finds, never stopping at the first.
Each finding has a VAL-5 code (plus ``DUPLICATE_NAME``, ``DUPLICATE_KEY`` and a few
shape codes where VAL-5 has none), the campaign, a location inside the object in
finding vocabulary (``smartList.filters[3]``, ``flow.s2.choices[1]``), a message that
says what to change, and the file and line when a ``SourceMap`` is given.
"""

from __future__ import annotations

import difflib
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC
from typing import Any

from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.sources import SourceMap, folder_key, object_key
from kampanj.model.account import Definitions
from kampanj.model.activities import (
    CUSTOM_ACTIVITY_TYPE_MIN_ID,
    MAX_CUSTOM_ACTIVITY_ATTRIBUTES,
    MAX_CUSTOM_ACTIVITY_TYPES,
    ActivityTypeDef,
    ActivityTypeRegistry,
    StandardActivity,
)
from kampanj.model.assets import Email
from kampanj.model.campaigns import (
    MAX_CAMPAIGN_DESCRIPTION_LENGTH,
    MAX_CAMPAIGN_NAME_LENGTH,
    Campaign,
    ParamValue,
    QualificationRuleType,
    RecurrenceInterval,
    Step,
    StepType,
    Weekday,
)
from kampanj.model.conversions import ValueConversionError, text_parser
from kampanj.model.fields import (
    FIELD_NAME_PATTERN,
    STANDARD_FIELDS,
    FieldDef,
    FieldRegistry,
    FieldType,
)
from kampanj.model.settings import MAX_EXECUTE_DEPTH, timezone_problem
from kampanj.model.smartlists import Rule, SmartList, SmartListRules, Value
from kampanj.model.step_catalogue import (
    THIS_CAMPAIGN,
    THIS_PROGRAM,
    CampaignKind,
    ParamKind,
    ParamSpec,
    StepSpec,
    step_spec,
)
from kampanj.model.tokens import my_token_value_problem, token_name_problem
from kampanj.model.tree import Folder, FolderPath
from kampanj.smartlist.catalogue import (
    ALL_OPERATORS,
    Catalogue,
    CatalogueEntry,
    ConditionSpec,
    ValueKind,
    is_date_text,
    match_key,
    value_problem,
)
from kampanj.smartlist.logic import check_logic
from kampanj.tokens.syntax import MalformedToken, TokenFamily, TokenRef, has_token_syntax, scan

__all__ = ["WARNING_CODES", "validate"]

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
    }
)  # VAL-5: every other code is an error

_DURATION = re.compile(
    r"^\s*(\d+)\s+(minute|hour|day|week|month|year)s?\s*$", re.IGNORECASE
)  # WAIT-2
_SCORE_CHANGE = re.compile(r"^\s*(=[+-]?|[+-])?\d+\s*$")  # FLOW-16
_TIME_OF_DAY = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
_INTEGER = re.compile(r"^\s*[+-]?\d+\s*$")
_MAPPING_KEY = re.compile(r"^[A-Za-z0-9_\-:\s]+$")  # HOOK-7
_BOOLEAN_TEXT = {"true", "false", "yes", "no", "1", "0"}  # FLOW-14
_SYSTEM_TOKENS = {
    "date",
    "time",
    "datetime",
    "unsubscribelink",
    "viewaswebpagelink",
    "forwardtofriendlink",
}  # TOK-7
_CONTEXT_TOKENS = {"name", "id", "description"}  # TOK-6
_REQUESTED_TRIGGER = "campaign is requested"
_FLOW_ACTION_SOURCE = "marketo flow action"

# Activity each step writes (ACT-4), for the TRIGGER_SELF warning.
_STEP_ACTIVITY: dict[StepType, int] = {
    StepType.CHANGE_DATA_VALUE: StandardActivity.CHANGE_DATA_VALUE,
    StepType.CHANGE_SCORE: StandardActivity.CHANGE_SCORE,
    StepType.CHANGE_PROGRAM_STATUS: StandardActivity.CHANGE_STATUS_IN_PROGRESSION,
    StepType.CHANGE_PROGRAM_SUCCESS: StandardActivity.CHANGE_PROGRAM_MEMBER_DATA,
    StepType.ADD_TO_LIST: StandardActivity.ADD_TO_LIST,
    StepType.REMOVE_FROM_LIST: StandardActivity.REMOVE_FROM_LIST,
    StepType.SEND_EMAIL: StandardActivity.SEND_EMAIL,
    StepType.SEND_ALERT: StandardActivity.SEND_ALERT,
    StepType.INTERESTING_MOMENT: StandardActivity.INTERESTING_MOMENT,
    StepType.CALL_WEBHOOK: StandardActivity.CALL_WEBHOOK,
    StepType.REQUEST_CAMPAIGN: StandardActivity.REQUEST_CAMPAIGN,
}


def validate(
    definitions: Definitions,
    *,
    sources: SourceMap | None = None,
    stored_fields: Iterable[FieldDef] = (),
    stored_activity_types: Iterable[ActivityTypeDef] = (),
) -> list[Finding]:
    """Every problem in ``definitions``, sorted by file and line (VAL-2).

    ``stored_fields`` / ``stored_activity_types`` are custom ones that exist in the
    database but are not part of ``definitions`` (they resolve references and take part
    in name clashes); pass nothing when ``definitions`` is already the merged state.
    """
    return _Validator(
        definitions, sources, tuple(stored_fields), tuple(stored_activity_types)
    ).run()


def _fold(text: str) -> str:
    return " ".join(str(text).split()).casefold()


def _suggest(name: str, candidates: Iterable[str]) -> str:
    options = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.6)
    if not close:
        lowered = {o.casefold(): o for o in options}
        close = [lowered[c] for c in difflib.get_close_matches(name.casefold(), lowered, n=3)]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""


def _token_texts(value: ParamValue) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        yield from (v for v in value if isinstance(v, str))


@dataclass(kw_only=True, slots=True)
class _Edge:
    """An Execute or Request Campaign call from one step (or choice) to a campaign."""

    caller: int
    target: int
    location: str
    use_parent_context: bool = False


@dataclass(kw_only=True, slots=True)
class _Scope:
    """Where a finding belongs."""

    obj: object | None = None
    campaign: Campaign | None = None
    occurrence: int = 0
    prefix: str = ""


@dataclass(kw_only=True, slots=True)
class _Index:
    """Workspace assets by case-insensitive name."""

    lists: dict[str, dict[str, list[object]]] = field(default_factory=lambda: defaultdict(dict))


class _Validator:
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
        custom_names = {_fold(f.name) for f in definitions.fields}
        extra_fields = tuple(f for f in stored_fields if _fold(f.name) not in custom_names)
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
        self.channels = {_fold(c.name): c for c in definitions.channels}
        self.webhooks = {_fold(w.name): w for w in definitions.webhooks}
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
                self.by_workspace[kind][_fold(obj.workspace)][_fold(obj.name)].append(obj)
        self.campaign_index = {id(c): i for i, c in enumerate(definitions.campaigns)}
        self.campaign_occurrences: list[int] = []
        self.smart_list_invalid: set[int] = set()  # id() of invalid stand-alone smart lists
        self.campaign_rules_invalid: set[int] = set()  # campaign indices
        self.execute_edges: list[_Edge] = []
        self.request_edges: list[_Edge] = []
        self.tokens_by_scope: dict[str, set[str]] = defaultdict(set)
        for token in definitions.tokens:
            scope = (
                "" if token.workspace is None else folder_key(token.workspace, token.folder or ())
            )
            self.tokens_by_scope[scope].add(_fold(token.name))

    # -- reporting --------------------------------------------------------------------

    def add(self, code: str, message: str, scope: _Scope, location: str = "") -> None:
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

    def scope_of(self, obj: object, occurrence: int = 0) -> _Scope:
        return _Scope(
            obj=obj,
            campaign=obj if isinstance(obj, Campaign) else None,
            occurrence=occurrence,
        )

    # -- entry point ------------------------------------------------------------------

    def run(self) -> list[Finding]:
        self.check_settings()
        self.check_fields()
        self.check_activity_types()
        self.check_channels_and_webhooks()
        self.check_tree()
        self.check_tokens()
        self.check_assets()
        self.check_smart_lists()
        for index, campaign in enumerate(self.d.campaigns):
            self.check_campaign(index, campaign)
        self._duplicate_keys(self.d.campaigns, "campaign")
        self.check_execute_graph()
        self.check_request_graph()
        return sorted(self.findings, key=Finding.sort_key)

    # -- account ----------------------------------------------------------------------

    def check_settings(self) -> None:
        settings = self.d.settings
        if settings is None:
            return
        problem = timezone_problem(settings.timezone)
        if problem:
            self.add("SETTING_INVALID", problem, self.scope_of(settings), "timezone")

    def _occurrences(self, objects: Sequence[object]) -> Iterator[tuple[object, int]]:
        """Each object with its occurrence number among objects of the same identity."""
        seen: dict[tuple[str, ...], int] = defaultdict(int)
        for obj in objects:
            key = object_key(obj)
            yield obj, seen[key]
            seen[key] += 1

    def _duplicates(
        self,
        objects: Sequence[object],
        key: Callable[[Any], object],
        what: str,
        scope_text: str,
    ) -> None:
        first: dict[object, object] = {}
        for obj, occurrence in self._occurrences(objects):
            identity = key(obj)
            if identity is None:
                continue
            if identity in first:
                name = getattr(obj, "name", identity)
                self.add(
                    "DUPLICATE_NAME",
                    f"{what} {name!r} is defined twice {scope_text} (names are "
                    "case-insensitive); rename or remove one",
                    self.scope_of(obj, occurrence),
                )
            else:
                first[identity] = obj

    def check_fields(self) -> None:
        standard: dict[str, FieldDef] = {}
        for std in STANDARD_FIELDS:
            for name in (std.name, std.display_name, *std.aliases):
                standard[_fold(name)] = std
        for field_def, occurrence in self._occurrences(self.d.fields):
            assert isinstance(field_def, FieldDef)
            scope = self.scope_of(field_def, occurrence)
            if not FIELD_NAME_PATTERN.match(field_def.name):
                self.add(
                    "FIELD_INVALID",
                    f"custom field name {field_def.name!r} must start with a letter and hold "
                    "only letters, digits and underscores (at most 63 characters), e.g. "
                    "'behaviorScore'",
                    scope,
                    "name",
                )
            names = [(field_def.name, "name")]
            if _fold(field_def.display_name) != _fold(field_def.name):
                names.append((field_def.display_name, "displayName"))
            for name, where in names:
                clash = standard.get(_fold(name))
                if clash is not None:
                    self.add(
                        "DUPLICATE_NAME",
                        f"custom field {field_def.name!r}: {name!r} is already the standard "
                        f"field {clash.display_name!r} ({clash.name}); choose another name",
                        scope,
                        where,
                    )
        self._duplicates(self.d.fields, lambda f: _fold(f.name), "field", "in the account")
        self._duplicates(
            self.d.fields,
            lambda f: _fold(f.display_name) if _fold(f.display_name) != _fold(f.name) else None,
            "field display name",
            "in the account",
        )

    def check_activity_types(self) -> None:
        custom = self.d.activity_types
        standard = ActivityTypeRegistry.standard()
        if len(custom) > MAX_CUSTOM_ACTIVITY_TYPES:
            extra = custom[MAX_CUSTOM_ACTIVITY_TYPES]
            self.add(
                "ACTIVITY_TYPE_INVALID",
                f"at most {MAX_CUSTOM_ACTIVITY_TYPES} custom activity types are allowed "
                f"(ACT-10); remove {len(custom) - MAX_CUSTOM_ACTIVITY_TYPES}",
                self.scope_of(extra),
            )
        for activity_type, occurrence in self._occurrences(custom):
            assert isinstance(activity_type, ActivityTypeDef)
            scope = self.scope_of(activity_type, occurrence)
            label = f"custom activity type {activity_type.name!r}"
            if activity_type.id < CUSTOM_ACTIVITY_TYPE_MIN_ID:
                self.add(
                    "ACTIVITY_TYPE_INVALID",
                    f"{label} has id {activity_type.id}; custom ids start at "
                    f"{CUSTOM_ACTIVITY_TYPE_MIN_ID}",
                    scope,
                    "id",
                )
            if len(activity_type.attributes) > MAX_CUSTOM_ACTIVITY_ATTRIBUTES:
                self.add(
                    "ACTIVITY_TYPE_INVALID",
                    f"{label} has {len(activity_type.attributes)} attributes; at most "
                    f"{MAX_CUSTOM_ACTIVITY_ATTRIBUTES} are allowed (ACT-10)",
                    scope,
                    "attributes",
                )
            if activity_type.primary is None:
                self.add(
                    "ACTIVITY_TYPE_INVALID",
                    f"{label} needs a primary attribute (ACT-10)",
                    scope,
                )
            if not activity_type.trigger_name and not activity_type.filter_name:
                self.add(
                    "ACTIVITY_TYPE_INVALID",
                    f"{label} needs a trigger name and a filter name (ACT-10)",
                    scope,
                )
            names = [a.name for a in activity_type.all_attributes]
            if len({_fold(n) for n in names}) != len(names):
                self.add(
                    "DUPLICATE_NAME",
                    f"{label} names an attribute twice; attribute names must be unique",
                    scope,
                    "attributes",
                )
            for name, where, lookup in (
                (activity_type.name, "name", standard.by_name),
                (activity_type.trigger_name, "trigger", standard.by_trigger),
                (activity_type.filter_name, "filter", standard.by_filter),
            ):
                if name and lookup(name) is not None:
                    self.add(
                        "DUPLICATE_NAME",
                        f"{label}: {name!r} is already a standard activity {where} name",
                        scope,
                        where,
                    )
        self._duplicates(custom, lambda t: t.id, "activity type id", "in the account")
        self._duplicates(custom, lambda t: _fold(t.name), "activity type", "in the account")
        self._duplicates(
            custom,
            lambda t: _fold(t.trigger_name) if t.trigger_name else None,
            "trigger name of activity type",
            "in the account",
        )
        self._duplicates(
            custom,
            lambda t: _fold(t.filter_name) if t.filter_name else None,
            "filter name of activity type",
            "in the account",
        )

    def check_channels_and_webhooks(self) -> None:
        self._duplicates(self.d.channels, lambda c: _fold(c.name), "channel", "in the account")
        for channel, occurrence in self._occurrences(self.d.channels):
            scope = self.scope_of(channel, occurrence)
            statuses = channel.statuses  # type: ignore[attr-defined]
            if not statuses:
                self.add(
                    "CHANNEL_INVALID",
                    f"channel {channel.name!r} needs at least one status",  # type: ignore[attr-defined]
                    scope,
                )
            seen: set[str] = set()
            for number, status in enumerate(statuses, start=1):
                if _fold(status.name) in seen:
                    self.add(
                        "DUPLICATE_NAME",
                        f"channel {channel.name!r} lists status {status.name!r} twice",  # type: ignore[attr-defined]
                        scope,
                        f"statuses[{number}]",
                    )
                seen.add(_fold(status.name))
        self._duplicates(self.d.webhooks, lambda w: _fold(w.name), "webhook", "in the account")
        for webhook, occurrence in self._occurrences(self.d.webhooks):
            scope = self.scope_of(webhook, occurrence)
            label = f"webhook {webhook.name!r}"  # type: ignore[attr-defined]
            texts = [("url", webhook.url), ("payload", webhook.payload_template)]  # type: ignore[attr-defined]
            texts += [("headers", value) for _, value in webhook.custom_headers]  # type: ignore[attr-defined]
            for where, text in texts:
                self.check_token_families(text, scope, where, f"{label} {where}")
            for mapping in webhook.response_mappings:  # type: ignore[attr-defined]
                segments = re.split(r"\.|\[\d+\]", mapping.response_attribute)
                if not all(_MAPPING_KEY.match(part) for part in segments if part) or not any(
                    segments
                ):
                    self.add(
                        "WEBHOOK_INVALID",
                        f"{label}: response attribute {mapping.response_attribute!r}: keys "
                        "between dots and [i] may hold only letters, digits, '-', '_', ':' and "
                        "spaces (HOOK-6, HOOK-7)",
                        scope,
                        "responseMappings",
                    )
                target = self.fields.get(mapping.field)
                if target is None:
                    self.add(
                        "REF_UNKNOWN",
                        f"{label} maps a response value into unknown field {mapping.field!r}"
                        + _suggest(mapping.field, self._field_names()),
                        scope,
                        "responseMappings",
                    )
                elif target.read_only:
                    self.add(
                        "WEBHOOK_INVALID",
                        f"{label} maps into read-only field {target.display_name!r} (HOOK-7)",
                        scope,
                        "responseMappings",
                    )
        self._duplicate_keys(self.d.webhooks, "webhook")

    def _field_names(self) -> list[str]:
        return [f.display_name for f in self.fields]

    def _duplicate_keys(self, objects: Sequence[object], what: str) -> None:
        first: dict[str, object] = {}
        for obj, occurrence in self._occurrences(objects):
            key = getattr(obj, "key", None)
            if not key:
                continue
            if key in first:
                self.add(
                    "DUPLICATE_KEY",
                    f"key {key!r} is used by two {what}s ({getattr(first[key], 'name', '?')!r} "
                    f"and {getattr(obj, 'name', '?')!r}); keys identify one object across "
                    "renames, so each must be unique",
                    self.scope_of(obj, occurrence),
                    "key",
                )
            else:
                first[key] = obj

    # -- tree and tokens --------------------------------------------------------------

    def folder_exists(self, workspace: str, path: FolderPath) -> bool:
        return not path or folder_key(workspace, path) in self.folders

    def nearest_program(self, workspace: str, path: FolderPath) -> Folder | None:
        for end in range(len(path), 0, -1):
            folder = self.folders.get(folder_key(workspace, path[:end]))
            if folder is not None and folder.is_program:
                return folder
        return None

    def check_tree(self) -> None:
        self._duplicates(self.d.workspaces, lambda w: _fold(w.name), "workspace", "")
        workspaces = {_fold(w.name) for w in self.d.workspaces}
        seen: set[str] = set()
        for folder, occurrence in self._occurrences(self.d.folders):
            assert isinstance(folder, Folder)
            scope = self.scope_of(folder, occurrence)
            label = f"{folder.kind.value.lower()} {'/'.join(folder.path)!r}"
            key = folder_key(folder.workspace, folder.path)
            if key in seen:
                self.add(
                    "DUPLICATE_NAME",
                    f"{label} is defined twice in workspace {folder.workspace!r}",
                    scope,
                )
            seen.add(key)
            if workspaces and _fold(folder.workspace) not in workspaces:
                self.add(
                    "REF_UNKNOWN",
                    f"{label} is in unknown workspace {folder.workspace!r}",
                    scope,
                )
            if not self.folder_exists(folder.workspace, folder.parent_path):
                self.add(
                    "REF_UNKNOWN",
                    f"{label}: parent {'/'.join(folder.parent_path)!r} does not exist",
                    scope,
                )
            if folder.is_program and folder.channel and _fold(folder.channel) not in self.channels:
                self.add(
                    "REF_UNKNOWN",
                    f"program {folder.name!r} uses unknown channel {folder.channel!r}; define it "
                    "under 'channels:'"
                    + _suggest(folder.channel, [c.name for c in self.d.channels]),
                    scope,
                    "channel",
                )
        for names in self.by_workspace["program"].values():
            for programs in names.values():
                for program in programs[1:]:
                    self.add(
                        "DUPLICATE_NAME",
                        f"program {program.name!r} exists twice in workspace "  # type: ignore[attr-defined]
                        f"{program.workspace!r}; program names are unique per workspace",  # type: ignore[attr-defined]
                        self.scope_of(program),
                    )
        self._duplicate_keys(self.d.folders, "folder or program")

    def check_tokens(self) -> None:
        seen: set[tuple[str, str]] = set()
        for token, occurrence in self._occurrences(self.d.tokens):
            scope = self.scope_of(token, occurrence)
            name = token.name  # type: ignore[attr-defined]
            problem = token_name_problem(name)
            if problem:
                self.add("TOKEN_INVALID", f"My Token {name!r}: {problem} (TOK-10)", scope)
            problem = my_token_value_problem(token.type, token.value)  # type: ignore[attr-defined]
            if problem:
                self.add("TOKEN_INVALID", f"My Token {name!r}: {problem} (TOK-10)", scope, "value")
            workspace, folder = token.workspace, token.folder  # type: ignore[attr-defined]
            where = "" if workspace is None else folder_key(workspace, folder or ())
            if (where, _fold(name)) in seen:
                self.add(
                    "DUPLICATE_NAME",
                    f"My Token {name!r} is defined twice at the same location (TOK-10)",
                    scope,
                )
            seen.add((where, _fold(name)))
            if workspace is not None and not self.folder_exists(workspace, folder or ()):
                self.add(
                    "REF_UNKNOWN",
                    f"My Token {name!r} is defined on unknown folder {'/'.join(folder or ())!r}",
                    scope,
                )

    def visible_tokens(self, workspace: str, path: FolderPath) -> set[str]:
        names = set(self.tokens_by_scope.get("", set()))
        for end in range(len(path) + 1):
            names |= self.tokens_by_scope.get(folder_key(workspace, path[:end]), set())
        return names

    # -- tokens in text ---------------------------------------------------------------

    def check_token_families(self, text: str, scope: _Scope, location: str, what: str) -> None:
        """TOK-15: unknown families are errors wherever tokens resolve."""
        for piece in scan(text):
            if isinstance(piece, TokenRef) and piece.family is None and not piece.is_alert_info:
                self.add(
                    "TOKEN_FAMILY_UNKNOWN",
                    f"{what}: {piece.display} has unknown family {piece.family_text!r}; families "
                    f"are {', '.join(f.value for f in TokenFamily)} (TOK-2)",
                    scope,
                    location,
                )

    def check_token_text(
        self,
        text: str,
        scope: _Scope,
        location: str,
        what: str,
        *,
        my_tokens: set[str] | None,
        triggered: bool,
    ) -> None:
        """TOK-15: families (error) and names that cannot resolve (warnings)."""
        self.check_token_families(text, scope, location, what)
        for piece in scan(text):
            if isinstance(piece, MalformedToken):
                self.add(
                    "TOKEN_UNKNOWN",
                    f"{what}: {piece.text!r} is not a token ({piece.reason.value}); it will be "
                    "sent literally — write {{family.Name}}",
                    scope,
                    location,
                )
                continue
            if not isinstance(piece, TokenRef) or piece.family is None:
                continue
            problem = self._token_problem(piece, my_tokens, triggered)
            if problem:
                self.add("TOKEN_UNKNOWN", f"{what}: {piece.display} {problem}", scope, location)

    def _token_problem(
        self, token: TokenRef, my_tokens: set[str] | None, triggered: bool
    ) -> str | None:
        family = token.family
        name = _fold(token.name)
        if family in (TokenFamily.LEAD, TokenFamily.COMPANY):
            found = self.fields.get(token.name)
            if found is None:
                return "names no field" + _suggest(token.name, self._field_names())
            if family is TokenFamily.COMPANY and not found.is_company:
                return f"names {found.display_name!r}, which is not a company field"
        elif family is TokenFamily.MY and my_tokens is not None and name not in my_tokens:
            return "is not defined at this location or above (TOK-11)"
        elif family is TokenFamily.SYSTEM and name.replace(" ", "") not in _SYSTEM_TOKENS:
            return "is not a system token (TOK-7)"
        elif family in (TokenFamily.CAMPAIGN, TokenFamily.PROGRAM) and name not in _CONTEXT_TOKENS:
            return "is not one of name, id, description (TOK-6)"
        elif family is TokenFamily.TRIGGER and not triggered:
            return "can never resolve: this campaign is never started by a trigger (TOK-8)"
        return None

    # -- assets -----------------------------------------------------------------------

    def check_assets(self) -> None:
        for kind, objects, what in (
            ("list", self.d.static_lists, "static list"),
            ("smart list", self.d.smart_lists, "smart list"),
            ("email", self.d.emails, "email"),
        ):
            for obj, occurrence in self._occurrences(objects):
                workspace, folder = obj.workspace, obj.folder  # type: ignore[attr-defined]
                scope = self.scope_of(obj, occurrence)
                if occurrence:
                    self.add(
                        "DUPLICATE_NAME",
                        f"{what} {obj.name!r} is defined twice in workspace {workspace!r}; "  # type: ignore[attr-defined]
                        f"{what} names are unique per workspace",
                        scope,
                    )
                elif len(self.by_workspace[kind][_fold(workspace)][_fold(obj.name)]) > 1:  # type: ignore[attr-defined]
                    pass
                if not self.folder_exists(workspace, folder):
                    self.add(
                        "REF_UNKNOWN",
                        f"{what} {obj.name!r} is in unknown folder {'/'.join(folder)!r}",  # type: ignore[attr-defined]
                        scope,
                    )
            self._duplicate_keys(objects, what)
        for email, occurrence in self._occurrences(self.d.emails):
            assert isinstance(email, Email)
            scope = self.scope_of(email, occurrence)
            for where, text in (
                ("subject", email.subject),
                ("fromName", email.from_name),
                ("fromEmail", email.from_email),
                ("replyTo", email.reply_to),
                ("html", email.html),
                ("text", email.text),
            ):
                self.check_token_families(text, scope, where, f"email {email.name!r} {where}")

    # -- references -------------------------------------------------------------------

    def resolve(self, kind: str, name: str, workspace: str) -> tuple[list[object], list[object]]:
        """(matches in ``workspace``, matches in other workspaces) for a reference by name."""
        text = str(name).strip()
        wanted = _fold(text)
        index = self.by_workspace[kind]
        here = list(index[_fold(workspace)].get(wanted, []))
        if not here and "/" in text:
            # ``Folder/Program/Name`` picks one of several same-named campaigns.
            *path, last = [p.strip() for p in text.split("/")]
            here = [
                obj
                for obj in index[_fold(workspace)].get(_fold(last), [])
                if [_fold(p) for p in getattr(obj, "folder", ())] == [_fold(p) for p in path]
            ]
        elsewhere = [
            obj
            for ws, names in index.items()
            if ws != _fold(workspace)
            for obj in names.get(wanted, [])
        ]
        return here, elsewhere

    def reference(
        self,
        kind: str,
        name: Value,
        workspace: str,
        scope: _Scope,
        location: str,
        what: str,
        *,
        missing_code: str = "REF_UNKNOWN",
    ) -> object | None:
        """The single object ``name`` refers to, reporting REF_UNKNOWN / XWS_REF otherwise."""
        here, elsewhere = self.resolve(kind, str(name), workspace)
        if len(here) == 1:
            return here[0]
        if len(here) > 1:
            self.add(
                "REF_AMBIGUOUS",
                f"{what}: several {kind}s are named {name!r} in workspace {workspace!r}; "
                "write 'Folder/Program/Name' to pick one",
                scope,
                location,
            )
            return None
        if elsewhere:
            other = getattr(elsewhere[0], "workspace", "?")
            self.add(
                "XWS_REF",
                f"{what}: {kind} {name!r} is in workspace {other!r}, not {workspace!r}; "
                "references must stay within one workspace (WS-2)",
                scope,
                location,
            )
            return None
        known = [getattr(o, "name", "") for o in self._all(kind, workspace)]
        self.add(
            missing_code,
            f"{what}: there is no {kind} named {name!r} in workspace {workspace!r}"
            + _suggest(str(name), known),
            scope,
            location,
        )
        return None

    def _all(self, kind: str, workspace: str) -> list[object]:
        return [o for objs in self.by_workspace[kind][_fold(workspace)].values() for o in objs]

    # -- smart lists ------------------------------------------------------------------

    def check_rules(
        self,
        rules: SmartListRules,
        scope: _Scope,
        workspace: str,
        *,
        standalone: bool,
    ) -> tuple[bool, list[object]]:
        """Checks triggers, filters and logic; (valid, smart lists referenced)."""
        valid = True
        referenced: list[object] = []
        for number, trigger in enumerate(rules.triggers, start=1):
            location = f"triggers[{number}]"
            if standalone:
                self.add(
                    "SL_INVALID",
                    f"stand-alone smart lists hold filters only; remove trigger "
                    f"{trigger.name!r} (SL-7)",
                    scope,
                    location,
                )
                valid = False
                continue
            ok, refs = self.check_rule(trigger, scope, location, workspace, trigger=True)
            valid &= ok
            referenced += refs
        for number, rule in enumerate(rules.filters, start=1):
            ok, refs = self.check_rule(rule, scope, f"filters[{number}]", workspace, trigger=False)
            valid &= ok
            referenced += refs
        if rules.advanced_logic is not None or rules.match_type.value == "Advanced":
            for problem in check_logic(rules.advanced_logic or "", len(rules.filters)):
                self.add(
                    "LOGIC_INVALID",
                    f"filter logic {rules.advanced_logic!r}: {problem} (SL-5)",
                    scope,
                    "logic",
                )
                valid = False
            if len(rules.filters) < 3:
                self.add(
                    "LOGIC_FEW_FILTERS",
                    f"advanced logic over {len(rules.filters)} filter(s); 'all' or 'any' says "
                    "the same more simply (SL-6)",
                    scope,
                    "logic",
                )
        return valid, referenced

    def check_rule(
        self,
        rule: Rule,
        scope: _Scope,
        location: str,
        workspace: str,
        *,
        trigger: bool,
        in_choice: bool = False,
    ) -> tuple[bool, list[object]]:
        """SL-9 checks of one rule; (valid, smart lists it references)."""
        kind = "trigger" if trigger else "filter"
        if not rule.name:
            self.add(
                "SL_INVALID",
                f"write each {kind} as '- <Name>: <condition>', e.g. "
                "'- Lead Score: {at least: 10}'",
                scope,
                location,
            )
            return False, []
        entry = self.catalogue.trigger(rule.name) if trigger else self.catalogue.filter(rule.name)
        if entry is None:
            self._unknown_rule(rule, scope, location, trigger)
            return False, []
        self.check_rule_tokens(rule, scope, location, in_choice)
        errors_before = len(self.findings)
        referenced: list[object] = []
        if entry.is_activity:
            example = entry.primary.aliases[-1] if entry.primary else "Date of Activity"
            if rule.operator:
                self.add(
                    "SL_INVALID",
                    f"{entry.name!r} is an activity {kind}: put conditions under its "
                    f"attributes, e.g. '{entry.name}: {{{example}: {{is: …}}}}'",
                    scope,
                    location,
                )
            if rule.primary is not None:
                if entry.primary is None:
                    self.add(
                        "SL_INVALID",
                        f"{entry.name!r} has no primary attribute; use its constraints",
                        scope,
                        location,
                    )
                else:
                    self.check_condition(
                        entry,
                        entry.primary,
                        rule.primary.operator,
                        rule.primary.values,
                        scope,
                        location,
                        workspace,
                    )
            for condition in rule.constraints:
                spec = entry.constraint(condition.name)
                if spec is None:
                    names = [c.name for c in entry.constraints if not (trigger and c.filter_only)]
                    self.add(
                        "SL_INVALID",
                        f"{entry.name!r} has no constraint {condition.name!r}"
                        + _suggest(condition.name, names)
                        + f"; constraints are {', '.join(names)}",
                        scope,
                        f"{location}.{condition.name}",
                    )
                    continue
                if trigger and spec.filter_only:
                    self.add(
                        "SL_INVALID",
                        f"{spec.name!r} applies to filters only; remove it from trigger "
                        f"{entry.name!r} (SL-21)",
                        scope,
                        f"{location}.{condition.name}",
                    )
                    continue
                self.check_condition(
                    entry,
                    spec,
                    condition.operator,
                    condition.values,
                    scope,
                    f"{location}.{condition.name}",
                    workspace,
                )
        else:
            assert entry.subject is not None
            referenced += self.check_condition(
                entry,
                entry.subject,
                rule.operator or "",
                rule.values,
                scope,
                location,
                workspace,
                rule=rule,
            )
            for condition in rule.constraints:
                spec = entry.constraint(condition.name)
                if spec is None:
                    names = [c.name for c in entry.constraints]
                    self.add(
                        "SL_INVALID",
                        f"{entry.name!r} has no constraint {condition.name!r}"
                        + (f"; constraints are {', '.join(names)}" if names else ""),
                        scope,
                        f"{location}.{condition.name}",
                    )
                    continue
                referenced += self.check_condition(
                    entry,
                    spec,
                    condition.operator,
                    condition.values,
                    scope,
                    f"{location}.{condition.name}",
                    workspace,
                    rule=rule,
                )
        valid = not any(f.is_error for f in self.findings[errors_before:])
        return valid, referenced

    def _unknown_rule(self, rule: Rule, scope: _Scope, location: str, trigger: bool) -> None:
        if trigger:
            other = self.catalogue.filter(rule.name)
            hint = (
                f"; {other.name!r} is a filter, put it under 'filters:'"
                if other is not None
                else _suggest(rule.name, [e.name for e in self.catalogue.triggers()])
            )
            self.add("SL_INVALID", f"unknown trigger {rule.name!r}{hint} (SL-26)", scope, location)
            return
        other = self.catalogue.trigger(rule.name)
        if other is not None:
            hint = f"; {other.name!r} is a trigger, put it under 'triggers:'"
            activity_type = other.activity_type
            if activity_type is not None and activity_type.filter_name:
                hint += f" or use the filter {activity_type.filter_name!r}"
        else:
            hint = _suggest(rule.name, [e.name for e in self.catalogue.filters()])
        self.add(
            "SL_INVALID",
            f"unknown filter {rule.name!r}: no field, activity or membership filter has "
            f"that name{hint} (SL-9)",
            scope,
            location,
        )

    def check_rule_tokens(self, rule: Rule, scope: _Scope, location: str, in_choice: bool) -> None:
        values = list(rule.values)
        if rule.primary is not None:
            values += rule.primary.values
        for condition in rule.constraints:
            values += condition.values
        if any(isinstance(v, str) and has_token_syntax(v) for v in values):
            if in_choice:
                self.add(
                    "TOKEN_IN_CHOICE",
                    f"choice condition {rule.name!r} contains a token; conditions compare "
                    "literal values, so write the value itself (FLOW-10)",
                    scope,
                    location,
                )
            else:
                self.add(
                    "TOKEN_IN_SMART_LIST",
                    f"filter {rule.name!r} contains '{{{{…}}}}', which smart lists compare "
                    "literally, not as a token (SL-8)",
                    scope,
                    location,
                )

    def check_condition(
        self,
        entry: CatalogueEntry,
        spec: ConditionSpec,
        operator: str,
        values: Sequence[Value],
        scope: _Scope,
        location: str,
        workspace: str,
        *,
        rule: Rule | None = None,
    ) -> list[object]:
        """Operator and values of one condition; returns smart lists it references."""
        subject = f"{entry.name!r}" if spec.name == entry.name else f"{entry.name!r} {spec.name!r}"
        kind_text = (
            entry.field.data_type.value if entry.field is not None else spec.value_kind.value
        )
        canonical = spec.operator(operator) if operator else None
        if canonical is None:
            if not operator:
                self.add(
                    "SL_INVALID",
                    f"{subject} needs an operator: one of {', '.join(spec.operators)}",
                    scope,
                    location,
                )
            elif match_key(operator) in ALL_OPERATORS:
                self.add(
                    "SL_INVALID",
                    f"operator {operator!r} does not fit {subject} ({kind_text}); use one of "
                    f"{', '.join(spec.operators)} (SL-12..18)",
                    scope,
                    location,
                )
            else:
                self.add(
                    "SL_INVALID",
                    f"{subject}: {operator!r} does not start with an operator; use one of "
                    f"{', '.join(spec.operators)}, e.g. '{spec.operators[0]} <value>'",
                    scope,
                    location,
                )
            return []
        problem = value_problem(spec, canonical, values)
        if problem:
            self.add("SL_INVALID", f"{subject}: {problem} (SL-9)", scope, location)
            return []
        referenced: list[object] = []
        if spec.value_kind.is_reference:
            what = f"{kind_text} in {entry.name!r}"
            for value in values:
                if spec.value_kind is ValueKind.PROGRAM_STATUS:
                    self._check_status_condition(entry, rule, value, scope, location, workspace)
                    continue
                kind = {
                    ValueKind.STATIC_LIST: "list",
                    ValueKind.SMART_LIST: "smart list",
                    ValueKind.PROGRAM: "program",
                    ValueKind.CAMPAIGN: "campaign",
                }[spec.value_kind]
                found = self.reference(kind, value, workspace, scope, location, what)
                if found is not None and kind == "smart list":
                    referenced.append(found)
        return referenced

    def _check_status_condition(
        self,
        entry: CatalogueEntry,
        rule: Rule | None,
        status: Value,
        scope: _Scope,
        location: str,
        workspace: str,
    ) -> None:
        if rule is None:
            return
        for program_name in rule.values:
            here, _ = self.resolve("program", str(program_name), workspace)
            if len(here) != 1:
                continue
            program = here[0]
            assert isinstance(program, Folder)
            channel = self.channels.get(_fold(program.channel or ""))
            if channel is not None and channel.rank(str(status)) is None:
                self.add(
                    "REF_UNKNOWN",
                    f"program {program.name!r} (channel {channel.name!r}) has no status "
                    f"{status!r}; statuses are {', '.join(s.name for s in channel.statuses)}",
                    scope,
                    location,
                )

    def check_smart_lists(self) -> None:
        """Stand-alone smart lists, Member of Smart List cycles and SL-10 propagation."""
        refs: dict[int, list[SmartList]] = {}
        own_invalid: set[int] = set()
        lists = list(self.d.smart_lists)
        for smart, occurrence in self._occurrences(lists):
            assert isinstance(smart, SmartList)
            scope = self.scope_of(smart, occurrence)
            valid, referenced = self.check_rules(
                smart.rules, scope, smart.workspace, standalone=True
            )
            if not valid:
                own_invalid.add(id(smart))
            refs[id(smart)] = [r for r in referenced if isinstance(r, SmartList)]
        by_id = {id(s): s for s in lists}
        invalid = set(own_invalid)
        # Cycles (SL-9): every list on a cycle is invalid.
        state: dict[int, int] = {}
        reported: set[frozenset[int]] = set()

        def visit(node: int, stack: list[int]) -> None:
            state[node] = 1
            stack.append(node)
            for target in refs.get(node, []):
                key = id(target)
                if state.get(key) == 1:
                    cycle = stack[stack.index(key) :]
                    members = frozenset(cycle)
                    invalid.update(cycle)
                    if members not in reported:
                        reported.add(members)
                        names = " → ".join(by_id[n].name for n in [*cycle, key])
                        self.add(
                            "SL_INVALID",
                            f"Member of Smart List cycle: {names}; break the cycle (SL-9)",
                            self.scope_of(by_id[node]),
                            "filters",
                        )
                elif state.get(key) is None and key in by_id:
                    visit(key, stack)
            stack.pop()
            state[node] = 2

        for smart in lists:
            if id(smart) not in state:
                visit(id(smart), [])
        changed = True
        while changed:
            changed = False
            for smart in lists:
                if id(smart) in invalid:
                    continue
                bad = [r for r in refs.get(id(smart), []) if id(r) in invalid]
                if bad:
                    invalid.add(id(smart))
                    changed = True
                    self.add(
                        "SL_INVALID",
                        f"smart list {smart.name!r} uses invalid smart list {bad[0].name!r} "
                        "through Member of Smart List, so it matches nobody (SL-10)",
                        self.scope_of(smart),
                        "filters",
                    )
        self.smart_list_invalid = invalid

    # -- campaigns --------------------------------------------------------------------

    @staticmethod
    def kind_of(campaign: Campaign) -> CampaignKind:
        if campaign.executable:
            return CampaignKind.EXECUTABLE
        if campaign.smart_list.triggers:
            return CampaignKind.TRIGGER
        return CampaignKind.BATCH

    def check_campaign(self, index: int, campaign: Campaign) -> None:
        occurrence = self._campaign_occurrence(index, campaign)
        scope = self.scope_of(campaign, occurrence)
        workspace = campaign.workspace
        if occurrence:
            self.add(
                "DUPLICATE_NAME",
                f"campaign {campaign.name!r} is defined twice in {'/'.join(campaign.folder)!r}; "
                "campaign names are unique per folder or program (CMP-1)",
                scope,
            )
        if not self.folder_exists(workspace, campaign.folder):
            self.add(
                "REF_UNKNOWN",
                f"campaign {campaign.name!r} is in unknown folder {'/'.join(campaign.folder)!r}",
                scope,
            )
        if len(campaign.name) > MAX_CAMPAIGN_NAME_LENGTH:
            self.add("CAMPAIGN_INVALID", "campaign names hold at most 255 characters", scope)
        if len(campaign.description) > MAX_CAMPAIGN_DESCRIPTION_LENGTH:
            self.add(
                "CAMPAIGN_INVALID",
                "campaign descriptions hold at most 2,000 characters (CMP-1)",
                scope,
                "description",
            )
        rules_scope = _Scope(
            obj=campaign, campaign=campaign, occurrence=occurrence, prefix="smartList."
        )
        if campaign.executable:
            for number, trigger in enumerate(campaign.smart_list.triggers, start=1):
                self.add(
                    "EXE_TRIGGER",
                    f"executable campaign {campaign.name!r} has trigger {trigger.name!r}; "
                    "executables run only when called, so remove the trigger (EXE-3)",
                    rules_scope,
                    f"triggers[{number}]",
                )
            if campaign.active:
                self.add(
                    "ACTIVATION_INVALID",
                    f"executable campaign {campaign.name!r} cannot be active; remove "
                    "'active: true' (EXE-2)",
                    scope,
                    "active",
                )
        elif campaign.active:
            if not campaign.smart_list.triggers:
                self.add(
                    "ACTIVATION_INVALID",
                    f"campaign {campaign.name!r} is active but has no trigger; only trigger "
                    "campaigns are activated (CMP-12)",
                    scope,
                    "active",
                )
            if not campaign.flow:
                self.add(
                    "ACTIVATION_INVALID",
                    f"campaign {campaign.name!r} is active but its flow is empty (CMP-12)",
                    scope,
                    "active",
                )
        before = len(self.findings)
        rules = campaign.smart_list
        if campaign.executable:
            rules = SmartListRules(
                filters=rules.filters,
                match_type=rules.match_type,
                advanced_logic=rules.advanced_logic,
            )
        valid, referenced = self.check_rules(rules, rules_scope, workspace, standalone=False)
        for smart in referenced:
            if id(smart) in self.smart_list_invalid:
                valid = False
                self.add(
                    "SL_INVALID",
                    f"campaign {campaign.name!r} uses invalid smart list "
                    f"{smart.name!r}, so it qualifies nobody (SL-10)",  # type: ignore[attr-defined]
                    rules_scope,
                    "filters",
                )
        if not valid or any(f.is_error and f.code == "EXE_TRIGGER" for f in self.findings[before:]):
            self.campaign_rules_invalid.add(index)
        self.check_schedule(campaign, scope)
        self.check_flow(index, campaign, occurrence)

    def _campaign_occurrence(self, index: int, campaign: Campaign) -> int:
        if not self.campaign_occurrences:
            self.campaign_occurrences = [n for _, n in self._occurrences(self.d.campaigns)]
        return self.campaign_occurrences[index]

    def check_schedule(self, campaign: Campaign, scope: _Scope) -> None:
        schedule = campaign.schedule
        rule = schedule.qualification
        if rule.type is QualificationRuleType.INTERVAL and (
            rule.interval is None or rule.interval < 1 or rule.unit is None
        ):
            self.add(
                "SCHEDULE_INVALID",
                "an interval qualification rule needs N ≥ 1 and a unit (CMP-17)",
                scope,
                "schedule.qualification",
            )
        recurrence = schedule.recurrence
        if recurrence is None:
            return
        problems: list[str] = []
        interval_type = recurrence.interval_type
        if recurrence.weekday_only and interval_type is not RecurrenceInterval.DAILY:
            problems.append("weekdayOnly applies to Daily recurrences only")
        if recurrence.weekday_mask and interval_type is not RecurrenceInterval.WEEKLY:
            problems.append("weekdayMask applies to Weekly recurrences only")
        if interval_type is RecurrenceInterval.WEEKLY and not recurrence.weekday_mask:
            problems.append("Weekly recurrences need weekdayMask")
        monthly_day = recurrence.day_of_month is not None
        monthly_week = recurrence.day_of_week is not None or recurrence.week_of_month is not None
        if interval_type is RecurrenceInterval.MONTHLY:
            if monthly_day == monthly_week:
                problems.append(
                    "Monthly recurrences need either dayOfMonth or dayOfWeek + weekOfMonth"
                )
            elif monthly_week and (
                recurrence.day_of_week is None or recurrence.week_of_month is None
            ):
                problems.append("dayOfWeek and weekOfMonth go together")
        elif monthly_day or monthly_week:
            problems.append(
                "dayOfMonth, dayOfWeek and weekOfMonth apply to Monthly recurrences only"
            )
        if recurrence.end_at is not None and recurrence.end_at < recurrence.start_at:
            problems.append("endAt is before startAt")
        if campaign.executable or campaign.smart_list.triggers:
            problems.append("only batch campaigns recur")
        for problem in problems:
            self.add(
                "SCHEDULE_INVALID", f"recurrence: {problem} (CMP-9)", scope, "schedule.recurrence"
            )

    # -- flow -------------------------------------------------------------------------

    def check_flow(self, index: int, campaign: Campaign, occurrence: int) -> None:
        kind = self.kind_of(campaign)
        seen: set[str] = set()
        my_tokens = self.visible_tokens(campaign.workspace, campaign.folder)
        triggered = kind is CampaignKind.TRIGGER or kind is CampaignKind.EXECUTABLE
        for step in campaign.flow:
            scope = _Scope(obj=campaign, campaign=campaign, occurrence=occurrence)
            location = f"flow.{step.id}"
            if step.id in seen:
                self.add(
                    "DUPLICATE_NAME",
                    f"step id {step.id!r} is used twice in the flow; ids are unique (GEN-3)",
                    scope,
                    location,
                )
            seen.add(step.id)
            spec = step_spec(step.type.value)
            assert spec is not None
            self.check_step_kind(campaign, kind, spec, scope, location)
            if not spec.choices_allowed and step.choices:
                self.add(
                    "STEP_PARAM_INVALID",
                    f"{spec.type.value} takes no choices (WAIT-1); split it into separate steps",
                    scope,
                    f"{location}.choices[1]",
                )
            branches: list[tuple[str, dict[str, ParamValue], dict[str, ParamValue], bool]] = [
                (location, dict(step.params), dict(step.params), step.do_nothing)
            ]
            for number, choice in enumerate(step.choices, start=1):
                where = f"{location}.choices[{number}]"
                self.check_rule(
                    choice.condition,
                    scope,
                    f"{where}.if",
                    campaign.workspace,
                    trigger=False,
                    in_choice=True,
                )
                merged = {**step.params, **choice.params}
                branches.append((where, dict(choice.params), merged, choice.do_nothing))
            for where, own, merged, do_nothing in branches:
                self.check_params(
                    index,
                    campaign,
                    kind,
                    spec,
                    step,
                    where,
                    own,
                    merged,
                    do_nothing,
                    scope,
                    my_tokens=my_tokens,
                    triggered=triggered,
                )
            self.check_trigger_self(campaign, step, scope, location)

    def check_step_kind(
        self, campaign: Campaign, kind: CampaignKind, spec: StepSpec, scope: _Scope, location: str
    ) -> None:
        if kind in spec.allowed_in:
            return
        name = spec.type.value
        if kind is CampaignKind.EXECUTABLE and spec.type is StepType.WAIT:
            code, why = (
                "EXE_WAIT",
                "executables run inline and cannot wait; move the Wait into a requested "
                "campaign (EXE-3)",
            )
        elif kind is CampaignKind.EXECUTABLE and spec.type is StepType.CALL_WEBHOOK:
            code, why = (
                "EXE_WEBHOOK",
                "executables cannot call webhooks; use Request Campaign to a trigger "
                "campaign (EXE-3)",
            )
        elif spec.type is StepType.CALL_WEBHOOK:
            code, why = "HOOK_BATCH", "Call Webhook is allowed only in trigger campaigns (HOOK-2)"
        else:
            code, why = "STEP_UNSUPPORTED", f"not allowed in {kind.value} campaigns (FLOW-24)"
        self.add(code, f"{name} in {kind.value} campaign {campaign.name!r}: {why}", scope, location)

    def check_params(
        self,
        index: int,
        campaign: Campaign,
        kind: CampaignKind,
        spec: StepSpec,
        step: Step,
        where: str,
        own: dict[str, ParamValue],
        merged: dict[str, ParamValue],
        do_nothing: bool,
        scope: _Scope,
        *,
        my_tokens: set[str],
        triggered: bool,
    ) -> None:
        name = spec.type.value
        label = f"{name} ({step.id})"
        for param_name in own:
            if spec.param(param_name) is None:
                accepted = ", ".join(p.name for p in spec.params) or "no parameters"
                self.add(
                    "STEP_PARAM_INVALID",
                    f"{label}: unknown parameter {param_name!r}"
                    + _suggest(param_name, [p.name for p in spec.params])
                    + f"; {name} takes {accepted}",
                    scope,
                    f"{where}.{param_name}",
                )
        if not do_nothing:
            for param in spec.params:
                if param.required and merged.get(param.name) in (None, "", ()):
                    self.add(
                        "STEP_PARAM_INVALID",
                        f"{label} needs {param.name!r}"
                        + (f" ({', '.join(param.aliases)})" if param.aliases else ""),
                        scope,
                        where,
                    )
        for param in spec.params:
            if param.name not in own:
                continue
            value = own[param.name]
            location = f"{where}.{param.name}"
            self.check_param_value(
                index, campaign, kind, step, param, value, merged, scope, location, label
            )
            if param.tokens:
                for text in _token_texts(value):
                    self.check_token_text(
                        text,
                        scope,
                        location,
                        f"{label} {param.name}",
                        my_tokens=my_tokens,
                        triggered=triggered,
                    )
        if spec.type is StepType.WAIT and not do_nothing:
            modes = [m for m in ("duration", "date", "token") if merged.get(m) not in (None, "")]
            if len(modes) != 1:
                self.add(
                    "STEP_PARAM_INVALID",
                    f"{label} needs exactly one of duration, date or token (WAIT-2..6)",
                    scope,
                    where,
                )
            if "token" in modes and kind is not CampaignKind.TRIGGER:
                self.add(
                    "WAIT_DATE_TOKEN_BATCH",
                    f"{label}: date-token waits work only in trigger campaigns (WAIT-6)",
                    scope,
                    f"{where}.token",
                )

    def check_param_value(
        self,
        index: int,
        campaign: Campaign,
        kind: CampaignKind,
        step: Step,
        param: ParamSpec,
        value: ParamValue,
        merged: dict[str, ParamValue],
        scope: _Scope,
        location: str,
        label: str,
    ) -> None:
        workspace = campaign.workspace
        what = f"{label} {param.name}"
        text = value if isinstance(value, str) else None
        has_tokens = param.tokens and text is not None and has_token_syntax(text)

        def invalid(message: str, code: str = "STEP_PARAM_INVALID") -> None:
            self.add(code, f"{what}: {message}", scope, location)

        match param.kind:
            case ParamKind.BOOLEAN:
                if not isinstance(value, bool):
                    invalid(f"write true or false, not {value!r}")
            case ParamKind.TEXT:
                if value is not None and not isinstance(value, str | int | float | bool):
                    invalid("takes a single text value, not a list")
                if step.type is StepType.CHANGE_DATA_VALUE and not has_tokens:
                    self._check_new_value(merged, value, invalid)
                if step.type is StepType.CHANGE_PROGRAM_SUCCESS:
                    self._check_success_value(merged, value, invalid)
            case ParamKind.INTEGER_TEXT:
                if not has_tokens and not (
                    (isinstance(value, int) and not isinstance(value, bool))
                    or (isinstance(value, str) and _INTEGER.match(value))
                ):
                    invalid(f"write a whole number or a token, not {value!r}")
            case ParamKind.FIELD | ParamKind.SCORE_FIELD:
                found = self.fields.get(str(value)) if isinstance(value, str) else None
                if found is None:
                    invalid(
                        f"there is no field {value!r}" + _suggest(str(value), self._field_names()),
                        "REF_UNKNOWN",
                    )
                elif param.kind is ParamKind.SCORE_FIELD and found.data_type is not FieldType.SCORE:
                    invalid(
                        f"{found.display_name!r} is a {found.data_type.value} field; Change Score "
                        "needs a score field"
                    )
                elif found.read_only or found.update_blocked:
                    invalid(
                        f"{found.display_name!r} is read-only; flows cannot change it (FLOW-14)"
                    )
            case ParamKind.SCORE_CHANGE:
                if not has_tokens and not (
                    (isinstance(value, int) and not isinstance(value, bool))
                    or (isinstance(value, str) and _SCORE_CHANGE.match(value))
                ):
                    invalid(
                        f"{value!r} is not a score change; write +N, -N, N, =N, =+N or =-N, or "
                        "use a token such as {{my.Score}} (FLOW-16)"
                    )
            case ParamKind.CHOICE:
                if match_key(str(value)) not in {match_key(c) for c in param.choices}:
                    invalid(f"{value!r} is not one of {', '.join(param.choices)}")
            case ParamKind.DURATION:
                if not (isinstance(value, str) and _DURATION.match(value)) or (
                    isinstance(value, str) and int(value.split()[0]) < 1
                ):
                    invalid(
                        f"{value!r} is not a duration; write N minutes|hours|days|weeks|months|"
                        "years with a whole N ≥ 1, e.g. '4 hours' (WAIT-2)",
                        "WAIT_UNPARSEABLE",
                    )
            case ParamKind.DATE:
                if not is_date_text(str(value)):
                    invalid(f"write a date yyyy-MM-dd or an ISO date-time, not {value!r} (WAIT-5)")
            case ParamKind.WEEKDAYS:
                days = value if isinstance(value, tuple) else (value,)
                names = {d.value.casefold() for d in Weekday}
                bad = [d for d in days if str(d).casefold() not in names]
                if bad or not days:
                    invalid(f"weekdays are Monday…Sunday; {bad!r} is not (WAIT-4)")
            case ParamKind.TIME_OF_DAY:
                if not (isinstance(value, str) and _TIME_OF_DAY.match(value.strip())):
                    invalid(f"write a time HH:MM such as '09:00', not {value!r} (WAIT-4)")
            case ParamKind.STATIC_LIST:
                self.reference("list", str(value), workspace, scope, location, what)
            case ParamKind.EMAIL:
                email = self.reference("email", str(value), workspace, scope, location, what)
                if isinstance(email, Email):
                    if not email.approved:
                        invalid(
                            f"email {email.name!r} is not approved (MAIL-1)", "EMAIL_UNAPPROVED"
                        )
                    if (
                        step.type is StepType.SEND_ALERT
                        and "sp_send_alert_info" not in (email.html + email.text).casefold()
                    ):
                        invalid(
                            f"alert email {email.name!r} lacks {{{{sp_send_alert_info}}}}, so the "
                            "alert will not say who it is about (MAIL-12)",
                            "ALERT_NO_INFO",
                        )
            case ParamKind.PROGRAM:
                self._program(campaign, value, scope, location, what)
            case ParamKind.PROGRAM_STATUS:
                program = self._program(
                    campaign, merged.get("program", THIS_PROGRAM), None, location, what
                )
                if program is not None:
                    channel = self.channels.get(_fold(program.channel or ""))
                    if channel is None:
                        invalid(
                            f"program {program.name!r} has no channel, so it has no statuses",
                            "REF_UNKNOWN",
                        )
                    elif channel.rank(str(value)) is None:
                        invalid(
                            f"{value!r} is not a status of channel {channel.name!r} of program "
                            f"{program.name!r}; statuses are "
                            f"{', '.join(s.name for s in channel.statuses)} (FLOW-20)",
                            "REF_UNKNOWN",
                        )
            case ParamKind.WEBHOOK:
                if _fold(str(value)) not in self.webhooks:
                    invalid(
                        f"there is no webhook {value!r}"
                        + _suggest(str(value), [w.name for w in self.d.webhooks]),
                        "REF_UNKNOWN",
                    )
            case ParamKind.CAMPAIGN:
                self._campaign_target(index, campaign, step, value, merged, scope, location, what)
            case ParamKind.CAMPAIGNS:
                targets = value if isinstance(value, tuple) else (value,)
                for target in targets:
                    if _fold(str(target)) in (THIS_CAMPAIGN, "this campaign"):
                        continue
                    self.reference("campaign", str(target), workspace, scope, location, what)
        if param.name == "toOtherEmails" and has_tokens and kind is CampaignKind.BATCH:
            invalid(
                "tokens in toOtherEmails resolve only in trigger or requested runs; in a batch "
                "campaign those addresses are dropped (MAIL-11)",
                "ALERT_TOKEN_BATCH",
            )

    def _check_new_value(
        self, merged: dict[str, ParamValue], value: ParamValue, invalid: Callable[[str], None]
    ) -> None:
        """FLOW-13/14: a literal new value must convert to the field's type."""
        target = self.fields.get(str(merged.get("attribute", "")))
        if target is None or value is None:
            return
        text = str(value).strip()
        if text in ("", "NULL"):
            return
        problem = _conversion_problem(target.data_type, value)
        if problem:
            invalid(f"{text!r} does not fit {target.display_name!r}: {problem} (FLOW-14)")

    def _check_success_value(
        self, merged: dict[str, ParamValue], value: ParamValue, invalid: Callable[[str], None]
    ) -> None:
        attribute = _fold(str(merged.get("attribute", "")))
        if attribute == "success" and _fold(str(value)) not in _BOOLEAN_TEXT:
            invalid(f"Success takes true or false, not {value!r} (FLOW-22)")
        if attribute == "success date" and not is_date_text(str(value)):
            invalid(f"Success Date takes a date yyyy-MM-dd, not {value!r} (FLOW-22)")

    def _program(
        self,
        campaign: Campaign,
        value: ParamValue,
        scope: _Scope | None,
        location: str,
        what: str,
    ) -> Folder | None:
        if value is None or _fold(str(value)) == THIS_PROGRAM:
            program = self.nearest_program(campaign.workspace, campaign.folder)
            if program is None and scope is not None:
                self.add(
                    "STEP_PARAM_INVALID",
                    f"{what}: campaign {campaign.name!r} is not inside a program, so name the "
                    "program explicitly",
                    scope,
                    location,
                )
            return program
        if scope is None:
            here, _ = self.resolve("program", str(value), campaign.workspace)
            found = here[0] if len(here) == 1 else None
        else:
            found = self.reference("program", str(value), campaign.workspace, scope, location, what)
        return found if isinstance(found, Folder) else None

    def _campaign_target(
        self,
        index: int,
        campaign: Campaign,
        step: Step,
        value: ParamValue,
        merged: dict[str, ParamValue],
        scope: _Scope,
        location: str,
        what: str,
    ) -> None:
        execute = step.type is StepType.EXECUTE_CAMPAIGN
        code = "EXE_TARGET" if execute else "REQ_TARGET_INVALID"
        target = self.reference(
            "campaign", str(value), campaign.workspace, scope, location, what, missing_code=code
        )
        if not isinstance(target, Campaign):
            return
        target_index = self.campaign_index[id(target)]
        edge = _Edge(
            caller=index,
            target=target_index,
            location=location.rsplit(".", 1)[0],
            use_parent_context=merged.get("useParentContext") is True,
        )
        if execute:
            if not target.executable:
                self.add(
                    "EXE_TARGET",
                    f"{what}: {target.name!r} is not executable; Execute Campaign calls only "
                    "campaigns with 'executable: true' (EXE-5)",
                    scope,
                    location,
                )
                return
            self.execute_edges.append(edge)
            return
        requested = [t for t in target.smart_list.triggers if _fold(t.name) == _REQUESTED_TRIGGER]
        if target.executable or not requested:
            self.add(
                "REQ_TARGET_INVALID",
                f"{what}: {target.name!r} is not a trigger campaign with a 'Campaign is "
                "Requested' trigger (REQ-1)",
                scope,
                location,
            )
            return
        if not any(_accepts_flow_action(t) for t in requested):
            self.add(
                "REQ_SOURCE",
                f"{what}: {target.name!r} does not accept source 'Marketo Flow Action', so "
                "this request will never be accepted (REQ-13)",
                scope,
                location,
            )
        self.request_edges.append(edge)

    def check_trigger_self(
        self, campaign: Campaign, step: Step, scope: _Scope, location: str
    ) -> None:
        activity_id = _STEP_ACTIVITY.get(step.type)
        if activity_id is None:
            return
        for trigger in campaign.smart_list.triggers:
            entry = self.catalogue.trigger(trigger.name)
            if (
                entry is None
                or entry.activity_type is None
                or entry.activity_type.id != activity_id
            ):
                continue
            if (
                step.type is StepType.CHANGE_DATA_VALUE
                and trigger.primary is not None
                and trigger.primary.operator == "is"
            ):
                target = self.fields.get(str(step.params.get("attribute", "")))
                wanted = {_fold(str(v)) for v in trigger.primary.values}
                if target is not None and not wanted & {
                    _fold(target.display_name),
                    _fold(target.name),
                }:
                    continue
            self.add(
                "TRIGGER_SELF",
                f"{step.type.value} ({step.id}) writes an activity that trigger "
                f"{trigger.name!r} of this campaign listens to; the campaign may trigger itself",
                scope,
                location,
            )
            return

    # -- call graphs ------------------------------------------------------------------

    def _edge_scope(self, edge: _Edge) -> _Scope:
        caller = self.d.campaigns[edge.caller]
        return _Scope(
            obj=caller, campaign=caller, occurrence=self._campaign_occurrence(edge.caller, caller)
        )

    def _path(self, indices: Sequence[int]) -> tuple[tuple[int, ...], str]:
        campaigns = [self.d.campaigns[i] for i in indices]
        ids = tuple(c.id for c in campaigns if c.id is not None)
        names = " → ".join(c.name for c in campaigns)
        return (ids if len(ids) == len(campaigns) else ()), names

    def check_execute_graph(self) -> None:
        """EXE-15: cycles and paths deeper than maxExecuteDepth; EXE-24 child warnings."""
        outgoing = _outgoing(self.execute_edges)
        for cycle, edge in _cycles(outgoing, len(self.d.campaigns)):
            ids, names = self._path(cycle)
            self._add_graph(
                "EXE_CYCLE",
                f"Execute Campaign cycle {names}; executables cannot call "
                "themselves, directly or indirectly (EXE-15)",
                edge,
                ids,
            )
        reported_depth: set[tuple[int, ...]] = set()

        def descend(chain: list[int]) -> None:
            for edge in outgoing.get(chain[-1], []):
                if edge.target in chain:
                    continue
                path = [*chain, edge.target]
                if len(path) - 1 > self.max_depth:
                    if tuple(path) not in reported_depth:
                        reported_depth.add(tuple(path))
                        ids, names = self._path(path)
                        self._add_graph(
                            "EXE_DEPTH",
                            f"Execute Campaign chain {names} is {len(path) - 1} levels deep; at "
                            f"most {self.max_depth} are allowed (Parent > Child > Child > Child, "
                            "EXE-15); use Request Campaign for deeper work",
                            edge,
                            ids,
                            top=self.d.campaigns[path[0]],
                        )
                    continue
                descend(path)

        for index, campaign in enumerate(self.d.campaigns):
            if campaign.executable:
                continue
            descend([index])
            self._child_warnings(index, outgoing)

    def _child_warnings(self, top: int, outgoing: dict[int, list[_Edge]]) -> None:
        seen = {top}
        queue = [top]
        while queue:
            node = queue.pop(0)
            for edge in outgoing.get(node, []):
                if edge.target in seen:
                    continue
                seen.add(edge.target)
                queue.append(edge.target)
                if edge.target in self.campaign_rules_invalid:
                    child = self.d.campaigns[edge.target]
                    self._add_graph(
                        "CHILD_SMART_LIST_INVALID",
                        f"called executable {child.name!r} has an invalid smart list, so it "
                        "qualifies nobody (EXE-12, EXE-24)",
                        edge,
                        (),
                        top=self.d.campaigns[top],
                    )

    def _add_graph(
        self,
        code: str,
        message: str,
        edge: _Edge,
        ids: tuple[int, ...],
        *,
        top: Campaign | None = None,
    ) -> None:
        scope = self._edge_scope(edge)
        if top is not None:
            scope = _Scope(obj=scope.obj, campaign=top, occurrence=scope.occurrence)
        before = len(self.findings)
        self.add(code, message, scope, edge.location)
        if ids:
            finding = self.findings[before]
            self.findings[before] = replace(finding, path=ids)

    def check_request_graph(self) -> None:
        """REQ-13: cycles of Request Campaign edges are warnings."""
        for cycle, edge in _cycles(_outgoing(self.request_edges), len(self.d.campaigns)):
            ids, names = self._path(cycle)
            self._add_graph(
                "REQ_CYCLE",
                f"Request Campaign cycle {names}; each request starts a new run, "
                "so this may loop (REQ-13)",
                edge,
                ids,
            )


def _outgoing(edges: Iterable[_Edge]) -> dict[int, list[_Edge]]:
    """Campaign-call edges grouped by the calling campaign's index."""
    outgoing: dict[int, list[_Edge]] = defaultdict(list)
    for edge in edges:
        outgoing[edge.caller].append(edge)
    return outgoing


def _cycles(outgoing: dict[int, list[_Edge]], nodes: int) -> list[tuple[list[int], _Edge]]:
    """Each cycle of the call graph once (by its set of campaigns), with the closing edge.

    A cycle is the campaign indices from where it starts back to the same index.
    """
    found: list[tuple[list[int], _Edge]] = []
    reported: set[frozenset[int]] = set()
    state: dict[int, int] = {}  # 1 = on the current path, 2 = finished

    def visit(node: int, stack: list[int]) -> None:
        state[node] = 1
        stack.append(node)
        for edge in outgoing.get(node, []):
            if state.get(edge.target) == 1:
                cycle = [*stack[stack.index(edge.target) :], edge.target]
                if frozenset(cycle) not in reported:
                    reported.add(frozenset(cycle))
                    found.append((cycle, edge))
            elif state.get(edge.target) is None:
                visit(edge.target, stack)
        stack.pop()
        state[node] = 2

    for node in range(nodes):
        if node not in state:
            visit(node, [])
    return found


def _accepts_flow_action(trigger: Rule) -> bool:
    for condition in trigger.constraints:
        if _fold(condition.name) == "source":
            if condition.operator == "is any":
                return True
            return any(_fold(str(v)) == _FLOW_ACTION_SOURCE for v in condition.values)
    return True


def _conversion_problem(data_type: FieldType, value: ParamValue) -> str | None:
    """Why a literal cannot be stored in a field of ``data_type`` (FLOW-14).

    The import's converters decide, so a value lint accepts is one the field can hold.
    """
    text = ("true" if value else "false") if isinstance(value, bool) else str(value)
    try:
        text_parser(data_type, UTC)(text)
    except ValueConversionError as error:
        return str(error)
    return None
