"""The README's tour is true: its YAML lints clean and its commands exist (VAL-1, VAL-2, VAL-6)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest
import typer.main
from typer.testing import CliRunner

from kampanj.cli.app import app
from kampanj.definitions.loader import load_text
from kampanj.definitions.validate import validate

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def fenced_blocks(markdown: str) -> list[tuple[str, str]]:
    """``(info string, text)`` of every fenced code block, in order."""
    blocks: list[tuple[str, str]] = []
    info: str | None = None
    lines: list[str] = []
    for line in markdown.splitlines(keepends=True):
        if line.startswith("```"):
            if info is None:
                info, lines = line[3:].strip(), []
            else:
                blocks.append((info, "".join(lines)))
                info = None
        elif info is not None:
            lines.append(line)
    return blocks


BLOCKS = fenced_blocks(README)
YAML_BLOCKS = [text for info, text in BLOCKS if info == "yaml"]
PLAIN_BLOCKS = [text for info, text in BLOCKS if info == ""]
SHELL_LINES = [
    line.split("#", 1)[0].strip()
    for info, text in BLOCKS
    if info == "sh"
    for line in text.splitlines()
]
KAMPANJ_COMMANDS = [line for line in SHELL_LINES if line.startswith("kampanj ")]
MAKE_COMMANDS = [line for line in SHELL_LINES if line.startswith("make ")]
# The tour's snippets read as one file: account sections, then the workspace tree, then
# campaigns indented to continue the program above them.
TOUR = "".join(YAML_BLOCKS)
MISSPELT = ("{list: MQL Handoff}", "{list: MQL Hand-off}")

runner = CliRunner()


def test_the_tour_has_account_workspace_and_campaign_snippets() -> None:
    assert len(YAML_BLOCKS) == 3
    assert YAML_BLOCKS[2].startswith(" " * 8 + "campaigns:")


def test_the_tour_lints_clean() -> None:
    loaded = load_text(TOUR, "lead.yaml")
    findings = [*loaded.findings, *validate(loaded.definitions, sources=loaded.sources)]
    assert [f"{f.where()} {f.code} {f.message}" for f in findings] == []
    assert [c.name for c in loaded.definitions.campaigns] == ["Score Pricing Visits"]
    assert [f.name for f in loaded.definitions.fields] == ["behaviorScore", "lifecycleStage"]


def test_the_example_finding_is_what_lint_prints(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """VAL-2: the README shows the real ``file:line:column: severity CODE message`` line."""
    (shown,) = [block for block in PLAIN_BLOCKS if "REF_UNKNOWN" in block]
    assert MISSPELT[0] in TOUR
    monkeypatch.chdir(tmp_path)
    Path("lead.yaml").write_text(TOUR.replace(*MISSPELT), encoding="utf-8")

    result = runner.invoke(app, ["lint", "lead.yaml", "--db", str(tmp_path / "none.db")])

    assert result.exit_code == 1
    assert result.stdout.strip() == shown.strip()


def test_the_readme_names_commands() -> None:
    assert len(KAMPANJ_COMMANDS) >= 6
    assert {"make demo", "make test"} <= {" ".join(line.split()[:2]) for line in MAKE_COMMANDS}


@pytest.mark.parametrize("line", KAMPANJ_COMMANDS)
def test_each_kampanj_command_exists_with_its_options(line: str) -> None:
    words = shlex.split(line)[1:]
    command = typer.main.get_command(app)
    path: list[str] = []
    # Typer's command groups have ``commands``; leaf commands do not.
    while words and words[0] in getattr(command, "commands", {}):
        path.append(words.pop(0))
        command = command.commands[path[-1]]  # type: ignore[attr-defined]
    assert path, f"{line!r} names no kampanj command"
    assert not hasattr(command, "commands"), f"{line!r} stops at a command group"
    known = {option for param in command.params for option in param.opts}
    assert {w for w in words if w.startswith("--")} <= known
    assert {"--db", "--json"} <= known, "every command accepts --db and --json"
    result = runner.invoke(app, [*path, "--help"])
    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("line", MAKE_COMMANDS)
def test_each_make_target_and_variable_exists(line: str) -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for word in line.split()[1:]:
        if "=" in word:
            assert re.search(rf"^{word.split('=')[0]} \?=", makefile, re.M), word
        else:
            assert re.search(rf"^{word}:", makefile, re.M), word
