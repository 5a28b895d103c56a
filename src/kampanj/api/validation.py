"""Definition writes through the API are validated like `kampanj apply` (VAL-1, VAL-3)."""

from __future__ import annotations

from kampanj.api.envelope import BUSINESS_RULE, ApiError
from kampanj.definitions.findings import Finding
from kampanj.definitions.validate import validate
from kampanj.model.account import Definitions


def _error_key(finding: Finding) -> tuple[str, int | None, str]:
    return finding.code, finding.campaign_id, finding.location


def refuse_new_errors(before: Definitions, after: Definitions) -> None:
    """709 naming the first error finding ``after`` has and ``before`` had not (VAL-3)."""
    known = {_error_key(f) for f in validate(before) if f.is_error}
    added = [f for f in validate(after) if f.is_error and _error_key(f) not in known]
    if added:
        first = added[0]
        where = f" at {first.location}" if first.location else ""
        raise ApiError(BUSINESS_RULE, f"{first.code}{where}: {first.message}")


def graph_errors(definitions: Definitions, campaign_id: int) -> list[Finding]:
    """Error findings of the campaign and of its call graph (VAL-3: activation, scheduling)."""
    return [
        f
        for f in validate(definitions)
        if f.is_error and (f.campaign_id == campaign_id or (f.path and f.path[0] == campaign_id))
    ]
