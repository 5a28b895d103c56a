"""Token rendering properties: total, literal-preserving, single-pass, bulk = one by one.

TOK-1..4, TOK-14; DESIGN.md §2 (person tokens in bulk).
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from kampanj.tokens.formats import form_encoding, html_email_encoding, json_encoding, no_encoding
from kampanj.tokens.render import compile_template
from kampanj.tokens.syntax import TokenFamily, TokenRef, scan
from unit.tokens.tokenworld import FIELDS, PARENT_TRUE, SHARED_SCORING, context, wx1_tree

CTX = context(wx1_tree(), (PARENT_TRUE, False)).call(SHARED_SCORING, use_parent_context=True)
KNOWN = {family.value for family in TokenFamily}

_fragments = st.sampled_from(
    [
        "{{",
        "}}",
        ".",
        ":default=",
        "lead.",
        "my.",
        "company.",
        "system.",
        "trigger.",
        "member.",
        "campaign.",
        "program.",
        "foo.",
        "First Name",
        "Score",
        "Lead Score",
        "date",
        "sp_send_alert_info",
        " ",
        "x",
    ]
)
_texts = st.lists(_fragments | st.text(max_size=4), max_size=14).map("".join)
_values = st.none() | st.text(max_size=12) | _texts | st.integers(-5, 5)
_rows = st.lists(
    st.fixed_dictionaries(
        {
            "id": st.integers(1, 10**6),
            "first_name": _values,
            "lead_score": st.none() | st.integers(),
        }
    ),
    max_size=6,
)
_encoders = st.sampled_from([no_encoding, html_email_encoding, json_encoding, form_encoding])


@settings(max_examples=300)
@given(_texts | st.text(), _rows, _encoders, st.booleans())
def test_rendering_never_raises_and_bulk_equals_one_by_one(
    text: str, rows: list[dict[str, object]], encoder: object, alert_info: bool
) -> None:
    """Any text renders; bulk rendering equals rendering each person alone."""
    template = compile_template(text, CTX, FIELDS, encoder=encoder, alert_info=alert_info)  # type: ignore[arg-type]
    bulk = template.render_many(rows)
    assert bulk == [template.render_one(row).text for row in rows]
    assert len(template.provenance) == sum(isinstance(p, TokenRef) for p in scan(text))


@given(_texts | st.text(), _rows)
def test_text_without_known_families_is_returned_unchanged(
    text: str, rows: list[dict[str, object]]
) -> None:
    """TOK-3: unknown families and malformed braces stay literal."""
    if any(
        isinstance(p, TokenRef) and (p.family is not None or p.is_alert_info) for p in scan(text)
    ):
        return
    template = compile_template(text, CTX, FIELDS)
    assert template.render_many(rows) == [text] * len(rows)


_defaults = st.text(alphabet=st.characters(blacklist_characters="{}"), max_size=8)


@given(st.text(max_size=40) | _texts, _defaults)
def test_values_are_inserted_once_never_rescanned(value: str, default: str) -> None:
    """TOK-14: a value containing {{…}} is inserted as is; TOK-4: empty → default."""
    template = compile_template(f"<{{{{lead.First Name:default={default}}}}}>", CTX, FIELDS)
    (rendered,) = template.render_many([{"id": 1, "first_name": value}])
    assert rendered == f"<{value if value else default}>"


@given(st.lists(_texts, max_size=5))
def test_literal_segments_between_tokens_survive(parts: list[str]) -> None:
    """Text around resolved tokens is kept exactly (no token syntax inside the parts)."""
    clean = [p.replace("{", "(").replace("}", ")") for p in parts]
    text = "{{my.Score}}".join(clean)
    expected = "+10".join(clean)
    assert compile_template(text, CTX, FIELDS).constant() == expected
