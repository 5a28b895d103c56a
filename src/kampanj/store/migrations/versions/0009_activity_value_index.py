"""PostgreSQL: activity filters on the primary value read it from an index (SL-22)

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28 20:45:00.000000

A filter such as Visited Web Page *contains "pricing"* over the whole database tested the
primary value of every activity in its window after fetching the table row (about 667k
random reads in `bench/smart_lists.py`). SQLite's covering index holds the value since
0003; PostgreSQL could not, because a b-tree entry is limited to about 2.7 kB and a long
URL would make the activity insert fail. Here the value goes into a *partial* index that
takes only rows whose value is at most 2000 bytes, and a second, tiny partial index finds
the longer ones; the compiler asks both (`compile_activities.value_split`), so every row is
still seen exactly once and inserts of long values keep working.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

# Must stay the expression `compile_activities.value_split` writes into queries.
_SIZE = "octet_length(coalesce(primary_attribute_value, ''))"
_LIMIT = 2000


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_index(
        "ix_activity_type_date_value",
        "activity",
        ["activity_type_id", "activity_date"],
        postgresql_include=["person_id", "primary_attribute_value"],
        postgresql_where=sa.text(f"{_SIZE} <= {_LIMIT}"),
    )
    op.create_index(
        "ix_activity_value_long",
        "activity",
        ["activity_type_id", "activity_date"],
        postgresql_where=sa.text(f"{_SIZE} > {_LIMIT}"),
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_index("ix_activity_value_long", table_name="activity")
    op.drop_index("ix_activity_type_date_value", table_name="activity")
