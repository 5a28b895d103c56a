"""The person field registry (GEN-10, GEN-7)."""

from __future__ import annotations

import pytest

from kampanj.model.fields import (
    STANDARD_FIELDS,
    FieldDef,
    FieldRegistry,
    FieldType,
    custom_column_name,
)

REQUIRED_STANDARD = {
    "id", "email", "firstName", "lastName", "company", "title", "phone", "city", "state",
    "country", "leadScore", "leadStatus", "leadOwner", "createdAt", "updatedAt",
    "unsubscribed", "marketingSuspended", "emailInvalid", "blackListed",
}  # fmt: skip


def test_standard_fields_cover_gen_10() -> None:
    assert REQUIRED_STANDARD <= {f.name for f in STANDARD_FIELDS}


def test_standard_field_columns_are_unique() -> None:
    columns = [f.column for f in STANDARD_FIELDS]
    assert len(columns) == len(set(columns))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Lead Score", "leadScore"),
        ("leadscore", "leadScore"),
        ("  EMAIL ADDRESS ", "email"),
        ("blocklisted", "blackListed"),
        ("Blocklisted", "blackListed"),
    ],
)
def test_lookup_is_case_insensitive_by_display_name_rest_name_or_alias(
    name: str, expected: str
) -> None:
    """GEN-7, GEN-10: names are accepted case-insensitively; `blocklisted` is accepted."""
    assert FieldRegistry.standard()[name].name == expected


def test_unknown_field_is_absent() -> None:
    registry = FieldRegistry.standard()
    assert registry.get("Shoe Size") is None
    assert "Shoe Size" not in registry
    with pytest.raises(KeyError):
        registry["Shoe Size"]


def test_display_name_wins_over_another_fields_rest_name() -> None:
    """TOK-5: display names match first, then REST names."""
    shadow = FieldDef(
        name="company",
        display_name="Company Name",
        data_type=FieldType.STRING,
        column="company",
    )
    custom = FieldDef(
        name="companyName",
        display_name="company",
        data_type=FieldType.STRING,
        column="c_company_name",
        is_custom=True,
    )
    registry = FieldRegistry([shadow, custom])
    assert registry["company"] is custom
    assert registry["Company Name"] is shadow


@pytest.mark.parametrize(
    ("name", "column"),
    [("behaviorScore", "c_behavior_score"), ("Tier", "c_tier"), ("utm_source2", "c_utm_source2")],
)
def test_custom_column_names_are_derived_from_validated_names(name: str, column: str) -> None:
    assert custom_column_name(name) == column


@pytest.mark.parametrize("bad", ["", "1abc", "drop table", 'x"; --', "a-b", "x" * 64])
def test_custom_column_names_reject_anything_but_identifiers(bad: str) -> None:
    with pytest.raises(ValueError):
        custom_column_name(bad)


def test_field_type_families() -> None:
    assert FieldType.EMAIL.is_textual and not FieldType.EMAIL.is_numeric
    assert FieldType.SCORE.is_numeric and FieldType.CURRENCY.is_numeric
    assert FieldType.DATETIME.is_temporal and not FieldType.BOOLEAN.is_temporal
