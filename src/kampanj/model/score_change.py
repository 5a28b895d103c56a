"""The Change Score grammar (FLOW-16) and clamping (FLOW-17), shared by lint and the engine."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kampanj.model.fields import SCORE_MAX, SCORE_MIN

# Any |change| beyond this clamps whatever the old score; bounding it keeps SQL in 64 bits.
_CHANGE_BOUND = 2**33

_GRAMMAR = re.compile(r"\s*(=?)([+-]?)([0-9]+)\s*")


@dataclass(frozen=True, kw_only=True, slots=True)
class ScoreChange:
    """A parsed FLOW-16 change."""

    text: str
    """As resolved, without surrounding spaces (the ``Change Value`` attribute)."""
    sets: bool
    """``=N``: set; otherwise add (a negative amount subtracts)."""
    amount: int
    """Signed amount, bounded so SQL arithmetic cannot overflow."""

    def raw(self, old: int | None) -> int:
        """The new score before clamping; an empty score counts as 0 (FLOW-16)."""
        return self.amount if self.sets else (old or 0) + self.amount


def parse_change(text: str) -> ScoreChange | None:
    """``+N``, ``-N``, ``N``, ``=N``, ``=+N``, ``=-N`` (spaces around allowed), else None."""
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        return None
    equals, sign, digits = match.groups()
    amount = min(int(digits), _CHANGE_BOUND)
    return ScoreChange(
        text=text.strip(), sets=bool(equals), amount=-amount if sign == "-" else amount
    )


def clamp(value: int) -> int:
    return max(SCORE_MIN, min(SCORE_MAX, value))
