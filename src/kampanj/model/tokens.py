"""My Tokens: named, typed values inherited down the folder tree (TOK-10, TOK-11)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from kampanj.model.fields import SCORE_MAX, SCORE_MIN
from kampanj.model.tree import FolderPath

MAX_TOKEN_NAME_LENGTH = 50  # TOK-10, LIM-13
MAX_TOKEN_TEXT_LENGTH = 524_288  # TOK-10, LIM-13
_SCORE_VALUE = re.compile(r"^[+-]?\d+$")


class MyTokenType(StrEnum):
    """Types a My Token can have (TOK-10)."""

    TEXT = "text"
    RICH_TEXT = "rich text"
    NUMBER = "number"
    SCORE = "score"
    DATE = "date"


class TokenLevel(StrEnum):
    """Where a My Token is defined."""

    ACCOUNT = "account"
    FOLDER = "folder"
    PROGRAM = "program"


@dataclass(frozen=True, kw_only=True, slots=True)
class MyToken:
    """A My Token defined at one location."""

    name: str
    """Name without braces or family, e.g. ``Event Date``."""
    type: MyTokenType
    """Declared type."""
    value: str
    """Value as text, validated for the type."""
    workspace: str | None = None
    """Workspace of the defining folder; None for account-level (global) tokens."""
    folder: FolderPath | None = None
    """Defining folder or program; None for account-level tokens."""


def my_token_value_problem(token_type: MyTokenType, value: str) -> str | None:
    """Why ``value`` is not valid for ``token_type`` (TOK-10), or None when it is."""
    if token_type in (MyTokenType.TEXT, MyTokenType.RICH_TEXT):
        if len(value) > MAX_TOKEN_TEXT_LENGTH:
            return f"text tokens hold at most {MAX_TOKEN_TEXT_LENGTH} characters"
        return None
    if token_type is MyTokenType.NUMBER:
        try:
            Decimal(value.strip())
        except InvalidOperation:
            return f"number tokens need an integer or decimal, not {value!r}"
        return None
    if token_type is MyTokenType.SCORE:
        text = value.strip()
        if not _SCORE_VALUE.match(text) or not SCORE_MIN <= int(text) <= SCORE_MAX:
            return f"score tokens need a signed 32-bit integer such as +10 or -5, not {value!r}"
        return None
    try:
        date.fromisoformat(value.strip())
    except ValueError:
        return f"date tokens need yyyy-MM-dd, not {value!r}"
    return None


def token_name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a My Token, or None when it can."""
    stripped = name.strip()
    if not stripped:
        return "token names cannot be empty"
    if len(stripped) > MAX_TOKEN_NAME_LENGTH:
        return f"token names hold at most {MAX_TOKEN_NAME_LENGTH} characters"
    if "{" in stripped or "}" in stripped:
        return "write the token name without braces or family, e.g. 'Score' for {{my.Score}}"
    return None
