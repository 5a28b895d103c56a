"""TOK-21 resolution on random trees and call stacks equals a direct reading of the rule.

TOK-11, TOK-17..22: random My Tokens on the account, root folder, folders and programs;
random call stacks with random useParentContext flags; random run overrides.
"""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from kampanj.model.campaigns import Campaign
from kampanj.model.tokens import MyToken, MyTokenType
from kampanj.model.tree import Folder, FolderKind
from kampanj.tokens.context import CallFrame, TokenContext
from kampanj.tokens.overrides import OverrideRequest, check_overrides
from kampanj.tokens.render import compile_template
from kampanj.tokens.tree import TokenTree
from unit.tokens.tokenworld import FIELDS, SYSTEM, WS

PATHS: list[tuple[str, ...]] = [(), ("A",), ("A", "B"), ("A", "B", "D"), ("C",), ("C", "E")]
LOCATIONS: list[tuple[str, ...] | None] = [None, *PATHS]
NAMES = ["X", "Y"]

_definitions = st.dictionaries(
    st.tuples(st.sampled_from(LOCATIONS), st.sampled_from(NAMES)),
    st.integers(-9, 9).map(lambda n: f"{n:+d}"),
    max_size=10,
)
_stacks = st.lists(st.tuples(st.sampled_from(PATHS[1:]), st.booleans()), min_size=1, max_size=4)
_overrides = st.dictionaries(
    st.sampled_from([*NAMES, "Z"]), st.integers(10, 20).map(str), max_size=3
)


def _reference(
    definitions: dict[tuple[tuple[str, ...] | None, str], str],
    stack: list[tuple[tuple[str, ...], bool]],
    overrides: dict[str, str],
    name: str,
) -> str:
    chain = [len(stack) - 1]
    while chain[-1] > 0 and stack[chain[-1]][1]:
        chain.append(chain[-1] - 1)
    top_path = stack[0][0]

    def nearest(path: tuple[str, ...]) -> str | None:
        for end in range(len(path), -1, -1):
            if (path[:end], name) in definitions:
                return definitions[(path[:end], name)]
        return definitions.get((None, name))

    # TOK-17: an override counts only for names defined up the level-0 campaign's tree.
    if chain[-1] == 0 and name in overrides and nearest(top_path) is not None:
        return overrides[name]
    for index in reversed(chain):
        found = nearest(stack[index][0])
        if found is not None:
            return found
    return "dflt"


@given(_definitions, _stacks, _overrides)
def test_my_token_resolution_matches_the_rule(
    definitions: dict[tuple[tuple[str, ...] | None, str], str],
    stack: list[tuple[tuple[str, ...], bool]],
    overrides: dict[str, str],
) -> None:
    tree = TokenTree(
        tokens=[
            MyToken(
                name=name,
                type=MyTokenType.SCORE,
                value=value,
                workspace=None if at is None else WS,
                folder=at,
            )
            for (at, name), value in definitions.items()
        ],
        folders=[
            Folder(
                workspace=WS,
                path=path,
                kind=FolderKind.PROGRAM if len(path) == 2 else FolderKind.FOLDER,
                id=index,
            )
            for index, path in enumerate(PATHS)
            if path
        ],
    )
    campaigns = [
        Campaign(workspace=WS, folder=path, name=f"C{level}", id=100 + level)
        for level, (path, _) in enumerate(stack)
    ]
    check = check_overrides(
        [OverrideRequest(name=f"my.{n.lower()}", value=v) for n, v in overrides.items()],
        tree,
        campaigns[0],
    )
    context = TokenContext(
        tree=tree,
        call_stack=tuple(
            CallFrame(campaign=c, use_parent_context=flag)
            for c, (_, flag) in zip(campaigns, stack, strict=True)
        ),
        system=SYSTEM,
        overrides=check.accepted,
    )
    for name in NAMES:
        rendered = compile_template(f"{{{{my.{name}:default=dflt}}}}", context, FIELDS).constant()
        assert rendered == _reference(definitions, stack, overrides, name)
    assert len(check.accepted) + len(check.ignored) == len(overrides)
