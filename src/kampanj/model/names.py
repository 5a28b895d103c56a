"""How names compare: case-insensitively, with runs of whitespace collapsed (GEN-7, TOK-1)."""

from __future__ import annotations


def fold(text: object) -> str:
    """The form in which two names are equal iff they name the same thing."""
    return " ".join(str(text).split()).casefold()
