"""Rendering definition findings for people and for scripts (VAL-2, VAL-6)."""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape

from kampanj.definitions.findings import Finding, Severity

_err = Console(stderr=True)


def _parts(finding: Finding) -> tuple[str, str]:
    """(``file:line:col: `` or "", ``Campaign (location): message``)."""
    where = finding.where()
    subject = finding.campaign or ""
    if finding.location:
        subject = f"{subject} ({finding.location})" if subject else finding.location
    text = f"{subject}: {finding.message}" if subject else finding.message
    return (f"{where}: " if where else ""), text


def finding_line(finding: Finding) -> str:
    """``file:line:col: severity CODE Campaign (location): message``, without markup.

    Campaign and location are left out when the finding has none.
    """
    prefix, text = _parts(finding)
    return f"{prefix}{finding.severity.value} {finding.code} {text}"


def print_findings(findings: Sequence[Finding], console: Console | None = None) -> None:
    """One line per finding (`finding_line`), severity and code highlighted."""
    out = console or _err
    for finding in findings:
        style = "red" if finding.severity is Severity.ERROR else "yellow"
        prefix, text = _parts(finding)
        out.print(
            f"{escape(prefix)}[{style}]{finding.severity.value}[/] [bold]{finding.code}[/] "
            f"{escape(text)}",
            highlight=False,
            soft_wrap=True,
        )
