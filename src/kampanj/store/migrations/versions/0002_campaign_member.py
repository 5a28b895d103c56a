"""campaign membership (CMP-20)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-29 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaign_member",
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", kampanj.store.types.UtcDateTime(), nullable=False),
        sa.Column("updated_at", kampanj.store.types.UtcDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaign.id"],
            name=op.f("fk_campaign_member_campaign_id_campaign"),
        ),
        sa.PrimaryKeyConstraint("campaign_id", "person_id", name=op.f("pk_campaign_member")),
    )
    op.create_index("ix_campaign_member_person", "campaign_member", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_campaign_member_person", table_name="campaign_member")
    op.drop_table("campaign_member")
