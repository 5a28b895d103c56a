"""Scanning text for ``{{family.Name:default=text}}`` references (TOK-1..3).

Parse only: the scanner splits text into literal runs, well-formed token references
and malformed brace runs, losslessly (the pieces concatenate back to the input).
Whether a family is known is reported, not enforced: validation turns an unknown
family into ``TOKEN_FAMILY_UNKNOWN`` (TOK-15) and the run-time resolver leaves it
literal (TOK-3).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

OPEN = "{{"
CLOSE = "}}"
DEFAULT_MARKER = ":default="
ALERT_INFO_TOKEN = "sp_send_alert_info"  # bare token of alert emails (TOK-2, MAIL-11)


class TokenFamily(StrEnum):
    """Token families (TOK-2)."""

    LEAD = "lead"
    COMPANY = "company"
    CAMPAIGN = "campaign"
    PROGRAM = "program"
    SYSTEM = "system"
    TRIGGER = "trigger"
    MY = "my"
    MEMBER = "member"


_FAMILIES = {family.value: family for family in TokenFamily}


class MalformedReason(StrEnum):
    """Why a brace run is not a token (TOK-3)."""

    UNCLOSED = "unclosed"
    NO_DOT = "no dot"
    EMPTY_NAME = "empty name"


@dataclass(frozen=True, kw_only=True, slots=True)
class TokenRef:
    """A well-formed ``{{family.Name}}`` reference; family may be unknown."""

    start: int
    """Offset of the opening braces."""
    end: int
    """Offset just after the closing braces."""
    family_text: str
    """Family as written, trimmed."""
    name: str
    """Name, trimmed, inner spaces kept (``Event Date``)."""
    default: str | None = None
    """Text after ``:default=``; None when no default is given."""

    @property
    def family(self) -> TokenFamily | None:
        """The family, case-insensitively; None when unknown (TOK-3)."""
        return _FAMILIES.get(self.family_text.casefold())

    @property
    def is_alert_info(self) -> bool:
        return self.family_text.casefold() == ALERT_INFO_TOKEN and not self.name

    @property
    def display(self) -> str:
        """``{{family.Name}}`` without the default, for messages."""
        if self.is_alert_info:
            return OPEN + ALERT_INFO_TOKEN + CLOSE
        return f"{OPEN}{self.family_text}.{self.name}{CLOSE}"


@dataclass(frozen=True, kw_only=True, slots=True)
class MalformedToken:
    """A ``{{`` run that is not a token and stays literal (TOK-3)."""

    start: int
    end: int
    text: str
    """The raw text of the run."""
    reason: MalformedReason


@dataclass(frozen=True, kw_only=True, slots=True)
class Literal:
    """Plain text between tokens."""

    start: int
    end: int
    text: str


Piece = Literal | TokenRef | MalformedToken


def scan(text: str) -> tuple[Piece, ...]:
    """Split ``text`` into literals, tokens and malformed runs, covering it exactly."""
    pieces: list[Piece] = []
    position = 0
    literal_start = 0
    length = len(text)

    def flush(until: int) -> None:
        if until > literal_start:
            pieces.append(Literal(start=literal_start, end=until, text=text[literal_start:until]))

    while position < length:
        opening = text.find(OPEN, position)
        if opening < 0:
            break
        closing = text.find(CLOSE, opening + len(OPEN))
        if closing < 0:
            flush(opening)
            pieces.append(
                MalformedToken(
                    start=opening, end=length, text=text[opening:], reason=MalformedReason.UNCLOSED
                )
            )
            literal_start = position = length
            break
        # A later "{{" before the closing braces starts the real token; the earlier
        # one was never closed.
        inner_opening = text.rfind(OPEN, opening + 1, closing)
        if inner_opening > opening:
            flush(opening)
            pieces.append(
                MalformedToken(
                    start=opening,
                    end=inner_opening,
                    text=text[opening:inner_opening],
                    reason=MalformedReason.UNCLOSED,
                )
            )
            literal_start = position = inner_opening
            continue
        end = closing + len(CLOSE)
        flush(opening)
        pieces.append(_parse_inner(text[opening + len(OPEN) : closing], opening, end, text))
        literal_start = position = end
    flush(length)
    return tuple(pieces)


def _parse_inner(inner: str, start: int, end: int, text: str) -> TokenRef | MalformedToken:
    if inner.strip().casefold() == ALERT_INFO_TOKEN:
        return TokenRef(start=start, end=end, family_text=inner.strip(), name="")
    dot = inner.find(".")
    if dot < 0:
        return MalformedToken(
            start=start, end=end, text=text[start:end], reason=MalformedReason.NO_DOT
        )
    family_text = inner[:dot].strip()
    rest = inner[dot + 1 :]
    default: str | None = None
    marker = rest.find(DEFAULT_MARKER)
    if marker >= 0:
        default = rest[marker + len(DEFAULT_MARKER) :]
        rest = rest[:marker]
    name = rest.strip()
    if not name or not family_text:
        return MalformedToken(
            start=start, end=end, text=text[start:end], reason=MalformedReason.EMPTY_NAME
        )
    return TokenRef(start=start, end=end, family_text=family_text, name=name, default=default)


def token_refs(text: str) -> tuple[TokenRef, ...]:
    """Well-formed token references in ``text``, in order."""
    return tuple(piece for piece in scan(text) if isinstance(piece, TokenRef))


def malformed_runs(text: str) -> tuple[MalformedToken, ...]:
    """Malformed brace runs in ``text``, in order."""
    return tuple(piece for piece in scan(text) if isinstance(piece, MalformedToken))


def has_token_syntax(text: str) -> bool:
    """Whether ``text`` contains ``{{`` at all (tokens, malformed or not)."""
    return OPEN in text
