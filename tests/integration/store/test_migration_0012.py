"""Migration 0012 (CMP-23): campaigns active before it get ``activated_at = updated_at``;
downgrading removes the column and the ``campaign_cleanup`` table again."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import sqlalchemy as sa

from kampanj.clock import FixedClock
from kampanj.services.apply import apply_paths
from kampanj.store.database import Database
from testsupport import migrate_to, write

WORLD = """\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: {name}
        active: {active}
        smartList: {{triggers: [Visits Web Page]}}
        flow:
          - Interesting Moment: {{type: Web, description: visit}}
"""


def test_upgrade_backfills_activated_at(database: Database, tmp_path: Path) -> None:
    created = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
    for name, active in (("On", "true"), ("Off", "false")):
        path = write(tmp_path, f"{name}.yaml", WORLD.format(name=name, active=active))
        apply_paths(database, [path], clock=FixedClock(created))
    migrate_to(database, "0011")
    with database.read() as connection:
        inspector = sa.inspect(connection)
        assert "activated_at" not in {c["name"] for c in inspector.get_columns("campaign")}
        assert "campaign_cleanup" not in inspector.get_table_names()
    migrate_to(database, "head")
    with database.read() as connection:
        rows = connection.execute(
            sa.text("SELECT name, activated_at, updated_at FROM campaign ORDER BY name")
        ).all()
    (off, on) = rows
    assert off.activated_at is None
    assert on.activated_at is not None and on.activated_at == on.updated_at
