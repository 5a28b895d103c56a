"""leases for workers sharing runs, chunks and the scheduler tick; run issues as rows

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 20:30:00.000000

- ``lease``: one row per thing a worker is working on (``run:R:chunk:C``, ``tick``): who
  holds it and until when. A live holder renews it; a dead one's lease expires and another
  worker takes it over (DESIGN.md §5, LEDG-4).
- ``run_issue``: errors and warnings a step records for a run (GEN-6), one row each, so
  chunks committing in parallel append without rewriting the run row; ``run.errors`` /
  ``run.warnings`` keep the ones written with a status (invalid, blocked).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", stamp(), nullable=False),
        sa.Column("expires_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )
    op.create_table(
        "run_issue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("document", json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run_issue")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_run_issue_run", "run_issue", ["run_id", "id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_issue_run", table_name="run_issue")
    op.drop_table("run_issue")
    op.drop_table("lease")
