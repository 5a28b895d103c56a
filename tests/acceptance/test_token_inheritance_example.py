"""examples/token-inheritance reproduces SPEC WX-1 (EXE-16, TOK-19..22, EXE-10, PROV-3).

The README's commands run as written, on a fresh database of either backend: Parent True
changes every score by +10, Parent False by 0, and each call writes Execute Campaign with
Qualified true.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import sqlalchemy as sa
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.store import schema
from kampanj.store.database import Database
from kampanj.store.registry import load_field_registry, person_table

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "token-inheritance"
runner = CliRunner()


def readme_commands() -> list[list[str]]:
    text = (EXAMPLE / "README.md").read_text(encoding="utf-8")
    block = text.split("## Run it", 1)[1].split("```", 2)[1]
    return [shlex.split(line)[1:] for line in block.splitlines() if line.startswith("kampanj ")]


def _invoke(arguments: list[str], url: str) -> str:
    swapped = [url if a.startswith("sqlite:///wx1.db") else a for a in arguments]
    swapped = [str(ROOT / a) if a.startswith("examples/") else a for a in swapped]
    result = runner.invoke(app, [*swapped, "--json"])
    assert result.exit_code == 0, result.output
    return result.stdout


def _changes(database: Database, run_id: int) -> dict[int, str]:
    activity = schema.activity
    with database.read() as connection:
        rows = connection.execute(
            sa.select(activity.c.person_id, activity.c.attributes).where(
                activity.c.run_id == run_id, activity.c.activity_type_id == 22
            )
        )
        return {row.person_id: row.attributes["Change Value"] for row in rows}


def _executes(database: Database, run_id: int) -> list[dict[str, object]]:
    activity = schema.activity
    with database.read() as connection:
        rows = connection.execute(
            sa.select(activity.c.attributes)
            .where(activity.c.run_id == run_id, activity.c.activity_type_id == 901)
            .order_by(activity.c.id)
        )
        return [dict(row.attributes) for row in rows]


def test_readme_commands_reproduce_wx1(database: Database) -> None:
    commands = readme_commands()
    assert [c[0] for c in commands] == ["apply", "people", "run", "run", "runs", "people"]
    outputs = [_invoke(arguments, database.url) for arguments in commands]
    true_run, false_run = (json.loads(outputs[i])["runId"] for i in (2, 3))
    assert _changes(database, true_run) == {1: "+10", 2: "+10", 3: "+10"}
    assert _changes(database, false_run) == {1: "+0", 2: "+0", 3: "+0"}
    for run_id, context in ((true_run, True), (false_run, False)):
        executes = _executes(database, run_id)
        assert len(executes) == 3
        assert {(e["Qualified"], e["Depth"], e["Use Parent Token Context"]) for e in executes} == {
            (True, 1, context)
        }
    trace = json.loads(outputs[4])["trace"]
    child = trace["steps"][0]["call"]
    assert (child["campaign"], child["qualified"]) == ("Shared Scoring", True)
    token = child["steps"][0]["tokens"][0]
    assert (token["value"], token["source"]) == ("+10", "my-token")
    assert token["location"].endswith("Webinar A")
    json.loads(outputs[5])  # `people show` prints one document
    with database.read() as connection:
        fields = load_field_registry(connection)
        person = person_table(fields)
        column = person.c[fields["Behavior Score"].column]
        scores = connection.execute(sa.select(column).order_by(person.c.id)).scalars()
        assert list(scores) == [10, 10, 10]


def test_parent_silent_uses_the_childs_value(database: Database) -> None:
    """WX-1 person 3: context true, but the caller's tree has no Score: the child's +0."""
    for arguments in readme_commands()[:2]:
        _invoke(arguments, database.url)
    run = json.loads(_invoke(["run", "Parent Silent", "--db", "sqlite:///wx1.db"], database.url))
    assert _changes(database, run["runId"]) == {1: "+0", 2: "+0", 3: "+0"}
