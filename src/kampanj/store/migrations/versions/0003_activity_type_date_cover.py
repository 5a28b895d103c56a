"""activity filters scan a covering index (SL-22)

Revision ID: 0003
Revises: 0004
Create Date: 2026-11-28 18:00:00.000000

Activity filters over the whole database select ``person_id`` from the activities of one
type inside a date window (``Placement.SET``). With ``(activity_type_id, activity_date)``
alone, every activity in the window costs a random read of its table row; carrying
``person_id`` (and on SQLite the primary value, the most common filter condition) in the
index lets both databases answer from the index alone.

PostgreSQL keeps the primary value out: a b-tree entry there is limited to about 2.7 kB,
and a long URL would make the activity insert fail.
"""

from __future__ import annotations

from alembic import op

revision = "0003"
# Written after 0004 (runs) was committed on top of 0002: it follows 0004 so the history
# keeps one head.
down_revision = "0004"
branch_labels = None
depends_on = None

NAME = "ix_activity_type_date_cover"


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.create_index(
            NAME,
            "activity",
            ["activity_type_id", "activity_date"],
            postgresql_include=["person_id"],
        )
    else:
        op.create_index(
            NAME,
            "activity",
            ["activity_type_id", "activity_date", "person_id", "primary_attribute_value"],
        )
    op.drop_index("ix_activity_type_date", table_name="activity")


def downgrade() -> None:
    op.create_index("ix_activity_type_date", "activity", ["activity_type_id", "activity_date"])
    op.drop_index(NAME, table_name="activity")
