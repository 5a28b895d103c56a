"""Exported campaign YAML loads back into the same campaign (campaigns as code, CMP-24)."""

from __future__ import annotations

import textwrap
from dataclasses import replace
from pathlib import Path

import pytest
from definitions_helpers import lint

from kampanj.definitions.export import campaign_yaml
from kampanj.definitions.loader import load_paths, load_text
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign

EXAMPLES = Path(__file__).resolve().parents[3] / "examples" / "lead-lifecycle"

EVERY_FORM = """
fields:
  - {name: behaviorScore, displayName: Behavior Score, type: score}
  - {name: trail, displayName: Trail, type: string}
channels:
  - name: Webinar
    statuses: [Not in Program, Invited, {name: Attended, success: true}]
webhooks: [{name: Hook, url: 'https://hooks.example/x'}]
workspace: Default
folders:
  - name: F
    lists: [{name: L}]
    smartLists: [{name: S, filters: [{Lead Score: {at least: 1}}]}]
    programs:
      - name: P
        channel: Webinar
        campaigns:
          - name: Everything
            key: everything
            description: "all the forms: quotes ' and \\" and {{my.x}}"
            smartList:
              triggers:
                - Fills Out Form: {Form: is 11, Referrer URL: contains google}
                - Person is Created
              filters:
                - Lead Score: between 10 and 20
                - Country: {is: [Sweden, Norway]}
                - Unsubscribed: false
                - Email Address: is not empty
                - Visited Web Page:
                    Web Page: {contains: pricing}
                    Date of Activity: in past 7 days
                    Min. Number of Times: 3
                - Member of Program: {is: P, Program Status: is Attended}
                - Member of Smart List: {not in: [S]}
              logic: 1 and (2 or 3) and 4 and 5 and 6 and not 7
            flow:
              - Change Score: {scoreName: Behavior Score, change: "+10"}
              - id: branch
                Change Data Value:
                  attribute: Trail
                  newValue: "{{lead.Trail}}>x"
                  choices:
                    - {if: {Lead Score: {at least: 100}}, newValue: SQL}
                    - {if: {Country: is Sweden}, doNothing: true}
              - Add to List: L
              - Wait: {duration: 2 days, endOn: {weekdays: [Monday, Friday], at: "09:00"}}
              - Call Webhook: Hook
              - Remove from Flow: this
              - Delete Person
              - Change Program Status: {program: this program, newStatus: Invited, doNothing: true}
            schedule:
              qualification: {every: 2 weeks}
              maxMembers: 100
              communicationLimit: true
              priority: High
              expiresAt: 2026-12-31T00:00:00Z
          - name: Recurring
            smartList: {filters: [{Lead Score: {at least: 1}}], logic: any}
            flow: [{Add to List: L}]
            schedule:
              qualification: every time
              recurrence:
                startAt: "2026-03-02T02:00:00+01:00"
                intervalType: Monthly
                interval: 2
                endAt: 2026-12-31T00:00:00Z
                dayOfWeek: Monday
                weekOfMonth: 2
"""


def round_trip(campaign: Campaign, definitions: Definitions) -> Campaign:
    text = campaign_yaml(campaign, definitions.folders)
    loaded = load_text(
        text,
        "export.yaml",
        fields=definitions.fields,
        activity_types=definitions.activity_types,
    )
    assert not [f for f in loaded.findings if f.is_error], text
    (back,) = loaded.definitions.campaigns
    return back


def same(a: Campaign, b: Campaign) -> bool:
    return replace(a, active=False, id=None) == replace(b, active=False, id=None)


def test_every_form_round_trips() -> None:
    """Triggers, filters, logic, choices, ids, Wait endOn, schedule and recurrence."""
    loaded, findings = lint(textwrap.dedent(EVERY_FORM))
    assert not [f for f in findings if f.is_error], findings
    assert len(loaded.definitions.campaigns) == 2

    for campaign in loaded.definitions.campaigns:
        assert same(round_trip(campaign, loaded.definitions), campaign)


def test_the_example_campaigns_round_trip() -> None:
    loaded = load_paths([EXAMPLES])

    for campaign in loaded.definitions.campaigns:
        assert same(round_trip(campaign, loaded.definitions), campaign), campaign.name


def test_a_campaign_outside_any_folder_has_no_document() -> None:
    with pytest.raises(ValueError, match="not in a folder"):
        campaign_yaml(Campaign(workspace="Default", folder=(), name="Loose"), ())
