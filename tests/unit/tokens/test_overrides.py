"""Per-run overrides: accepted, ignored with reasons, never leaking (TOK-16..18, WX-4)."""

from __future__ import annotations

import pytest

from kampanj.errors import UserError
from kampanj.tokens.overrides import (
    OverrideRequest,
    check_overrides,
    parse_override_argument,
    parse_override_name,
)
from kampanj.tokens.provenance import TokenSource
from kampanj.tokens.render import compile_template
from unit.tokens.tokenworld import FIELDS, REGISTER, STAMP, context, wx4_tree

WX4_TOKENS = [
    OverrideRequest(name="{{my.Event Name}}", value="Summit 2026"),
    OverrideRequest(name="my.only here", value="x"),
    OverrideRequest(name="{{my.Nope}}", value="y"),
]


def test_names_are_matched_in_both_forms_case_insensitively() -> None:
    """TOK-16: names {{my.X}} or my.X, case-insensitive."""
    for written in ("{{my.Event Name}}", "my.event name", "{{ MY.EVENT NAME }}", "My.Event  Name"):
        ref = parse_override_name(written)
        assert ref is not None and ref.name.casefold().split() == ["event", "name"]
    check = check_overrides(
        [OverrideRequest(name="my.EVENT NAME", value="v")], wx4_tree(), REGISTER
    )
    assert check.accepted.get("Event Name") == "v" and not check.ignored


def test_wx4_ignored_overrides_name_the_token_and_the_reason() -> None:
    """TOK-17, WX-4: a token only in the child's tree and an unknown token are ignored."""
    check = check_overrides(WX4_TOKENS, wx4_tree(), REGISTER)
    assert [value for _, value in check.accepted] == ["Summit 2026"]
    assert [item.name for item in check.ignored] == ["my.only here", "{{my.Nope}}"]
    only_here, nope = check.ignored
    assert "not defined anywhere up the tree of campaign 'Register' (510)" in only_here.reason
    assert "{{my.only here}}" in only_here.message
    assert "{{my.Nope}}" in nope.reason


def test_other_families_and_invalid_values_are_ignored() -> None:
    """TOK-17: a family other than my, a value invalid for the token's type."""
    check = check_overrides(
        [
            OverrideRequest(name="{{lead.First Name}}", value="x"),
            OverrideRequest(name="{{my.Points}}", value="ten"),
            OverrideRequest(name="Points", value="+3"),
        ],
        wx4_tree(),
        REGISTER,
    )
    assert not check.accepted
    reasons = [item.reason for item in check.ignored]
    assert "only My Tokens" in reasons[0]
    assert "score tokens need a signed 32-bit integer" in reasons[1]
    assert "{{my.Name}}" in reasons[2]  # a bare name has no family


def test_duplicate_override_keeps_the_first() -> None:
    """TOK-16: one value per token; a repeated name is reported, not silently merged."""
    check = check_overrides(
        [
            OverrideRequest(name="{{my.Points}}", value="+2"),
            OverrideRequest(name="my.points", value="+3"),
        ],
        wx4_tree(),
        REGISTER,
    )
    assert check.accepted.get("points") == "+2"
    assert len(check.ignored) == 1 and "more than once" in check.ignored[0].reason


def test_wx4_resolution_through_parent_context_and_without_it() -> None:
    """WX-4 rows 3, 4, 6, 7; TOK-18, TOK-21."""
    tree = wx4_tree()
    accepted = check_overrides(WX4_TOKENS, tree, REGISTER).accepted
    top = context(tree, (REGISTER, False), overrides=accepted)
    through = top.call(STAMP, use_parent_context=True)
    event = compile_template("{{my.Event Name}}", through, FIELDS)
    assert event.constant() == "Summit 2026"
    assert event.provenance[0].source is TokenSource.API_OVERRIDE
    points = compile_template("{{my.Points}}", through, FIELDS)
    assert points.constant() == "+5"
    assert points.provenance[0].location is not None
    assert points.provenance[0].location.id == 500
    assert points.provenance[0].context_campaign_id == 510

    alone = top.call(STAMP, use_parent_context=False)
    event = compile_template("{{my.Event Name}}", alone, FIELDS)
    assert event.constant() == "Library Event"
    assert event.provenance[0].location is not None and event.provenance[0].location.id == 501
    points = compile_template("{{my.Points}}", alone, FIELDS)
    assert points.constant() == "+1"


def test_wx4_overrides_do_not_leak_into_a_later_run() -> None:
    """WX-4, TOK-16: overrides are the run's own; a later run without them sees the tree."""
    tree = wx4_tree()
    first = context(
        tree, (REGISTER, False), overrides=check_overrides(WX4_TOKENS, tree, REGISTER).accepted
    )
    assert compile_template("{{my.Event Name}}", first, FIELDS).constant() == "Summit 2026"
    later = context(tree, (REGISTER, False)).call(STAMP, use_parent_context=True)
    assert compile_template("{{my.Event Name}}", later, FIELDS).constant() == "Default Event"


@pytest.mark.parametrize(
    ("argument", "name", "value"),
    [
        ("{{my.Score}}=+10", "{{my.Score}}", "+10"),
        ("my.Event Name=Summit = 2026", "my.Event Name", "Summit = 2026"),
        ("{{my.A}}=", "{{my.A}}", ""),
    ],
)
def test_cli_token_argument(argument: str, name: str, value: str) -> None:
    """TOK-16: `kampanj run --token "{{my.X}}=value"`."""
    request = parse_override_argument(argument)
    assert (request.name, request.value) == (name, value)


@pytest.mark.parametrize("argument", ["my.Score", "{{my.Score}}", "{{my.Score=1"])
def test_cli_token_argument_without_value_is_refused(argument: str) -> None:
    with pytest.raises(UserError, match="NAME=VALUE"):
        parse_override_argument(argument)
