"""Every shipped example loads and validates with zero errors (VAL-1, VAL-6)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kampanj.definitions.loader import load_paths
from kampanj.definitions.validate import validate

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_DIRS = sorted(p for p in EXAMPLES.iterdir() if p.is_dir())


def test_there_are_examples() -> None:
    assert EXAMPLE_DIRS


@pytest.mark.parametrize("example", EXAMPLE_DIRS, ids=lambda p: p.name)
def test_example_lints_clean(example: Path) -> None:
    loaded = load_paths([example])
    findings = [*loaded.findings, *validate(loaded.definitions, sources=loaded.sources)]
    errors = [f"{f.where()} {f.code} {f.message}" for f in findings if f.is_error]
    assert errors == []
    assert loaded.definitions.campaigns, "an example without campaigns teaches nothing"
