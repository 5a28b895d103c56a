"""`kampanj graph` over stored definitions on both backends (VAL-7, EXE-7, EXE-15, REQ-13)."""

from __future__ import annotations

import json
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from kampanj.cli.app import app
from testsupport import ACCOUNT_YAML, write

runner = CliRunner()

# A cycle E1 → E2 → E1 can only be stored with --force (VAL-3); the graph must show it.
DEFINITIONS = """\
workspace: Default
programs:
  - name: P
    campaigns:
      - name: Top
        smartList: {triggers: [{Fills Out Form: {Form: is 20}}]}
        flow:
          - Execute Campaign:
              campaign: E1
              useParentContext: true
              choices: [{if: {Lead Score: {at least: 10}}, campaign: Solo}]
          - Request Campaign: Listener
      - {name: E1, executable: true, flow: [{Execute Campaign: E2}]}
      - {name: E2, executable: true, flow: [{Execute Campaign: E1}]}
      - {name: Solo, executable: true, flow: [{Delete Person}]}
      - name: Listener
        active: true
        smartList: {triggers: [{Campaign is Requested: {Source: is Marketo Flow Action}}]}
        flow: [{Delete Person}]
      - name: Unrelated
        smartList: {filters: [{Lead Score: {at least: 1}}]}
        flow: [{Delete Person}]
"""


def invoke(*args: str) -> Any:
    return runner.invoke(app, list(args))


@pytest.fixture
def url(database_url: str, tmp_path: Path) -> str:
    files = [write(tmp_path, "a.yaml", ACCOUNT_YAML), write(tmp_path, "d.yaml", DEFINITIONS)]
    result = invoke("apply", *map(str, files), "--db", database_url, "--force")
    assert result.exit_code == 0, result.output
    return database_url


def test_text_tree_with_levels_contexts_and_the_cycle(url: str) -> None:
    """VAL-7, EXE-7: a tree per root; execute one level down, request back to level 0."""
    result = invoke("graph", "--db", url)

    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].startswith("Top [trigger]") and " L0" in lines[0]
    assert "s1 execute (parent context) → E1 [executable]" in lines[1] and "L1" in lines[1]
    assert "s1 execute → E2 [executable]" in lines[2] and "L2" in lines[2]
    assert "→ E1 [executable]" in lines[3] and "!EXE_CYCLE" in lines[3]
    assert lines[3].endswith("↻ cycle")
    assert "s1.choices[1] execute (parent context) → Solo" in lines[4]
    assert "s2 request → Listener [trigger]" in lines[5] and lines[5].endswith("L0")
    assert len(lines) == 6
    assert "Unrelated" not in result.stdout


def test_json_lists_nodes_and_edges_from_one_campaign(url: str) -> None:
    """VAL-7: JSON nodes and edges; CAMPAIGN limits the graph to what it reaches."""
    result = invoke("graph", "E1", "--db", url, "--json")

    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert sorted(n["name"] for n in document["nodes"]) == ["E1", "E2"]
    assert [(e["caller"], e["target"], e["kind"], e["stepId"]) for e in document["edges"]] == [
        ("E1", "E2", "execute", "s1"),
        ("E2", "E1", "execute", "s1"),
    ]
    assert document["edges"][1]["findings"] == ["EXE_CYCLE"]
    assert document["roots"] == [n["id"] for n in document["nodes"] if n["name"] == "E1"]


def test_dot_and_svg_to_files(url: str, tmp_path: Path) -> None:
    """--format dot|svg --output FILE; the SVG is well-formed and needs no Graphviz."""
    dot_file, svg_file = tmp_path / "g.dot", tmp_path / "g.svg"

    dot = invoke("graph", "--format", "dot", "--output", str(dot_file), "--db", url)
    svg = invoke("graph", "--format", "svg", "--output", str(svg_file), "--db", url, "--json")

    assert dot.exit_code == 0 and svg.exit_code == 0, dot.output + svg.output
    text = dot_file.read_text(encoding="utf-8")
    assert text.startswith("digraph kampanj {") and "style=dashed" in text
    assert text.count(" -> ") == 5 and "EXE_CYCLE" in text
    assert json.loads(svg.stdout)["output"] == str(svg_file)
    root = ET.fromstring(svg_file.read_text(encoding="utf-8"))
    classes = [g.get("class") for g in root.iter("{http://www.w3.org/2000/svg}g")]
    assert classes.count("node") == 5
    assert classes.count("edge execute") == 4 and classes.count("edge request") == 1


@pytest.mark.skipif(shutil.which("dot") is None, reason="Graphviz `dot` is not installed")
def test_graphviz_accepts_the_dot_output(url: str) -> None:
    """The DOT text is valid Graphviz input (checked only where `dot` exists)."""
    result = invoke("graph", "--format", "dot", "--db", url)

    rendered = subprocess.run(
        ["dot", "-Tsvg"], input=result.stdout, capture_output=True, text=True, check=False
    )

    assert rendered.returncode == 0, rendered.stderr


def test_an_unknown_campaign_is_a_user_error(url: str) -> None:
    result = invoke("graph", "Nobody", "--db", url)

    assert result.exit_code == 1
    assert "no campaign named 'Nobody'" in result.output
