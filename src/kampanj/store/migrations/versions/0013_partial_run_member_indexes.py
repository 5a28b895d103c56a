"""Partial run_member indexes: only the members a lookup by state can want (issues 4, 5)

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-29 04:30:00.000000

``ix_run_member_wake`` holds only waiting members and ``ix_run_member_person`` only members
still in the flow (active or waiting). Members of finished runs, and a batch run's members
as they complete, leave both, so the indexes stay the size of the work in flight, and a
batch run whose people never wait writes nothing to the wake index (~0.6 s of a 20-second
1,000,000-person `bench/batch_campaign.py` run on SQLite). The conditions are
`schema.RUN_MEMBER_WAITING` and `schema.RUN_MEMBER_LIVE`, which queries repeat to use them.
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
