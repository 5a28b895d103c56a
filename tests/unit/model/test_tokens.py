"""My Token definitions (TOK-10)."""

from __future__ import annotations

import pytest

from kampanj.model.tokens import MyTokenType, my_token_value_problem, token_name_problem


@pytest.mark.parametrize(
    ("token_type", "value"),
    [
        (MyTokenType.SCORE, "+10"),
        (MyTokenType.SCORE, "-5"),
        (MyTokenType.SCORE, "10"),
        (MyTokenType.SCORE, "2147483647"),
        (MyTokenType.NUMBER, "3.25"),
        (MyTokenType.NUMBER, "-7"),
        (MyTokenType.DATE, "2026-03-28"),
        (MyTokenType.TEXT, "anything {{lead.First Name}}"),
        (MyTokenType.RICH_TEXT, "<b>hi</b>"),
    ],
)
def test_valid_values(token_type: MyTokenType, value: str) -> None:
    """TOK-10: valid values per type."""
    assert my_token_value_problem(token_type, value) is None


@pytest.mark.parametrize(
    ("token_type", "value"),
    [
        (MyTokenType.SCORE, "ten"),
        (MyTokenType.SCORE, "+1.5"),
        (MyTokenType.SCORE, "2147483648"),
        (MyTokenType.NUMBER, "1,5"),
        (MyTokenType.DATE, "28/03/2026"),
        (MyTokenType.TEXT, "x" * 524_289),
    ],
)
def test_invalid_values_are_explained(token_type: MyTokenType, value: str) -> None:
    """TOK-10: anything else is refused, with a reason."""
    problem = my_token_value_problem(token_type, value)
    assert problem is not None and problem


@pytest.mark.parametrize("name", ["", "   ", "x" * 51, "{{my.Score}}"])
def test_invalid_token_names(name: str) -> None:
    assert token_name_problem(name) is not None


def test_valid_token_name_with_spaces() -> None:
    assert token_name_problem("Event Date") is None
