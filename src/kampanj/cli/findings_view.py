"""Rendering definition findings for people and for scripts (VAL-2, VAL-6)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console

from kampanj.definitions.findings import Finding, Severity

_err = Console(stderr=True)


def print_findings(findings: Sequence[Finding], console: Console | None = None) -> None:
    """One line per finding: ``file:line: severity CODE message``."""
    out = console or _err
    for finding in findings:
        style = "red" if finding.severity is Severity.ERROR else "yellow"
        where = finding.where()
        prefix = f"{where}: " if where else ""
        out.print(
            f"{prefix}[{style}]{finding.severity.value}[/] [bold]{finding.code}[/] "
            f"{finding.message}",
            highlight=False,
            soft_wrap=True,
        )
