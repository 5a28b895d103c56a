"""run_member by person: which runs a person is still active in (ORD-3, GEN-2)

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-28 22:45:00.000000

Workers start a queued trigger or requested run only when none of its people is still
active in an earlier unfinished run (engine/handoff.py). That lookup goes from the people
of the queued runs to their other ``run_member`` rows; without an index on ``person_id``
it scanned every member of every run (a 200,000-person batch run included), once per
started chunk.
"""

from __future__ import annotations

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_run_member_person", "run_member", ["person_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_member_person", table_name="run_member")
