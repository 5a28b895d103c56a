"""'Did you mean …?' hints for names that match nothing."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

__all__ = ["suggest"]


def suggest(name: str, candidates: Iterable[str]) -> str:
    """A message tail naming up to three close candidates, or ``""``."""
    options = list(dict.fromkeys(candidates))
    close = difflib.get_close_matches(name, options, n=3, cutoff=0.6)
    if not close:
        lowered = {o.casefold(): o for o in options}
        close = [lowered[c] for c in difflib.get_close_matches(name.casefold(), lowered, n=3)]
    return f"; did you mean {' or '.join(repr(c) for c in close)}?" if close else ""
