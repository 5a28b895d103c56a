"""The person field registry (GEN-10): standard fields plus custom ones."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from enum import StrEnum


class FieldType(StrEnum):
    """Data types a person field can have (overview §5)."""

    STRING = "string"
    EMAIL = "email"
    TEXT = "text"
    INTEGER = "integer"
    FLOAT = "float"
    CURRENCY = "currency"
    SCORE = "score"
    BOOLEAN = "boolean"
    DATE = "date"
    DATETIME = "datetime"

    @property
    def is_textual(self) -> bool:
        return self in _TEXTUAL

    @property
    def is_numeric(self) -> bool:
        return self in _NUMERIC

    @property
    def is_temporal(self) -> bool:
        return self in (FieldType.DATE, FieldType.DATETIME)


_TEXTUAL = frozenset({FieldType.STRING, FieldType.EMAIL, FieldType.TEXT})
_NUMERIC = frozenset({FieldType.INTEGER, FieldType.FLOAT, FieldType.CURRENCY, FieldType.SCORE})

SCORE_MIN = -(2**31)  # score fields hold signed 32-bit integers (overview §5, LIM-14)
SCORE_MAX = 2**31 - 1

# REST names of custom fields: a letter, then letters, digits and underscores. The
# column is derived from the name and never taken from user text as-is.
FIELD_NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
CUSTOM_COLUMN_PREFIX = "c_"


@dataclass(frozen=True, kw_only=True, slots=True)
class FieldDef:
    """One person field."""

    name: str
    """REST name, e.g. ``leadScore``; unique case-insensitively."""
    display_name: str
    """Name people see and smart-list filters use, e.g. ``Lead Score``."""
    data_type: FieldType
    """Type of the stored value."""
    column: str
    """Column of the ``person`` table holding the value."""
    is_custom: bool = False
    """Defined by the account rather than built in."""
    is_company: bool = False
    """Visible through ``{{company.…}}`` tokens."""
    is_html_encoding_in_email: bool = True
    """Whether the value is HTML-escaped when rendered into HTML email parts (MAIL-8)."""
    read_only: bool = False
    """Never written by imports, flows or the API."""
    update_blocked: bool = False
    """Writable on creation only."""
    aliases: tuple[str, ...] = ()
    """Other accepted names (e.g. ``blocklisted`` for ``blackListed``)."""


def custom_column_name(name: str) -> str:
    """The ``person`` column for custom field ``name`` (validated, lower snake case)."""
    if not FIELD_NAME_PATTERN.match(name):
        raise ValueError(f"invalid field name {name!r}")
    snake = re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()
    return CUSTOM_COLUMN_PREFIX + snake


def _std(
    name: str,
    display: str,
    data_type: FieldType,
    column: str,
    *,
    read_only: bool = False,
    is_company: bool = False,
) -> FieldDef:
    return FieldDef(
        name=name,
        display_name=display,
        data_type=data_type,
        column=column,
        read_only=read_only,
        is_company=is_company,
    )


STANDARD_FIELDS: tuple[FieldDef, ...] = (
    _std("id", "Id", FieldType.INTEGER, "id", read_only=True),
    _std("email", "Email Address", FieldType.EMAIL, "email"),
    _std("firstName", "First Name", FieldType.STRING, "first_name"),
    _std("lastName", "Last Name", FieldType.STRING, "last_name"),
    _std("company", "Company Name", FieldType.STRING, "company", is_company=True),
    _std("title", "Job Title", FieldType.STRING, "title"),
    _std("phone", "Phone Number", FieldType.STRING, "phone"),
    _std("city", "City", FieldType.STRING, "city"),
    _std("state", "State", FieldType.STRING, "state"),
    _std("country", "Country", FieldType.STRING, "country"),
    _std("leadScore", "Lead Score", FieldType.SCORE, "lead_score"),
    _std("leadStatus", "Lead Status", FieldType.STRING, "lead_status"),
    _std("leadOwner", "Lead Owner", FieldType.EMAIL, "lead_owner"),
    _std("unsubscribed", "Unsubscribed", FieldType.BOOLEAN, "unsubscribed"),
    _std("marketingSuspended", "Marketing Suspended", FieldType.BOOLEAN, "marketing_suspended"),
    _std("emailInvalid", "Email Invalid", FieldType.BOOLEAN, "email_invalid"),
    FieldDef(
        name="blackListed",
        display_name="Blocklisted",
        data_type=FieldType.BOOLEAN,
        column="blocklisted",
        aliases=("blocklisted", "blacklisted"),
    ),
    _std(
        "acquisitionProgramId",
        "Acquisition Program Id",
        FieldType.INTEGER,
        "acquisition_program_id",
        read_only=True,
    ),
    _std("createdAt", "Created At", FieldType.DATETIME, "created_at", read_only=True),
    _std("updatedAt", "Updated At", FieldType.DATETIME, "updated_at", read_only=True),
)


class FieldRegistry:
    """Looks fields up by REST name, display name or alias, case-insensitively (GEN-7)."""

    def __init__(self, fields: Iterable[FieldDef]) -> None:
        self._fields: tuple[FieldDef, ...] = tuple(fields)
        self._by_key: dict[str, FieldDef] = {}
        # Display names win over REST names when both could match (TOK-5).
        for field in self._fields:
            for key in (field.name, *field.aliases):
                self._by_key.setdefault(key.casefold(), field)
        for field in self._fields:
            self._by_key[field.display_name.casefold()] = field

    @classmethod
    def standard(cls) -> FieldRegistry:
        return cls(STANDARD_FIELDS)

    def with_fields(self, extra: Iterable[FieldDef]) -> FieldRegistry:
        return FieldRegistry((*self._fields, *extra))

    def get(self, name: str) -> FieldDef | None:
        return self._by_key.get(name.strip().casefold())

    def __getitem__(self, name: str) -> FieldDef:
        field = self.get(name)
        if field is None:
            raise KeyError(name)
        return field

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self.get(name) is not None

    def __iter__(self) -> Iterator[FieldDef]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    @property
    def custom(self) -> tuple[FieldDef, ...]:
        return tuple(f for f in self._fields if f.is_custom)
