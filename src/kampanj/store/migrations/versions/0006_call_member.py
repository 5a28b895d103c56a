"""call_member: the sub-cohort of an inline Execute Campaign call

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 19:40:00.000000

- ``call_member``: scratch rows for the persons inside an Execute Campaign call at one
  depth of one chunk (EXE-8..11). They are written and deleted in the transaction that
  executes the calling step for that chunk, so a committed database holds none; ``state``
  is ``active`` for a qualified person still in the child's flow, otherwise the EXE-10
  reason they were not qualified; ``branch`` is the choice each person takes (FLOW-9).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "call_member",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("chunk", sa.Integer(), nullable=False),
        sa.Column("depth", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=32), nullable=False),
        sa.Column("branch", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint(
            "run_id", "chunk", "depth", "person_id", "entry_id", name=op.f("pk_call_member")
        ),
    )


def downgrade() -> None:
    op.drop_table("call_member")
