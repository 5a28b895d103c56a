"""Which requests a campaign accepts (REQ-3..5): shared by the step, the request API and
the trigger dispatcher, with no engine imports."""

from __future__ import annotations

from kampanj.model.campaigns import Campaign
from kampanj.model.smartlists import SmartListRules
from kampanj.smartlist.catalogue import ANY_OPERATOR, match_key

REQUESTED_TRIGGER = "Campaign is Requested"
FLOW_ACTION = "Marketo Flow Action"
WEB_SERVICE_API = "Web Service API"
SALES_INSIGHT = "Sales Insight"
SOURCES = (FLOW_ACTION, WEB_SERVICE_API, SALES_INSIGHT)  # REQ-4

INACTIVE = "inactive"  # REQ-3
SOURCE_NOT_ACCEPTED = "source not accepted"  # REQ-3


def accepts_source(rules: SmartListRules, source: str) -> bool:
    """REQ-5: one of the *Campaign is Requested* triggers accepts ``source``."""
    for rule in rules.triggers:
        if match_key(rule.name) != match_key(REQUESTED_TRIGGER):
            continue
        constraint = next((c for c in rule.constraints if match_key(c.name) == "source"), None)
        if constraint is None or match_key(constraint.operator) == match_key(ANY_OPERATOR):
            return True
        wanted = {match_key(str(v)) for v in constraint.values}
        if match_key(constraint.operator) == "is" and match_key(source) in wanted:
            return True
    return False


def refusal(target: Campaign, source: str) -> str | None:
    """REQ-3: None when a request from ``source`` is accepted, else the reason."""
    if not target.active:
        return INACTIVE
    if not accepts_source(target.smart_list, source):
        return SOURCE_NOT_ACCEPTED
    return None
