"""Lint of Wait steps (WAIT-1..6, EXE-3): the grammar the engine executes."""

from __future__ import annotations

import pytest
from definitions_helpers import codes, lint, program

ANY_FILTER = "smartList: {filters: [{Lead Score: {at least: 0}}]}"


def _wait(wait: str, *, smart_list: str = ANY_FILTER, executable: bool = False) -> list[str]:
    flag = "\n  executable: true" if executable else ""
    _, findings = lint(program(f"- name: X{flag}\n  {smart_list}\n  flow: [{{Wait: {wait}}}]\n"))
    return codes(findings)


@pytest.mark.parametrize(
    "wait",
    [
        "1 minute",
        "2 Hours",
        "{duration: 3 days, endOn: {weekdays: [Monday, friday], at: '09:00'}}",
        "{date: '2026-12-24'}",
        "{date: '2026-12-24T18:00:00+01:00'}",
    ],
)
def test_valid_waits(wait: str) -> None:
    """WAIT-2, WAIT-4, WAIT-5 shapes lint clean."""
    assert _wait(wait) == []


@pytest.mark.parametrize("wait", ["4 hrs", "1.5 days", "0 days", "'-1 day'"])
def test_unparseable_durations(wait: str) -> None:
    """WAIT-2: never a silently skipped wait."""
    assert _wait(wait) == ["WAIT_UNPARSEABLE"]


def test_bad_end_on_values() -> None:
    """WAIT-4: weekdays are Monday…Sunday, the time HH:MM."""
    found = _wait("{duration: 1 day, endOn: {weekdays: [Funday], at: '9am'}}")
    assert found == ["STEP_PARAM_INVALID", "STEP_PARAM_INVALID"]


def test_exactly_one_mode_and_no_choices() -> None:
    """WAIT-1 (no choices), WAIT-2..6 (one of duration, date or token)."""
    assert _wait("{duration: 1 day, date: '2026-12-24'}") == ["STEP_PARAM_INVALID"]
    choice = "{duration: 1 day, choices: [{if: {Lead Score: {at least: 5}}, duration: 2 days}]}"
    assert _wait(choice) == ["STEP_PARAM_INVALID"]


def test_date_token_only_in_trigger_campaigns_and_no_wait_in_executables() -> None:
    """WAIT-6: WAIT_DATE_TOKEN_BATCH in a batch campaign; EXE-3: EXE_WAIT."""
    assert _wait("{token: '{{lead.Created At}}'}") == ["WAIT_DATE_TOKEN_BATCH"]
    assert "EXE_WAIT" in _wait("1 day", executable=True)
