"""outbox ledger, scheduled runs, pinned flows, step token provenance

Revision ID: 0005
Revises: 0003
Create Date: 2026-11-28 19:20:00.000000

- ``outbox``: one row per external effect key (LEDG-3): the intent commits first, the
  delivery outcome later; ``ledger_key`` is unique so a retry never sends twice (MAIL-9).
- ``scheduled_run``: pending single runs (``kampanj run --at``, CMP-8) and started
  recurrence occurrences (CMP-9/10); ``occurrence_key`` is unique so a tick started twice
  never starts one occurrence twice.
- ``run.flow_snapshot``: the flow pinned at qualification (CMP-15), read on resume.
- ``run_step.tokens``: token provenance of a token-bearing step execution (PROV-2).
- ``api_user`` / ``api_token``: REST API users with hashed secrets, roles and workspace
  scope (API-8), and their access tokens (API-2/3).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0005"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.create_table(
        "outbox",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ledger_key", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("campaign_id", sa.Integer(), nullable=True),
        sa.Column("call_path", sa.String(length=255), nullable=True),
        sa.Column("payload", json, nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("created_at", stamp(), nullable=False),
        sa.Column("delivered_at", stamp(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("ledger_key", name=op.f("uq_outbox_ledger_key")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_outbox_state", "outbox", ["state", "id"], unique=False)
    op.create_index("ix_outbox_run", "outbox", ["run_id", "person_id"], unique=False)
    op.create_table(
        "scheduled_run",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("campaign_id", sa.Integer(), nullable=False),
        sa.Column("run_at", stamp(), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("occurrence_key", sa.String(length=255), nullable=True),
        sa.Column("token_overrides", json, nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=True),
        sa.Column("created_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scheduled_run")),
        sa.UniqueConstraint("occurrence_key", name=op.f("uq_scheduled_run_occurrence_key")),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_scheduled_run_due", "scheduled_run", ["status", "run_at"], unique=False)
    op.create_table(
        "api_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("email", sa.String(length=255), nullable=False),
        sa.Column("client_id", sa.String(length=64), nullable=False),
        sa.Column("secret_hash", sa.String(length=255), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("workspaces", json, nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_user")),
        sa.UniqueConstraint("client_id", name=op.f("uq_api_user_client_id")),
        sa.UniqueConstraint("name", name=op.f("uq_api_user_name")),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "api_token",
        sa.Column("token", sa.String(length=128), nullable=False),
        sa.Column("api_user_id", sa.Integer(), nullable=False),
        sa.Column("created_at", stamp(), nullable=False),
        sa.Column("expires_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_api_token")),
    )
    op.create_index("ix_api_token_user", "api_token", ["api_user_id", "expires_at"], unique=False)
    with op.batch_alter_table("run") as batch:
        batch.add_column(sa.Column("flow_snapshot", json, nullable=True))
    with op.batch_alter_table("run_step") as batch:
        batch.add_column(sa.Column("tokens", json, nullable=True))
    op.create_index("ix_run_member_wake", "run_member", ["state", "wake_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_run_member_wake", table_name="run_member")
    with op.batch_alter_table("run_step") as batch:
        batch.drop_column("tokens")
    with op.batch_alter_table("run") as batch:
        batch.drop_column("flow_snapshot")
    op.drop_index("ix_api_token_user", table_name="api_token")
    op.drop_table("api_token")
    op.drop_table("api_user")
    op.drop_index("ix_scheduled_run_due", table_name="scheduled_run")
    op.drop_table("scheduled_run")
    op.drop_index("ix_outbox_run", table_name="outbox")
    op.drop_index("ix_outbox_state", table_name="outbox")
    op.drop_table("outbox")
