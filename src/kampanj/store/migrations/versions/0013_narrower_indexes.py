"""Narrower indexes where every batch run writes (issues 4 and 5)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 04:30:00.000000

Measured on the 1,000,000-person `bench/batch_campaign.py` (SQLite), each of these was a
second or more of a 20-second run, spent writing index entries nothing reads:

- ``activity``: the per-person index loses the activity date. A person's activities of one
  type are few, so a per-person probe checks the date on the row; on SQLite the date (ISO
  text) was 27 of each entry's 44 bytes.
- ``run_member``: ``ix_run_member_wake`` holds only waiting members and
  ``ix_run_member_person`` only members still in the flow (active or waiting). Members of
  finished runs, and a batch run's members as they complete, leave both, so the indexes
  stay the size of the work in flight. The conditions are `schema.RUN_MEMBER_WAITING` and
  `schema.RUN_MEMBER_LIVE`, which queries repeat to use them.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

_WAITING = sa.text("state = 'waiting'")
_LIVE = sa.text("state IN ('active', 'waiting')")


def upgrade() -> None:
    op.drop_index("ix_activity_person_type_date", table_name="activity")
    op.create_index("ix_activity_person_type", "activity", ["person_id", "activity_type_id"])
    op.drop_index("ix_run_member_wake", table_name="run_member")
    op.create_index(
        "ix_run_member_wake",
        "run_member",
        ["wake_at"],
        sqlite_where=_WAITING,
        postgresql_where=_WAITING,
    )
    op.drop_index("ix_run_member_person", table_name="run_member")
    op.create_index(
        "ix_run_member_person",
        "run_member",
        ["person_id", "state"],
        sqlite_where=_LIVE,
        postgresql_where=_LIVE,
    )


def downgrade() -> None:
    op.drop_index("ix_run_member_person", table_name="run_member")
    op.create_index("ix_run_member_person", "run_member", ["person_id", "state"])
    op.drop_index("ix_run_member_wake", table_name="run_member")
    op.create_index("ix_run_member_wake", "run_member", ["state", "wake_at"])
    op.drop_index("ix_activity_person_type", table_name="activity")
    op.create_index(
        "ix_activity_person_type_date",
        "activity",
        ["person_id", "activity_type_id", "activity_date"],
    )
