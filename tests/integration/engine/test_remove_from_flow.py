"""Remove from Flow and a person's several entries of one run (FLOW-18, CMP-19), both
databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import sqlalchemy as sa
from enginesupport import build, park
from executesupport import PEOPLE, activities, world

from kampanj.clock import FixedClock
from kampanj.engine.batch import resume_run, run_batch
from kampanj.store import schema
from kampanj.store.database import Database

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SECOND_ENTRY = 1000  # entry id offset of each person's second flow instance

SWEEP = world("""\
      - name: Sweep
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Remove from Flow:
              doNothing: true
              choices: [{if: {Lead Score: {at least: 12}}, campaigns: [this]}]
          - Add to List: Cold
        schedule: {qualification: every time}
""")


def _entries(database: Database, run_id: int) -> dict[tuple[int, int], str]:
    member = schema.run_member
    with database.read() as connection:
        rows = connection.execute(
            sa.select(member.c.person_id, member.c.entry_id, member.c.state).where(
                member.c.run_id == run_id
            )
        )
        return {(row.person_id, row.entry_id): row.state for row in rows}


def test_remove_from_flow_this_ends_the_persons_other_entries_of_the_run(
    database: Database, tmp_path: Path
) -> None:
    """FLOW-18: every other flow instance of the target ends, also the person's other
    entries of this very run (CMP-19: several instances of one person at once); other
    people's entries are untouched; FLOW-19: one 903 for the person and target."""
    build(database.url, tmp_path, SWEEP, PEOPLE)
    run_id = run_batch(database, FixedClock(T0), "Sweep", execute_now=False).result.run_id
    with database.begin() as connection:
        # Lead Score 10 and 12: only person 3 is removed.
        park(
            connection,
            run_id,
            (1, 3),
            next_step="s2",
            wake_at=T0 + timedelta(days=1),
            entry_offset=SECOND_ENTRY,
        )

    resume_run(database, FixedClock(T0), run_id)

    assert _entries(database, run_id) == {
        (1, 1): "completed",
        (2, 2): "completed",
        (3, 3): "removed",
        (1, SECOND_ENTRY + 1): "waiting",
        (3, SECOND_ENTRY + 3): "removed",
    }
    ends = [a["person_id"] for a in activities(database) if a["activity_type_id"] == 903]
    assert ends == [3]
