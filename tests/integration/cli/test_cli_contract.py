"""The CLI contract every command keeps: --db, --json with one JSON document, exit codes."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import write

runner = CliRunner()
EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "lead-lifecycle"
COMMANDS = [
    *("init", "lint", "apply", "people import", "people show", "activities import", "demo"),
    "explain",
    "outbox",
    "deliver",
    "clone",
    "graph",
    *("api-user create", "api-user list"),
    *("schedule list", "tick", "worker", "abort"),
    *("event", "activate", "deactivate", "request"),
]
# commands that read the example definitions
NEEDS_EXAMPLES = {"explain", "clone", "graph", "abort"}
# commands that need trigger campaigns: one active and requestable, one inactive
NEEDS_TRIGGERS = {"activate", "deactivate", "request"}
TRIGGER_WORLD = """\
workspace: Default
folders:
  - name: Triggers
    campaigns:
      - name: Requested
        active: true
        smartList: {triggers: [Campaign is Requested]}
        flow: [{Interesting Moment: {type: Web, description: requested}}]
      - name: Dormant
        smartList: {triggers: [Person is Created]}
        flow: [{Interesting Moment: {type: Web, description: created}}]
"""


def arguments(command: str, tmp_path: Path) -> list[str]:
    """``command`` with the arguments it needs to succeed on a database with one person."""
    people = write(tmp_path, "people.csv", "email,firstName\nann@example.com,Ann\n")
    history = write(
        tmp_path,
        "history.jsonl",
        '{"personId": 1, "activityType": "Visit Webpage", "activityDate": "2026-01-01T00:00:00Z",'
        ' "primaryAttributeValue": "/pricing"}\n',
    )
    extra = {
        "init": [],
        "lint": [str(EXAMPLES)],
        "apply": [str(EXAMPLES)],
        "people import": [str(people)],
        "people show": ["1"],
        "activities import": [str(history)],
        "demo": ["--people", "50", "--examples", str(EXAMPLES), "--workdir", str(tmp_path / "w")],
        "explain": ["--campaign", "Promote to MQL", "--person", "1"],
        "outbox": ["--state", "intent"],
        "deliver": ["--limit", "5"],
        "clone": ["Promote to MQL", "--name", "Promote to MQL (copy)"],
        "graph": ["--format", "svg", "--output", str(tmp_path / "graph.svg")],
        "api-user create": ["svc", "--role", "read_only", "--workspace", "*"],
        "api-user list": [],
        "schedule list": [],
        "tick": [],
        "worker": ["--max-ticks", "1", "--interval", "0"],
        "abort": ["--campaign", "Promote to MQL"],
        "event": ["Visit Webpage", "--person", "1", "--primary", "/pricing", "--wait"],
        "activate": ["Dormant"],
        "deactivate": ["Requested"],
        "request": ["Requested", "--person", "1", "--token", "{{my.X}}=y"],
    }[command]
    return [*command.split(), *extra]


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_prints_one_json_document(
    command: str, database_url: str, tmp_path: Path
) -> None:
    """Issue 2 CLI contract: --db and --json on every command; stdout is one JSON document."""
    seed = tmp_path / "seed.csv"
    seed.write_text("email\nann@example.com\n", encoding="utf-8")
    setup = runner.invoke(app, ["people", "import", str(seed), "--db", database_url, "--json"])
    assert setup.exit_code == 0, setup.output
    if command in NEEDS_EXAMPLES:
        setup = runner.invoke(app, ["apply", str(EXAMPLES), "--db", database_url, "--json"])
        assert setup.exit_code == 0, setup.output
    if command in NEEDS_TRIGGERS:
        world = write(tmp_path, "triggers.yaml", TRIGGER_WORLD)
        setup = runner.invoke(app, ["apply", str(world), "--db", database_url, "--json"])
        assert setup.exit_code == 0, setup.output

    result = runner.invoke(app, [*arguments(command, tmp_path), "--db", database_url, "--json"])

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)  # raises on anything but exactly one document
    assert isinstance(document, dict) and document
    assert "error" not in document


def closed_port() -> int:
    """A local TCP port nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_unreachable_postgresql_is_a_one_line_user_error(
    command: str, as_json: bool, tmp_path: Path
) -> None:
    """Exit 1 with one line naming the server; never a traceback."""
    url = f"postgresql+psycopg://postgres@127.0.0.1:{closed_port()}/kampanj"
    flags = ["--json"] if as_json else []

    result = runner.invoke(app, [*arguments(command, tmp_path), "--db", url, *flags])

    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    if as_json:
        message = json.loads(result.stdout)["error"]
    else:
        assert result.stdout == ""
        (line,) = result.stderr.strip().splitlines()
        message = line.removeprefix("error: ")
    assert message.startswith("cannot connect to postgresql+psycopg://postgres@127.0.0.1:")
    assert "\n" not in message
