"""runs, cohorts, per-step results and progress markers (DESIGN.md §2, GEN-6, LEDG-1)

Revision ID: 0004
Revises: 0002
Create Date: 2026-12-01 10:00:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0004"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.create_table(
        "run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("causation_depth", sa.Integer(), nullable=False),
        sa.Column("trigger_activity_id", sa.BigInteger(), nullable=True),
        sa.Column("token_overrides", json, nullable=False),
        sa.Column("cohort", sa.Integer(), nullable=True),
        sa.Column("qualified", sa.Integer(), nullable=True),
        sa.Column("chunk_size", sa.Integer(), nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.Column("started_at", stamp(), nullable=True),
        sa.Column("finished_at", stamp(), nullable=True),
        sa.Column("errors", json, nullable=False),
        sa.Column("warnings", json, nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_run")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_run_campaign", "run", ["campaign_id"], unique=False)
    op.create_table(
        "run_member",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("next_step", sa.String(length=255), nullable=True),
        sa.Column("wake_at", stamp(), nullable=True),
        sa.Column("branch", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("run_id", "person_id", "entry_id", name=op.f("pk_run_member")),
    )
    op.create_index(
        "ix_run_member_chunk", "run_member", ["run_id", "chunk", "person_id"], unique=False
    )
    op.create_table(
        "run_step",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("call_path", sa.String(length=255), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("executed", sa.Integer(), nullable=False),
        sa.Column("skipped", sa.Integer(), nullable=False),
        sa.Column("blocked", sa.Integer(), nullable=False),
        sa.Column("errors", sa.Integer(), nullable=False),
        sa.Column("choices", json, nullable=False),
        sa.Column("skip_reasons", json, nullable=False),
        sa.PrimaryKeyConstraint("run_id", "call_path", name=op.f("pk_run_step")),
    )
    op.create_table(
        "run_progress",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("call_path", sa.String(length=255), nullable=False),
        sa.Column("committed_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", "chunk", "call_path", name=op.f("pk_run_progress")),
    )


def downgrade() -> None:
    op.drop_table("run_progress")
    op.drop_table("run_step")
    op.drop_index("ix_run_member_chunk", table_name="run_member")
    op.drop_table("run_member")
    op.drop_index("ix_run_campaign", table_name="run")
    op.drop_table("run")
