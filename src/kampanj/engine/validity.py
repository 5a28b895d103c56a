"""Is a campaign ``Invalid`` (CMP-3): the one rule the batch runner, the call-time guards
of Execute Campaign, the trigger index and ``explain campaign`` all use.

A campaign is Invalid when validation reports an error finding on its own smart list or
flow. Call-graph findings (EXE_CYCLE, EXE_DEPTH) do not count, and neither do findings
about other campaigns. The split between smart-list errors and the rest is the one
EXE-12 (``invalid smart list``) and EXE-13 (``invalid campaign``) need.
"""

from __future__ import annotations

from dataclasses import dataclass

from kampanj.definitions.findings import Severity
from kampanj.definitions.validate import validate
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign

NOT_COUNTED = frozenset({"EXE_CYCLE", "EXE_DEPTH"})  # CMP-3: call-graph findings
SMART_LIST_PREFIX = "smartList"


@dataclass(frozen=True, kw_only=True, slots=True)
class CampaignProblems:
    """A campaign's own error findings (CMP-3), split as EXE-12 / EXE-13 need them."""

    flow: tuple[str, ...] = ()
    """Errors outside the smart list: the campaign is ``invalid campaign`` (EXE-13)."""
    smart_list: tuple[str, ...] = ()
    """Errors in the smart list: ``invalid smart list`` (EXE-12)."""

    @property
    def messages(self) -> list[str]:
        """Every error, smart list first."""
        return [*self.smart_list, *self.flow]


def campaign_problems(definitions: Definitions) -> dict[int, CampaignProblems]:
    """Each Invalid campaign's own error findings, by campaign id (CMP-3)."""
    by_campaign: dict[int, tuple[list[str], list[str]]] = {}
    ids = {c.name: c.id for c in definitions.campaigns}
    for finding in validate(definitions):
        if finding.severity is not Severity.ERROR or finding.code in NOT_COUNTED:
            continue
        campaign_id = finding.campaign_id
        if campaign_id is None and finding.campaign is not None:
            campaign_id = ids.get(finding.campaign)
        if campaign_id is None:
            continue
        flow, smart = by_campaign.setdefault(campaign_id, ([], []))
        (smart if finding.location.startswith(SMART_LIST_PREFIX) else flow).append(finding.message)
    return {
        key: CampaignProblems(flow=tuple(flow), smart_list=tuple(smart))
        for key, (flow, smart) in by_campaign.items()
    }


def invalid_campaign_ids(definitions: Definitions) -> set[int]:
    """The ids of every Invalid campaign (CMP-3)."""
    return set(campaign_problems(definitions))


def problems_of(definitions: Definitions, campaign: Campaign) -> CampaignProblems:
    """One campaign's own error findings; empty when it is valid (CMP-3)."""
    assert campaign.id is not None
    return campaign_problems(definitions).get(campaign.id, CampaignProblems())
