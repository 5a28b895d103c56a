"""REST Idempotency-Key replays (LEDG-6)

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-28 22:40:00.000000

- ``api_idempotency``: one row per (API user, ``Idempotency-Key``): a fingerprint of the
  first request (method, path, query, body) and, once it succeeded, its response, replayed
  for a repeat within 24 h (LIM-26). A row without a response is a call in progress.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import kampanj.store.types

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    json = kampanj.store.types.JsonDocument
    stamp = kampanj.store.types.UtcDateTime
    op.create_table(
        "api_idempotency",
        sa.Column("api_user_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("response", json, nullable=True),
        sa.Column("created_at", stamp(), nullable=False),
        sa.PrimaryKeyConstraint("api_user_id", "key", name=op.f("pk_api_idempotency")),
    )


def downgrade() -> None:
    op.drop_table("api_idempotency")
