"""Per-person reference interpreter of flows with Execute Campaign and Remove from Flow.

Extends `engine_reference` (whose step rules it reuses) to a set of campaigns: for each
person in ascending id, the top campaign's steps run in order; an Execute Campaign step
checks depth, the child's filters (all must match; none = everyone) and its qualification
rule over the person's history with that child, writes Execute Campaign (901), then runs
the child's whole flow for that person before the caller's next step (EXE-6..11, EXE-21);
Remove from Flow aimed at a campaign on the person's call chain writes 903 and ends the
person's run at every level (EXE-18, FLOW-18/19). Deliberately plain and slow.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import engine_reference
from engine_reference import Condition, Outcome, Person, StepDef, apply_step, matches

MAX_DEPTH = 3  # EXE-14 default
SOURCE = engine_reference.SOURCE


@dataclass(frozen=True)
class CampaignDef:
    name: str
    flow: tuple[StepDef, ...]
    executable: bool = True
    filters: tuple[Condition, ...] = ()
    once: bool = False
    """Qualification rule ``once``; otherwise ``every time``."""


@dataclass
class _Run:
    campaigns: dict[str, CampaignDef]
    ids: dict[str, int]
    log: list[Any] = field(default_factory=list)
    history: set[tuple[str, int]] = field(default_factory=set)
    """(child name, person id) qualified so far (EXE-9)."""


@contextmanager
def _as_campaign(name: str) -> Iterator[None]:
    """engine_reference writes activities of campaign ``CAMPAIGN``: point it at ``name``."""
    saved = engine_reference.CAMPAIGN
    engine_reference.CAMPAIGN = name
    try:
        yield
    finally:
        engine_reference.CAMPAIGN = saved


def _key(
    person_id: int, type_id: int, primary: str, attributes: dict[str, Any]
) -> tuple[int, int, str | None, str]:
    present = {k: v for k, v in attributes.items() if v not in (None, "")}
    return person_id, type_id, primary, repr(sorted(present.items()))


def _params(step: StepDef, person: Person) -> dict[str, Any] | None:
    """The first matching choice's params, else the Default's; None for Do Nothing."""
    for choice in step.choices:
        if matches(choice.condition, person):
            return None if choice.do_nothing else {**step.params, **choice.params}
    return None if not step.params else dict(step.params)


def _flow(run: _Run, person: Person, chain: tuple[CampaignDef, ...]) -> bool:
    """The flow of ``chain[-1]`` for one person; True when the person left the run."""
    campaign = chain[-1]
    for step in campaign.flow:
        params = _params(step, person)
        if params is None:
            continue
        if step.type == "Execute Campaign":
            if _execute(run, person, chain, params):
                return True
        elif step.type == "Remove from Flow":
            if _remove(run, person, chain, params):
                return True
        else:
            with _as_campaign(campaign.name):
                apply_step(person, step.type, params, run.log)
    return False


def _execute(
    run: _Run, person: Person, chain: tuple[CampaignDef, ...], params: dict[str, Any]
) -> bool:
    caller = chain[-1]
    child = run.campaigns[params["campaign"]]
    depth = len(chain)
    context = bool(params.get("useParentContext", False))
    if depth > MAX_DEPTH:
        reason: str | None = "depth limit"
    elif not all(matches(c, person) for c in child.filters):
        reason = "smart list"
    elif child.once and (child.name, person.id) in run.history:
        reason = "qualification rule"
    else:
        reason = None
    run.log.append(
        _key(
            person.id,
            901,
            child.name,
            {
                "Campaign": caller.name,
                "Source": SOURCE,
                "Qualified": reason is None,
                "Reason": reason,
                "Parent Campaign ID": run.ids[caller.name],
                "Depth": depth,
                "Use Parent Token Context": context,
            },
        )
    )
    if reason is not None:
        return False
    run.history.add((child.name, person.id))
    return _flow(run, person, (*chain, child))


def _remove(
    run: _Run, person: Person, chain: tuple[CampaignDef, ...], params: dict[str, Any]
) -> bool:
    here = chain[-1]
    names = [here.name if t == "this" else t for t in params["campaigns"]]
    on_chain = [n for n in dict.fromkeys(names) if n in {c.name for c in chain}]
    if not on_chain:
        return False  # no other flow instances exist in this world: a no-op (FLOW-19)
    run.log.append(
        _key(
            person.id,
            903,
            on_chain[0],
            {
                "Campaign": here.name,
                "Reason": f"{here.name}: Remove from Flow",
                "Source": SOURCE,
                "Removed From": ",".join(str(run.ids[c.name]) for c in chain),
            },
        )
    )
    return True


def interpret_calls(
    people: list[Person],
    campaigns: dict[str, CampaignDef],
    top: str,
    ids: dict[str, int],
) -> tuple[Outcome, set[tuple[str, int]]]:
    """End state, activity multiset and (campaign, person) memberships after one run of
    ``top`` over ``people`` (all qualify for the top campaign)."""
    state = {p.id: replace(p, lists=set(p.lists)) for p in people}
    run = _Run(campaigns=campaigns, ids=ids)
    for person_id in sorted(state):
        _flow(run, state[person_id], (campaigns[top],))
    membership = {(top, p) for p in state} | run.history
    return Outcome(people=state, activities=Counter(run.log)), membership
