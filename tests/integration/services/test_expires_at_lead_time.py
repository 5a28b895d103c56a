"""CMP-22, LIM-18: an ``expiresAt`` being set is at least 15 minutes ahead (709 otherwise);
a stored value that has since come does not make re-applying the unchanged definition fail.
Lint and apply judge the same change: the files against what is stored (nothing, for
`kampanj lint` without a database). On both databases."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.clock import FixedClock
from kampanj.definitions.findings import Finding
from kampanj.errors import DefinitionError
from kampanj.services.apply import apply_paths, check
from kampanj.store.database import Database
from kampanj.store.repositories.reading import read_definitions
from testsupport import dump_tables, write

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def _world(expires_at: str | None) -> str:
    schedule = f', expiresAt: "{expires_at}"' if expires_at else ""
    return f"""\
workspace: Default
folders:
  - name: F
    campaigns:
      - name: Visitors
        smartList: {{triggers: [Visits Web Page]}}
        flow:
          - Interesting Moment: {{type: Web, description: visit}}
        schedule: {{qualification: every time{schedule}}}
"""


def _apply(database: Database, tmp_path: Path, expires_at: str | None, now: datetime) -> Path:
    path = write(tmp_path, "world.yaml", _world(expires_at))
    apply_paths(database, [path], clock=FixedClock(now))
    return path


def _lead_findings(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.location == "schedule.expiresAt"]


def _stored_expiry(database: Database) -> datetime | None:
    with database.read() as connection:
        (found,) = read_definitions(connection).campaigns
    return found.schedule.expires_at


def test_a_new_expires_at_less_than_15_minutes_ahead_is_refused(
    database: Database, tmp_path: Path
) -> None:
    """LIM-18: 14 min 59 s ahead → SCHEDULE_INVALID naming campaign, field, file and line;
    nothing written (VAL-3). Exactly 15 minutes ahead is accepted."""
    path = write(tmp_path, "world.yaml", _world("2026-03-02T09:14:59Z"))
    before = dump_tables(database.url)
    with pytest.raises(DefinitionError) as refused:
        apply_paths(database, [path], clock=FixedClock(T0))
    assert refused.value.marketo_code == "709"
    (finding,) = _lead_findings(list(refused.value.findings))
    assert (finding.code, finding.campaign, finding.is_error) == (
        "SCHEDULE_INVALID",
        "Visitors",
        True,
    )
    assert "expiresAt" in finding.message and "15 minutes" in finding.message
    assert (finding.file, finding.line) == (str(path), 9)
    assert dump_tables(database.url) == before

    _apply(database, tmp_path, "2026-03-02T09:15:00Z", T0)
    assert _stored_expiry(database) == T0 + timedelta(minutes=15)


def test_an_unchanged_expires_at_that_has_come_is_no_error(
    database: Database, tmp_path: Path
) -> None:
    """CMP-22: only a value that is new or changed is judged: once the stored expiresAt has
    come, re-applying (and linting) the same definition is clean; changing it to another
    past or near instant is refused; a value far enough ahead, or none, is accepted."""
    path = _apply(database, tmp_path, "2026-03-02T10:00:00Z", T0)
    later = FixedClock(T0 + timedelta(hours=2))
    with database.read() as connection:
        _, findings = check([path], read_definitions(connection), clock=later)
    assert [f for f in findings if f.is_error] == []
    apply_paths(database, [path], clock=later)

    near = write(tmp_path, "world.yaml", _world("2026-03-02T11:10:00Z"))
    with pytest.raises(DefinitionError) as refused:
        apply_paths(database, [near], clock=later)
    (finding,) = _lead_findings(list(refused.value.findings))
    assert finding.campaign == "Visitors" and finding.campaign_id is not None  # the stored one
    assert _stored_expiry(database) == datetime(2026, 3, 2, 10, 0, tzinfo=UTC)

    _apply(database, tmp_path, "2026-03-02T11:15:00Z", later.now())
    assert _stored_expiry(database) == datetime(2026, 3, 2, 11, 15, tzinfo=UTC)
    _apply(database, tmp_path, None, later.now())
    assert _stored_expiry(database) is None


def test_the_same_instant_in_another_zone_is_unchanged(database: Database, tmp_path: Path) -> None:
    """The comparison is by instant: the stored value written with an offset is the same
    expiresAt, so it is not judged again."""
    _apply(database, tmp_path, "2026-03-02T10:00:00Z", T0)
    _apply(database, tmp_path, "2026-03-02T11:00:00+01:00", T0 + timedelta(hours=5))


def test_lint_and_apply_agree(database_url: str, tmp_path: Path) -> None:
    """`kampanj lint` without a database compares with the clock alone (every value is new);
    with the database it judges the change, as `kampanj apply` does. Both read the clock of
    ``KAMPANJ_CLOCK_OFFSET_FILE`` like the worker."""
    runner = CliRunner()
    past = write(tmp_path, "world.yaml", _world("2020-01-01T00:00:00Z"))
    missing = f"sqlite:///{tmp_path / 'none.db'}"
    linted = runner.invoke(app, ["lint", str(past), "--db", missing, "--json"])
    assert linted.exit_code == 1, linted.output
    (finding,) = json.loads(linted.stdout)["findings"]
    assert (finding["code"], finding["campaign"], finding["location"]) == (
        "SCHEDULE_INVALID",
        "Visitors",
        "schedule.expiresAt",
    )
    applied = runner.invoke(app, ["apply", str(past), "--db", database_url])
    assert applied.exit_code == 1 and "nothing written" in applied.output

    # Set an hour ahead, then move the clock of both commands two hours on.
    ahead = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)
    write(tmp_path, "world.yaml", _world(ahead.isoformat()))
    assert runner.invoke(app, ["apply", str(past), "--db", database_url]).exit_code == 0
    offset = write(tmp_path, "offset", str(2 * 3600))
    env = {"KAMPANJ_CLOCK_OFFSET_FILE": str(offset)}
    for command in ("lint", "apply"):
        again = runner.invoke(app, [command, str(past), "--db", database_url], env=env)
        assert again.exit_code == 0, again.output
    without_db = runner.invoke(app, ["lint", str(past), "--db", missing], env=env)
    assert without_db.exit_code == 1 and "SCHEDULE_INVALID" in without_db.output
