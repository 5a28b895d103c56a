"""Finding and reading the YAML files a user names."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.yaml_source import YamlDocument, load_yaml

__all__ = ["YAML_SUFFIXES", "read_yaml_files"]

YAML_SUFFIXES = (".yaml", ".yml")


def read_yaml_files(paths: Sequence[Path]) -> tuple[list[YamlDocument], list[Finding]]:
    """Documents of every file and directory (recursively, sorted), and read problems."""
    documents: list[YamlDocument] = []
    findings: list[Finding] = []
    for file in _yaml_files(paths, findings):
        try:
            text = file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            findings.append(
                Finding(
                    code="YAML_INVALID",
                    severity=Severity.ERROR,
                    message=f"cannot read {file}: {error}",
                    file=str(file),
                )
            )
            continue
        parsed = load_yaml(text, str(file))
        documents.extend(parsed.documents)
        findings.extend(parsed.findings)
    return documents, findings


def _yaml_files(paths: Sequence[Path], findings: list[Finding]) -> list[Path]:
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix in YAML_SUFFIXES)
            if not found:
                findings.append(_path_invalid(path, "is a directory without *.yaml or *.yml files"))
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            findings.append(_path_invalid(path, "does not exist"))
    return files


def _path_invalid(path: Path, problem: str) -> Finding:
    return Finding(
        code="PATH_INVALID",
        severity=Severity.ERROR,
        message=f"{path} {problem}; give YAML files or directories that hold them",
        file=str(path),
    )
