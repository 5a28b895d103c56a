"""Per-person checks a step makes before writing, on both databases: clamped scores
(FLOW-17) and over-long rendered values (FLOW-14), with and without a person deleted
meanwhile (FLOW-7), and the per-choice counts of steps that count their cohort (GEN-6).

The cohort engine counts a step's flagged persons in the statement that checks for deleted
persons; a chunk with a deleted person is partitioned and the step checks by itself. Both
paths must give the same warnings, errors and counts."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from enginesupport import build

from kampanj.clock import FixedClock
from kampanj.engine.batch import run_batch
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
MAX = 2**31 - 1

WORLD = """\
workspace: Default
folders:
  - name: F
    lists:
      - name: Hot
      - name: Warm
    campaigns:
      - name: C
        smartList:
          filters:
            - Lead Score: {{at least: -2147483648}}
        flow:
{flow}
"""


def _deleting(database: Database, person_id: int, after: str) -> Any:
    """A chunk hook deleting ``person_id`` once ``after`` committed for chunk 0."""

    def hook(call_path: str, chunk: int) -> None:
        if call_path == after and chunk == 0:
            with database.begin() as connection:
                connection.execute(sa.delete(schema.person).where(schema.person.c.id == person_id))

    return hook


def _run_deleting_person_2(database: Database, tmp_path: Path, flow: str, people: str) -> Any:
    """Campaign C with ``flow`` over ``people`` in chunks of two; person 2 (chunk 0) is
    deleted once s1 committed, so chunk 0 takes the partitioned path from s2 on and the
    other chunks the counted one."""
    build(database.url, tmp_path, WORLD.format(flow=flow), people)
    return run_batch(
        database, FixedClock(T0), "C", chunk_size=2, on_chunk=_deleting(database, 2, "s1")
    ).result


def _column(database: Database, column: str) -> dict[int, Any]:
    with database.read() as connection:
        person = person_table(load_field_registry(connection))
        rows = connection.execute(sa.select(person.c.id, person.c[column]).order_by(person.c.id))
        return {row[0]: row[1] for row in rows}


def test_clamped_scores_warned_on_both_paths(database: Database, tmp_path: Path) -> None:
    """FLOW-17: SCORE_CLAMPED for exactly the clamped persons, in step then id order, in a
    chunk with a deleted person (partitioned) and in one without (counted with the check);
    a change that clamps nobody warns nobody."""
    flow = """\
          - Change Score: {scoreName: Lead Score, change: "+10"}
          - Change Score: {scoreName: Lead Score, change: "+2147483000"}
          - Change Score: {scoreName: Lead Score, change: "=5"}
"""
    people = "email,leadScore\na@x.com,2147483640\nb@x.com,5\nc@x.com,2147483000\n"
    result = _run_deleting_person_2(database, tmp_path, flow, people)
    assert [(w["code"], w["personId"], w["stepId"]) for w in result.warnings] == [
        ("SCORE_CLAMPED", 1, "s1"),
        ("SCORE_CLAMPED", 1, "s2"),
        ("SCORE_CLAMPED", 3, "s2"),
    ]
    assert f"stored {MAX}" in result.warnings[1]["message"]
    assert (result.steps["s2"].executed, result.steps["s2"].skip_reasons) == (
        2,
        {"person deleted": 1},
    )
    assert result.steps["s2"].choices == {"default": 2}
    assert _column(database, "lead_score") == {1: 5, 3: 5}


def test_over_long_values_fail_on_both_paths(database: Database, tmp_path: Path) -> None:
    """FLOW-14, FLOW-6: a rendered value over 255 characters fails its person only, whether
    the chunk had a deleted person or not; a value nobody overflows writes everyone."""
    flow = """\
          - Interesting Moment: {type: Web, description: start}
          - Change Data Value:
              {attribute: Job Title, newValue: "{{lead.Company Name}}{{lead.Company Name}}"}
          - Change Data Value: {attribute: Job Title, newValue: "{{lead.Company Name}}!"}
"""
    people = (
        "email,company,leadScore\n"
        f"a@x.com,{'x' * 200},1\nb@x.com,short,2\nc@x.com,{'y' * 130},3\nd@x.com,ok,4\n"
    )
    result = _run_deleting_person_2(database, tmp_path, flow, people)
    assert [(e["code"], e["personId"], e["stepId"]) for e in result.errors] == [
        ("INVALID_VALUE", 1, "s2"),
        ("INVALID_VALUE", 3, "s2"),
    ]
    assert "400 characters" in result.errors[0]["message"]
    assert "260 characters" in result.errors[1]["message"]
    s2, s3 = result.steps["s2"], result.steps["s3"]
    assert (s2.executed, s2.errors, s2.skip_reasons) == (1, 2, {"person deleted": 1})
    assert (s3.executed, s3.errors, s3.choices) == (3, 0, {"default": 3})
    assert _column(database, "title") == {1: "x" * 200 + "!", 3: "y" * 130 + "!", 4: "ok!"}


def test_counting_steps_count_each_choice(database: Database, tmp_path: Path) -> None:
    """GEN-6: Change Data Value, Add / Remove from List and Interesting Moment report each
    choice's people as executed, a deleted person apart (FLOW-7)."""
    flow = """\
          - Interesting Moment: {type: Web, description: start}
          - Add to List:
              list: Hot
              choices:
                - {if: {Lead Score: {at least: 3}}, list: Warm}
          - Remove from List:
              list: Hot
              choices:
                - {if: {Lead Score: {at least: 4}}, doNothing: true}
          - Change Data Value:
              attribute: Lead Status
              newValue: Open
              choices:
                - {if: {Lead Score: {at least: 3}}, newValue: Hot}
          - Interesting Moment:
              type: Web
              description: end
              choices:
                - {if: {Lead Score: {at least: 2}}, description: "end {{lead.Lead Score}}"}
"""
    people = "email,leadScore\na@x.com,1\nb@x.com,2\nc@x.com,3\nd@x.com,4\ne@x.com,5\n"
    result = _run_deleting_person_2(database, tmp_path, flow, people)
    counts = {
        step: (outcome.executed, outcome.choices, outcome.skip_reasons)
        for step, outcome in result.steps.items()
    }
    deleted = {"person deleted": 1}
    assert counts == {
        "s1": (5, {"default": 5}, {}),
        "s2": (4, {"1": 3, "default": 1}, deleted),
        "s3": (2, {"1": 2, "default": 2}, {**deleted, "do nothing": 2}),
        "s4": (4, {"1": 3, "default": 1}, deleted),
        "s5": (4, {"1": 3, "default": 1}, deleted),
    }
    assert _column(database, "lead_status") == {1: "Open", 3: "Hot", 4: "Hot", 5: "Hot"}
