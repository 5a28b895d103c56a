"""One rule for "is this campaign Invalid" (CMP-3) and what a batch run does with it (CMP-5),
both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from executesupport import activities, build_forced, campaign_ids, world

from kampanj.clock import FixedClock
from kampanj.definitions.findings import Severity
from kampanj.definitions.validate import validate
from kampanj.engine.batch import run_batch
from kampanj.engine.runs import RunStatus
from kampanj.engine.validity import campaign_problems, invalid_campaign_ids, problems_of
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)

CAMPAIGNS = """\
      - name: Bad Flow
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Add to List: Hot
          - Add to List: No Such List
      - name: Bad List
        smartList: {filters: [{Member of List: {in: [No Such List]}}]}
        flow:
          - Add to List: Hot
      - name: Loop
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Add to List: Cold
          - Execute Campaign: {campaign: E1}
      - name: E1
        executable: true
        flow: [{Execute Campaign: {campaign: E2}}]
      - name: E2
        executable: true
        flow: [{Execute Campaign: {campaign: E1}}]
"""


def test_own_errors_make_a_campaign_invalid_call_graph_findings_do_not(
    database: Database, tmp_path: Path
) -> None:
    """CMP-3: errors on the campaign's own flow or smart list count; EXE_CYCLE does not,
    nor do other campaigns' errors. The smart-list / flow split is EXE-12 / EXE-13's."""
    build_forced(database.url, tmp_path, world(CAMPAIGNS))
    ids = campaign_ids(database)
    with database.read() as connection:
        definitions = read_definitions(connection)
    codes = {f.code for f in validate(definitions) if f.severity is Severity.ERROR}
    assert "EXE_CYCLE" in codes  # the call graph does have an error finding

    assert invalid_campaign_ids(definitions) == {ids["Bad Flow"], ids["Bad List"]}
    problems = campaign_problems(definitions)
    assert problems[ids["Bad Flow"]].flow and not problems[ids["Bad Flow"]].smart_list
    assert problems[ids["Bad List"]].smart_list and not problems[ids["Bad List"]].flow
    loop = next(c for c in definitions.campaigns if c.name == "Loop")
    assert problems_of(definitions, loop).messages == []


def test_a_batch_run_of_an_invalid_campaign_ends_invalid_and_writes_nothing(
    database: Database, tmp_path: Path
) -> None:
    """CMP-5: the run of an Invalid campaign ends ``invalid`` naming its errors and writes
    no activity, not even for the valid first step; a valid one still runs."""
    build_forced(database.url, tmp_path, world(CAMPAIGNS))

    for name in ("Bad Flow", "Bad List"):
        result = run_batch(database, FixedClock(T0), name).result
        assert result.status is RunStatus.INVALID, name
        assert result.errors, name
    assert any("No Such List" in e["message"] for e in result.errors)
    assert activities(database) == []
