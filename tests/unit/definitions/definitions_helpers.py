"""Small builders shared by the definitions tests."""

from __future__ import annotations

import textwrap

from kampanj.definitions.findings import Finding
from kampanj.definitions.loader import LoadedDefinitions, load_text
from kampanj.definitions.validate import validate
from testsupport import ACCOUNT_YAML

HEADER = "\n" + ACCOUNT_YAML + "workspace: Default\n"


def lint(text: str, file: str = "defs.yaml") -> tuple[LoadedDefinitions, list[Finding]]:
    """Load ``text`` and validate it; returns the load result and all findings."""
    loaded = load_text(textwrap.dedent(text), file)
    findings = [*loaded.findings, *validate(loaded.definitions, sources=loaded.sources)]
    return loaded, findings


def program(campaigns: str, *, extra: str = "") -> str:
    """A file with HEADER, one program ``P`` and the given campaigns YAML (indented)."""
    body = textwrap.indent(textwrap.dedent(campaigns).strip("\n"), " " * 10)
    more = textwrap.indent(textwrap.dedent(extra).strip("\n"), " " * 8) if extra else ""
    return (
        HEADER
        + "folders:\n  - name: F\n    programs:\n      - name: P\n        channel: Webinar\n"
        + (more + "\n" if more else "")
        + "        campaigns:\n"
        + body
        + "\n"
    )


def codes(findings: list[Finding]) -> list[str]:
    return [f.code for f in findings]


def only(findings: list[Finding], code: str) -> list[Finding]:
    return [f for f in findings if f.code == code]
