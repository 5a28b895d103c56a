"""leases for workers sharing runs, chunks and the scheduler tick

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 20:30:00.000000

- ``lease``: one row per thing a worker is working on (``run:R:chunk:C``, ``tick``): who
  holds it and until when. A live holder renews it; a dead one's lease expires and another
  worker takes it over (DESIGN.md §5, LEDG-4).
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
    stamp = kampanj.store.types.UtcDateTime
    op.create_table(
        "lease",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("owner", sa.String(length=255), nullable=False),
        sa.Column("acquired_at", stamp(), nullable=False),
        sa.Column("expires_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_lease")),
    )


def downgrade() -> None:
    op.drop_table("lease")
