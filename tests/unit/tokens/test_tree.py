"""My Token visibility: local / inherited / overridden, nearest wins (TOK-11, TOK-12)."""

from __future__ import annotations

from kampanj.model.tokens import MyTokenType
from kampanj.tokens.tree import LocationType, TokenStatus, TokenTree
from unit.tokens.tokenworld import WS, folder, program, token

MGMT = ("Lead Management",)
SCORING = ("Lead Management", "Lead Scoring")


def _tree(*extra: object) -> TokenTree:
    return TokenTree(
        tokens=[
            token("Company Name", "Acme", None, MyTokenType.TEXT),
            token("Points", "+5", MGMT),
            token("Points", "+10", SCORING),
            token("MQL Threshold", "100", SCORING, MyTokenType.NUMBER),
            token("Root Only", "r", (), MyTokenType.TEXT),
        ],
        folders=[folder(MGMT, 10), program("Lead Scoring", 11, parent=MGMT)],
        root_folder_ids={WS: 1},
    )


def test_statuses_at_a_program() -> None:
    """TOK-11: local (here only), inherited (above only), overridden (here and above)."""
    visible = {t.name: t for t in _tree().visible(WS, SCORING)}
    assert visible["Points"].status is TokenStatus.OVERRIDDEN
    assert visible["Points"].value == "+10"
    assert visible["Points"].defined_at.id == 11
    assert [loc.id for loc in visible["Points"].overrides] == [10]
    assert visible["MQL Threshold"].status is TokenStatus.LOCAL
    assert visible["Company Name"].status is TokenStatus.INHERITED
    assert visible["Company Name"].defined_at.type is LocationType.ACCOUNT
    assert visible["Root Only"].defined_at.id == 1  # the workspace root folder
    assert visible["Root Only"].defined_at.name == WS


def test_visible_tokens_are_sorted_by_name_case_insensitively() -> None:
    """API-40: every visible token, sorted by name."""
    names = [t.name for t in _tree().visible(WS, SCORING)]
    assert names == sorted(names, key=str.casefold)
    assert len(names) == 4


def test_same_name_from_above_is_inherited_at_a_folder_below() -> None:
    """TOK-11: the nearest definition wins; seen from below it is inherited."""
    tree = _tree()
    below = tree.visible(WS, (*SCORING, "Sub"))
    points = next(t for t in below if t.name == "Points")
    assert points.status is TokenStatus.INHERITED and points.value == "+10"
    at_folder = next(t for t in tree.visible(WS, MGMT) if t.name == "Points")
    assert at_folder.status is TokenStatus.LOCAL and at_folder.value == "+5"


def test_lookup_is_case_insensitive_and_collapses_spaces() -> None:
    """TOK-1, GEN-7: token names compare case-insensitively."""
    found = _tree().lookup(WS, SCORING, "  mql   threshold ")
    assert found is not None and found.name == "MQL Threshold"


def test_moving_changes_inheritance_at_once() -> None:
    """TOK-12: what a location inherits follows where it is, nothing is copied."""
    tree = _tree()
    assert tree.lookup(WS, ("Elsewhere",), "Points") is None
    moved = tree.lookup(WS, (*MGMT, "Elsewhere"), "Points")
    assert moved is not None and moved.value == "+5"


def test_deleted_token_is_not_visible() -> None:
    """TOK-12: deleting a token makes its references unresolvable (TOK-3 then applies)."""
    tree = TokenTree(tokens=[], folders=[program("Lead Scoring", 11, parent=MGMT)])
    assert tree.lookup(WS, SCORING, "Points") is None
    assert tree.visible(WS, SCORING) == ()


def test_nearest_program() -> None:
    """TOK-6: program tokens come from the nearest program containing the campaign."""
    tree = _tree()
    found = tree.nearest_program(WS, (*SCORING, "Sub"))
    assert found is not None and found.id == 11
    assert tree.nearest_program(WS, MGMT) is None
