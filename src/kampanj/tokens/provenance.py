"""Where a token's value came from (TOK-23, PROV-1)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from kampanj.tokens.tree import Location


class TokenSource(StrEnum):
    """PROV-1 ``source``: which kind of supplier produced the value."""

    API_OVERRIDE = "api-override"
    MY_TOKEN = "my-token"
    DEFAULT = "default"
    EMPTY = "empty"
    FIELD = "field"
    SYSTEM = "system"
    TRIGGER = "trigger"
    CAMPAIGN = "campaign"
    PROGRAM = "program"
    MEMBER = "member"
    LITERAL = "literal"


class Inheritance(StrEnum):
    """PROV-1 ``inheritance`` of a My Token value, seen from the campaign whose tree gave it."""

    LOCAL = "local"
    INHERITED = "inherited"


@dataclass(frozen=True, kw_only=True, slots=True)
class Provenance:
    """One token resolution: the value and the level that supplied it (PROV-1)."""

    token: str
    """The reference as written (``{{my.Score}}``; defaults left out)."""
    value: str | None
    """The inserted value before encoding; None when it differs per person."""
    source: TokenSource
    """Which supplier produced it."""
    location: Location | None = None
    """Defining location of a My Token, or the campaign / program a context token read."""
    inheritance: Inheritance | None = None
    """My Tokens only: defined at the supplying campaign's own container, or above it."""
    supplied_by: int | None = None
    """My Tokens only: the campaign whose tree supplied the value (TOK-21 step 2/3)."""
    context_campaign_id: int | None = None
    """Outermost campaign of the context chain (TOK-19)."""
    context_chain: tuple[int | None, ...] = ()
    """Campaign ids of the context chain, the step's own campaign first (TOK-19)."""

    def to_json(self) -> dict[str, object]:
        """The PROV-1 document (``suppliedBy`` is an extension)."""
        document: dict[str, object] = {
            "token": self.token,
            "value": self.value,
            "source": self.source.value,
            "location": None if self.location is None else self.location.to_json(),
            "inheritance": None if self.inheritance is None else self.inheritance.value,
            "contextCampaignId": self.context_campaign_id,
            "contextChain": list(self.context_chain),
        }
        if self.supplied_by is not None:
            document["suppliedBy"] = self.supplied_by
        return document
