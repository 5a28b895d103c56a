"""Context chains and My Token resolution order (TOK-18..22, EXE-16, WX-1, PROV-1)."""

from __future__ import annotations

import pytest

from kampanj.tokens.context import TokenContext
from kampanj.tokens.overrides import RunOverrides
from kampanj.tokens.provenance import Inheritance, Provenance, TokenSource
from kampanj.tokens.render import compile_template
from kampanj.tokens.tree import LocationType
from unit.tokens.tokenworld import (
    FIELDS,
    PARENT_FALSE,
    PARENT_SILENT,
    PARENT_TRUE,
    SHARED_SCORING,
    campaign,
    context,
    wx1_tree,
)


def _score(ctx: TokenContext) -> Provenance:
    template = compile_template("{{my.Score}}", ctx, FIELDS)
    (record,) = template.provenance
    assert template.constant() == record.value
    return record


def test_context_chain_follows_parent_context_flags() -> None:
    """TOK-19: C, then callers while called with useParentContext=true, up to level 0."""
    a, b, c, d = (campaign(n, i, ("P",)) for n, i in (("A", 1), ("B", 2), ("C", 3), ("D", 4)))
    tree = wx1_tree()
    ctx = context(tree, (a, False), (b, False), (c, True), (d, True))
    assert [x.id for x in ctx.context_chain] == [4, 3, 2]
    assert ctx.context_campaign.id == 2 and not ctx.reaches_level_0
    full = context(tree, (a, False), (b, True), (c, True))
    assert full.context_chain_ids == (3, 2, 1) and full.reaches_level_0
    assert full.level == 2


def test_call_derives_the_child_context() -> None:
    """EXE-16: Execute Campaign derives the child's context from the caller's."""
    parent = context(wx1_tree(), (PARENT_TRUE, False))
    child = parent.call(SHARED_SCORING, use_parent_context=True)
    assert child.campaign is SHARED_SCORING and child.context_campaign is PARENT_TRUE
    alone = parent.call(SHARED_SCORING, use_parent_context=False)
    assert alone.context_campaign is SHARED_SCORING and not alone.reaches_level_0


def test_wx1_person_1_parent_context_true_uses_the_callers_token() -> None:
    """WX-1 person 1, TOK-21, TOK-22: the caller's local +10 beats the child's +0."""
    ctx = context(wx1_tree(), (PARENT_TRUE, False)).call(SHARED_SCORING, use_parent_context=True)
    record = _score(ctx)
    assert record.value == "+10" and record.source is TokenSource.MY_TOKEN
    assert record.location is not None and record.location.id == 101
    assert record.location.type is LocationType.PROGRAM
    assert record.inheritance is Inheritance.LOCAL
    assert record.context_campaign_id == 201
    assert record.context_chain == (200, 201)


def test_wx1_person_2_parent_context_false_uses_the_childs_own_tree() -> None:
    """WX-1 person 2, EXE-16: with false only the child's tree counts."""
    ctx = context(wx1_tree(), (PARENT_FALSE, False)).call(SHARED_SCORING, use_parent_context=False)
    record = _score(ctx)
    assert record.value == "+0"
    assert record.location is not None and record.location.id == 100
    assert record.inheritance is Inheritance.LOCAL
    assert record.context_campaign_id == 200 and record.context_chain == (200,)


def test_wx1_person_3_caller_without_definition_falls_back_to_the_child() -> None:
    """WX-1 person 3, TOK-21 step 3: no definition in 203's tree, so the child's +0."""
    ctx = context(wx1_tree(), (PARENT_SILENT, False)).call(SHARED_SCORING, use_parent_context=True)
    record = _score(ctx)
    assert record.value == "+0"
    assert record.location is not None and record.location.id == 100
    assert record.supplied_by == 200
    assert record.context_campaign_id == 203


def test_wx1_variant_global_token_beats_the_childs_own() -> None:
    """WX-1 variant, TOK-22: a caller's inherited global +5 beats the child's own +0."""
    tree = wx1_tree(global_score="+5")
    silent = context(tree, (PARENT_SILENT, False)).call(SHARED_SCORING, use_parent_context=True)
    record = _score(silent)
    assert record.value == "+5"
    assert record.location is not None and record.location.type is LocationType.ACCOUNT
    assert record.inheritance is Inheritance.INHERITED and record.supplied_by == 203
    # Persons 1 and 2 are unchanged.
    true = context(tree, (PARENT_TRUE, False)).call(SHARED_SCORING, use_parent_context=True)
    false = context(tree, (PARENT_FALSE, False)).call(SHARED_SCORING, use_parent_context=False)
    assert _score(true).value == "+10"
    assert _score(false).value == "+0"


def test_override_reaches_parent_context_children_only() -> None:
    """TOK-18, TOK-21 step 1: overrides apply while the context chain reaches level 0."""
    overrides = RunOverrides(values={"score": ("Score", "+99")})
    top = context(wx1_tree(), (PARENT_TRUE, False), overrides=overrides)
    assert _score(top).source is TokenSource.API_OVERRIDE
    assert _score(top).value == "+99"
    through = top.call(SHARED_SCORING, use_parent_context=True)
    assert _score(through).value == "+99"
    assert _score(through).location is None
    cut = top.call(SHARED_SCORING, use_parent_context=False)
    assert _score(cut).value == "+0"
    # A grandchild called with true below a false call does not reach level 0 either.
    grandchild = cut.call(campaign("G", 299, ("Scoring",)), use_parent_context=True)
    assert _score(grandchild).value == "+0" and _score(grandchild).context_campaign_id == 200


@pytest.mark.parametrize("use_parent_context", [True, False])
def test_undefined_my_token_falls_to_default_then_empty(use_parent_context: bool) -> None:
    """TOK-21 steps 4 and 5, TOK-3."""
    ctx = context(wx1_tree(), (PARENT_TRUE, False)).call(
        SHARED_SCORING, use_parent_context=use_parent_context
    )
    with_default = compile_template("{{my.Nope:default=7}}", ctx, FIELDS)
    assert with_default.constant() == "7"
    assert with_default.provenance[0].source is TokenSource.DEFAULT
    bare = compile_template("[{{my.Nope}}]", ctx, FIELDS)
    assert bare.constant() == "[]" and bare.provenance[0].source is TokenSource.EMPTY


def test_provenance_json_shape() -> None:
    """PROV-1: {token, value, source, location {type, id, name}, inheritance, contextCampaignId,
    contextChain}."""
    ctx = context(wx1_tree(), (PARENT_TRUE, False)).call(SHARED_SCORING, use_parent_context=True)
    document = _score(ctx).to_json()
    assert document["token"] == "{{my.Score}}"
    assert document["source"] == "my-token"
    assert document["location"] == {
        "type": "program",
        "id": 101,
        "name": "Webinar A",
        "path": "Default/Webinar A",
    }
    assert document["inheritance"] == "local"
    assert document["contextCampaignId"] == 201
    assert document["contextChain"] == [200, 201]
