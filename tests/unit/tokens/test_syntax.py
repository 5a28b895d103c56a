"""Token scanning (TOK-1..3)."""

from __future__ import annotations

import itertools

from hypothesis import given
from hypothesis import strategies as st

from kampanj.tokens.syntax import (
    Literal,
    MalformedReason,
    MalformedToken,
    TokenFamily,
    TokenRef,
    scan,
    token_refs,
)


def test_family_name_and_default() -> None:
    """TOK-1: name runs from the first dot to ':default=' and is trimmed; spaces kept."""
    (ref,) = token_refs("Hi {{lead.First Name :default=friend}}!")
    assert ref.family is TokenFamily.LEAD and ref.name == "First Name"
    assert ref.default == "friend"


def test_family_is_case_insensitive_and_unknown_families_are_reported() -> None:
    """TOK-1, TOK-3."""
    known, unknown = token_refs("{{MY.Event Date}} {{foo.x}}")
    assert known.family is TokenFamily.MY and known.name == "Event Date"
    assert unknown.family is None and unknown.family_text == "foo"


def test_malformed_runs_stay_literal() -> None:
    """TOK-3: unclosed braces, no dot and an empty name are not tokens."""
    pieces = scan("a {{nodot}} b {{my. }} c {{my.x")
    malformed = [p for p in pieces if isinstance(p, MalformedToken)]
    assert [m.reason for m in malformed] == [
        MalformedReason.NO_DOT,
        MalformedReason.EMPTY_NAME,
        MalformedReason.UNCLOSED,
    ]


def test_default_runs_to_the_first_closing_braces() -> None:
    """TOK-1: the default is everything after ':default=' up to the first '}}'."""
    (ref,) = token_refs("{{my.X:default=a:b.c }}tail")
    assert ref.default == "a:b.c " and ref.name == "X"


def test_alert_info_token() -> None:
    """TOK-2: the bare {{sp_send_alert_info}} token."""
    (ref,) = token_refs("{{sp_send_alert_info}}")
    assert ref.is_alert_info


_families = st.sampled_from([f.value for f in TokenFamily] + ["foo", "Lead", "MY"])
_names = st.text(
    alphabet=st.characters(blacklist_characters="{}:.\n", blacklist_categories=("Cs",)),
    min_size=1,
    max_size=12,
).filter(lambda s: s.strip())
_defaults = st.none() | st.text(
    alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=8
)
_literals = st.text(
    alphabet=st.characters(blacklist_characters="{}", blacklist_categories=("Cs",)), max_size=10
)


@given(st.lists(st.tuples(_literals, _families, _names, _defaults), max_size=5), _literals)
def test_generated_tokens_are_found_exactly(
    parts: list[tuple[str, str, str, str | None]], tail: str
) -> None:
    """TOK-1: every generated token is found with its family, trimmed name and default."""
    text = ""
    expected: list[tuple[str, str, str | None]] = []
    for literal, family, name, default in parts:
        suffix = f":default={default}" if default is not None else ""
        text += literal + "{{" + family + "." + name + suffix + "}}"
        expected.append((family, name.strip(), default))
    text += tail
    found = [(r.family_text, r.name, r.default) for r in token_refs(text)]
    assert found == expected


@given(st.text(alphabet=st.sampled_from(list("{}.:ab my=default")), max_size=40))
def test_scanning_is_lossless(text: str) -> None:
    """The pieces cover the input exactly, in order, whatever the braces."""
    pieces = scan(text)
    assert "".join(text[p.start : p.end] for p in pieces) == text
    for piece in pieces:
        if isinstance(piece, Literal | MalformedToken):
            assert piece.text == text[piece.start : piece.end]
        assert isinstance(piece, Literal | MalformedToken | TokenRef)
    assert all(a.end == b.start for a, b in itertools.pairwise(pieces))
