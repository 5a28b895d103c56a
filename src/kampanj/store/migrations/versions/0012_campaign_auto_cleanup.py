"""Auto cleanup of idle trigger campaigns (CMP-23)

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-29 01:30:00.000000

- ``campaign.activated_at``: when the campaign last became active (a re-activation restarts
  CMP-23's six months). Campaigns active before this migration get their ``updated_at``,
  which is at or after their activation: they are never cleaned up earlier than due.
- ``campaign_cleanup``: one row per quarter boundary the tick has handled, so a boundary is
  cleaned up once (a missed one at the next tick); ``ran`` is false when the setting was off.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.add_column("campaign", sa.Column("activated_at", stamp(), nullable=True))
    op.execute("UPDATE campaign SET activated_at = updated_at WHERE active")
    op.create_table(
        "campaign_cleanup",
        sa.Column("boundary", stamp(), nullable=False),
        sa.Column("ran", sa.Boolean(), nullable=False),
        sa.Column("deactivated", json, nullable=False),
        sa.Column("done_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("boundary", name=op.f("pk_campaign_cleanup")),
    )


def downgrade() -> None:
    op.drop_table("campaign_cleanup")
    with op.batch_alter_table("campaign") as batch:
        batch.drop_column("activated_at")
