"""trigger dispatch cursor, per-member trigger activity, history marker, request log

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 20:05:00.000000

- ``trigger_cursor``: one row, the id of the last activity offered to triggers (ACT-6,
  CMP-14). It starts at the highest activity id present when the migration runs, so
  activities stored before triggers existed fire nothing.
- ``activity.history``: true for activities loaded by ``kampanj activities import``
  (ACT-6: they fire nothing); NULL otherwise, so adding it rewrites no row.
- ``run_member.trigger_activity_id`` / ``trigger_name``: the activity that put the person
  in a trigger or requested run and the trigger it matched (TOK-8, ORD-5 micro-batches).
- ``campaign_request``: each Request Campaign call from outside a flow (REQ-4, API-18).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.add_column("activity", sa.Column("history", sa.Boolean(), nullable=True))
    op.add_column("run_member", sa.Column("trigger_activity_id", sa.BigInteger(), nullable=True))
    op.add_column("run_member", sa.Column("trigger_name", sa.String(length=255), nullable=True))
    cursor = op.create_table(
        "trigger_cursor",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("last_activity_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trigger_cursor")),
    )
    assert cursor is not None
    op.execute(
        cursor.insert().from_select(
            ["id", "last_activity_id", "updated_at"],
            sa.select(
                sa.literal(1),
                sa.func.coalesce(sa.func.max(sa.column("id")), 0),
                sa.func.current_timestamp(),
            ).select_from(sa.table("activity")),
        )
    )
    op.create_table(
        "campaign_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=32), nullable=False),
        sa.Column("requested_by", sa.String(length=255), nullable=True),
        sa.Column("person_ids", json, nullable=False),
        sa.Column("tokens", json, nullable=False),
        sa.Column("accepted", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=255), nullable=True),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("warnings", json, nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_request")),
        sqlite_autoincrement=True,
    )
    op.create_index(
        "ix_campaign_request_campaign", "campaign_request", ["campaign_id", "id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_campaign_request_campaign", table_name="campaign_request")
    op.drop_table("campaign_request")
    op.drop_table("trigger_cursor")
    with op.batch_alter_table("run_member") as batch:
        batch.drop_column("trigger_name")
        batch.drop_column("trigger_activity_id")
    with op.batch_alter_table("activity") as batch:
        batch.drop_column("history")
