"""Hand-built token worlds: the SPEC's worked examples as trees, campaigns and contexts."""

from __future__ import annotations

from datetime import UTC, datetime

from kampanj.model.campaigns import Campaign
from kampanj.model.fields import FieldDef, FieldRegistry, FieldType
from kampanj.model.tokens import MyToken, MyTokenType
from kampanj.model.tree import Folder, FolderKind
from kampanj.tokens.context import CallFrame, SystemFacts, TokenContext
from kampanj.tokens.overrides import NO_OVERRIDES, RunOverrides
from kampanj.tokens.tree import TokenTree

WS = "Default"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
SYSTEM = SystemFacts(now=NOW)

FIELDS = FieldRegistry.standard().with_fields(
    [
        FieldDef(
            name="behaviorScore",
            display_name="Behavior Score",
            data_type=FieldType.SCORE,
            column="c_behavior_score",
            is_custom=True,
        ),
        FieldDef(
            name="lastEvent",
            display_name="Last Event",
            data_type=FieldType.STRING,
            column="c_last_event",
            is_custom=True,
        ),
    ]
)


def program(name: str, id: int, *, parent: tuple[str, ...] = (), description: str = "") -> Folder:
    return Folder(
        workspace=WS,
        path=(*parent, name),
        kind=FolderKind.PROGRAM,
        id=id,
        description=description,
    )


def folder(path: tuple[str, ...], id: int) -> Folder:
    return Folder(workspace=WS, path=path, kind=FolderKind.FOLDER, id=id)


def token(
    name: str,
    value: str,
    at: tuple[str, ...] | None,
    type: MyTokenType = MyTokenType.SCORE,
) -> MyToken:
    """A My Token at folder path ``at`` of workspace Default; None = account (global)."""
    return MyToken(
        name=name, type=type, value=value, workspace=None if at is None else WS, folder=at
    )


def campaign(name: str, id: int, at: tuple[str, ...], *, executable: bool = False) -> Campaign:
    return Campaign(workspace=WS, folder=at, name=name, id=id, executable=executable)


def context(
    tree: TokenTree,
    *frames: tuple[Campaign, bool],
    overrides: RunOverrides = NO_OVERRIDES,
    system: SystemFacts = SYSTEM,
) -> TokenContext:
    """A context whose call stack is ``frames`` (level 0 first; the flag = useParentContext)."""
    return TokenContext(
        tree=tree,
        call_stack=tuple(CallFrame(campaign=c, use_parent_context=flag) for c, flag in frames),
        system=system,
        overrides=overrides,
    )


# -- WX-1 ------------------------------------------------------------------------------

SCORING = ("Scoring",)
WEBINAR_A = ("Webinar A",)
WEBINAR_B = ("Webinar B",)
WEBINAR_C = ("Webinar C",)

SHARED_SCORING = campaign("Shared Scoring", 200, SCORING, executable=True)
PARENT_TRUE = campaign("Parent True", 201, WEBINAR_A)
PARENT_FALSE = campaign("Parent False", 202, WEBINAR_B)
PARENT_SILENT = campaign("Parent Silent", 203, WEBINAR_C)


def wx1_tree(global_score: str | None = None) -> TokenTree:
    tokens = [
        token("Score", "+0", SCORING),
        token("Score", "+10", WEBINAR_A),
        token("Score", "+10", WEBINAR_B),
    ]
    if global_score is not None:
        tokens.append(token("Score", global_score, None))
    return TokenTree(
        tokens=tokens,
        folders=[
            program("Scoring", 100),
            program("Webinar A", 101),
            program("Webinar B", 102),
            program("Webinar C", 103),
        ],
        root_folder_ids={WS: 1},
    )


# -- WX-4 ------------------------------------------------------------------------------

EVENTS = ("Events",)
LIBRARY = ("Library",)
REGISTER = campaign("Register", 510, EVENTS)
STAMP = campaign("Stamp", 511, LIBRARY, executable=True)


def wx4_tree() -> TokenTree:
    text = MyTokenType.TEXT
    return TokenTree(
        tokens=[
            token("Event Name", "Default Event", EVENTS, text),
            token("Points", "+5", EVENTS),
            token("Event Name", "Library Event", LIBRARY, text),
            token("Points", "+1", LIBRARY),
            token("Only Here", "lib", LIBRARY, text),
        ],
        folders=[program("Events", 500), program("Library", 501)],
        root_folder_ids={WS: 1},
    )
