"""The validator's finding catalogue (VAL-5), one rule per test."""

from __future__ import annotations

import pytest
from definitions_helpers import codes, lint, only, program

from kampanj.definitions.findings import Severity
from kampanj.definitions.validate import validate
from kampanj.model.account import Definitions
from kampanj.model.campaigns import Campaign, Step, StepType
from kampanj.model.smartlists import Rule, SmartListRules

ANY_FILTER = "smartList: {filters: [{Email Address: is not empty}]}"


def errors(text: str) -> list[str]:
    _, findings = lint(text)
    return [f.code for f in findings if f.is_error]


def test_logic_mixing_and_or_is_invalid() -> None:
    """SL-4, SL-5: '1 and 2 or 3' mixes and/or at one level."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList:
                filters:
                  - Email Address: is not empty
                  - Lead Score: {at least: 1}
                  - City: is Lund
                logic: 1 and 2 or 3
            """
        )
    )
    (finding,) = only(findings, "LOGIC_INVALID")
    assert "parentheses" in finding.message and finding.location == "smartList.logic"
    assert finding.line is not None


def test_logic_naming_a_missing_filter_and_leaving_others_out() -> None:
    """SL-5: filter 7 of 3, and filters 1-3 unreferenced."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList:
                filters:
                  - Email Address: is not empty
                  - Lead Score: {at least: 1}
                  - City: is Lund
                logic: "7"
            """
        )
    )
    messages = [f.message for f in only(findings, "LOGIC_INVALID")]
    assert any("filter 7 does not exist" in m for m in messages)
    assert any("1, 2, 3 is not used" in m for m in messages)


def test_few_filters_with_advanced_logic_warns() -> None:
    """SL-6: advanced logic below three filters is a warning."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList: {filters: [{Email Address: is not empty}], logic: "1"}
            """
        )
    )
    assert codes(findings) == ["LOGIC_FEW_FILTERS"]
    assert findings[0].severity is Severity.WARNING


def test_change_score_abc_is_step_param_invalid() -> None:
    """FLOW-5, FLOW-16: 'abc' is not a score change; the finding names campaign and step."""
    _, findings = lint(
        program(
            f"""
            - name: Scorer
              {ANY_FILTER}
              flow:
                - Change Score: {{scoreName: Behavior Score, change: "+5"}}
                - Change Score: {{scoreName: Behavior Score, change: abc}}
            """
        )
    )
    (finding,) = findings
    assert finding.code == "STEP_PARAM_INVALID"
    assert finding.campaign == "Scorer" and finding.location == "flow.s2.change"
    assert "abc" in finding.message and "s2" in finding.message


@pytest.mark.parametrize("change", ["+10", "-3", "7", "=5", "=+5", "=-5", " +2 ", "{{my.S}}"])
def test_score_change_grammar_accepts(change: str) -> None:
    """FLOW-16 grammar."""
    text = program(
        f"""
        - name: X
          {ANY_FILTER}
          flow: [{{Change Score: {{scoreName: Behavior Score, change: "{change}"}}}}]
        """,
        extra="tokens: {S: {type: score, value: '+1'}}",
    )
    assert errors(text) == []


def test_wait_4_hrs_is_unparseable() -> None:
    """WAIT-2: '4 hrs' is WAIT_UNPARSEABLE, never a silently skipped wait."""
    _, findings = lint(
        program(f"- name: X\n  {ANY_FILTER}\n  flow: [{{Wait: 4 hrs}}, {{Wait: 4 hours}}]\n")
    )
    assert codes(findings) == ["WAIT_UNPARSEABLE"]
    assert findings[0].location == "flow.s1.duration"


def test_token_in_choice_condition() -> None:
    """FLOW-10: a token in a choice condition is TOKEN_IN_CHOICE."""
    _, findings = lint(
        program(
            f"""
            - name: X
              {ANY_FILTER}
              flow:
                - Change Data Value:
                    attribute: Trail
                    newValue: a
                    choices: [{{if: {{City: "is {{{{my.City}}}}"}}, newValue: b}}]
            """
        )
    )
    (finding,) = only(findings, "TOKEN_IN_CHOICE")
    assert finding.location == "flow.s1.choices[1].if"


def test_unknown_token_family() -> None:
    """TOK-15: {{foo.x}} in a token-bearing parameter is an error naming step and param."""
    _, findings = lint(
        program(
            f"""
            - name: X
              {ANY_FILTER}
              flow: [{{Change Data Value: {{attribute: Trail, newValue: "{{{{foo.x}}}}"}}}}]
            """
        )
    )
    (finding,) = findings
    assert finding.code == "TOKEN_FAMILY_UNKNOWN" and finding.location == "flow.s1.newValue"


def test_unknown_my_token_and_lead_field_warn() -> None:
    """TOK-15: references that cannot resolve are TOKEN_UNKNOWN warnings."""
    _, findings = lint(
        program(
            f"""
            - name: X
              {ANY_FILTER}
              flow:
                - Change Data Value:
                    attribute: Trail
                    newValue: "{{{{my.Nope}}}} {{{{lead.Nope}}}}"
            """
        )
    )
    assert codes(findings) == ["TOKEN_UNKNOWN", "TOKEN_UNKNOWN"]
    assert all(f.severity is Severity.WARNING for f in findings)


def test_token_in_smart_list_warns() -> None:
    """SL-8: filter values are literal."""
    _, findings = lint(program("- name: X\n  smartList: {filters: [{City: 'is {{my.City}}'}]}\n"))
    assert codes(findings) == ["TOKEN_IN_SMART_LIST"]


def test_filter_on_unknown_field() -> None:
    """SL-9: an unknown filter or field."""
    _, findings = lint(program("- name: X\n  smartList: {filters: [{Favourite Colour: is red}]}\n"))
    (finding,) = findings
    assert finding.code == "SL_INVALID" and "unknown filter" in finding.message
    assert finding.location == "smartList.filters[1]"


def test_operator_unfit_for_the_type() -> None:
    """SL-13, SL-9: 'contains' does not fit a score field."""
    _, findings = lint(
        program("- name: X\n  smartList: {filters: [{Lead Score: {contains: '5'}}]}\n")
    )
    (finding,) = findings
    assert finding.code == "SL_INVALID" and "does not fit" in finding.message


def test_value_of_the_wrong_type() -> None:
    """SL-9: a non-number for a number field, a bad relative date."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList:
                filters:
                  - Lead Score: {at least: lots}
                  - Visited Web Page: {Date of Activity: in past 4 hrs}
            """
        )
    )
    assert codes(findings) == ["SL_INVALID", "SL_INVALID"]
    assert {f.location for f in findings} == {
        "smartList.filters[1]",
        "smartList.filters[2].Date of Activity",
    }


def test_trigger_only_constraints_and_unknown_triggers() -> None:
    """SL-21, SL-26: Min. Number of Times is filter-only; unknown triggers are SL_INVALID."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList:
                triggers:
                  - Visits Web Page: {Min. Number of Times: 2}
                  - Visited Web Page: {}
            """
        )
    )
    assert codes(findings) == ["SL_INVALID", "SL_INVALID"]
    assert "filters only" in findings[0].message and "is a filter" in findings[1].message


def test_dangling_references_and_cross_workspace() -> None:
    """WS-2, VAL-5: REF_UNKNOWN for missing lists, XWS_REF for another workspace's list."""
    text = program(
        """
        - name: X
          smartList: {filters: [{Member of List: in Nowhere}]}
          flow: [{Add to List: Theirs}]
        """
    )
    text += "---\nworkspace: Other\nfolders:\n  - name: G\n    lists: [{name: Theirs}]\n"
    _, findings = lint(text)
    assert codes(findings) == ["REF_UNKNOWN", "XWS_REF"]


def test_member_of_smart_list_cycle() -> None:
    """SL-9, SL-10: a Member of Smart List cycle makes every list on it invalid."""
    _, findings = lint(
        program(
            "- name: X\n  smartList: {filters: [{Member of Smart List: in A}]}\n",
            extra="""
            smartLists:
              - {name: A, filters: [{Member of Smart List: in B}]}
              - {name: B, filters: [{Member of Smart List: in A}]}
            """,
        )
    )
    messages = [f.message for f in only(findings, "SL_INVALID")]
    assert any("cycle" in m and "A → B → A" in m for m in messages)
    assert any("uses invalid smart list 'A'" in m for m in messages)


def test_executable_restrictions() -> None:
    """EXE-3: triggers, Wait and Call Webhook are errors in executables."""
    _, findings = lint(
        program(
            """
            - name: Child
              executable: true
              smartList: {triggers: [{Fills Out Form: {Form: is 11}}]}
              flow: [{Wait: 1 day}, {Call Webhook: Hook}]
            """
        ).replace(
            "workspace: Default",
            "webhooks: [{name: Hook, url: 'https://x.example'}]\nworkspace: Default",
        )
    )
    assert sorted(codes(findings)) == ["EXE_TRIGGER", "EXE_WAIT", "EXE_WEBHOOK"]


def test_webhook_in_batch() -> None:
    """HOOK-2: Call Webhook in a batch campaign is HOOK_BATCH."""
    text = program(f"- name: B\n  {ANY_FILTER}\n  flow: [{{Call Webhook: Hook}}]\n")
    text = text.replace(
        "workspace: Default", "webhooks: [{name: Hook, url: 'u'}]\nworkspace: Default"
    )
    assert errors(text) == ["HOOK_BATCH"]


def test_execute_target_must_be_executable() -> None:
    """EXE-5: unknown or non-executable targets are EXE_TARGET."""
    _, findings = lint(
        program(
            f"""
            - name: Caller
              {ANY_FILTER}
              flow: [{{Execute Campaign: Batchy}}, {{Execute Campaign: Ghost}}]
            - name: Batchy
              {ANY_FILTER}
            """
        )
    )
    assert codes(findings) == ["EXE_TARGET", "EXE_TARGET"]


def test_execute_cycle() -> None:
    """EXE-15: a cycle in the Execute Campaign graph, self-calls included."""
    _, findings = lint(
        program(
            """
            - {name: A, executable: true, flow: [{Execute Campaign: B}]}
            - {name: B, executable: true, flow: [{Execute Campaign: A}]}
            - {name: Self, executable: true, flow: [{Execute Campaign: Self}]}
            """
        )
    )
    cycles = only(findings, "EXE_CYCLE")
    assert len(cycles) == 2
    assert any("A → B → A" in f.message for f in cycles)
    assert any("Self → Self" in f.message for f in cycles)


def test_execute_depth_four_levels() -> None:
    """EXE-15, WX-2: T > E1 > E2 > E3 > E4 is deeper than maxExecuteDepth 3."""
    _, findings = lint(
        program(
            """
            - name: T
              smartList: {triggers: [{Fills Out Form: {Form: is 20}}]}
              flow: [{Execute Campaign: E1}]
            - {name: E1, executable: true, flow: [{Execute Campaign: E2}]}
            - {name: E2, executable: true, flow: [{Execute Campaign: E3}]}
            - name: E3
              executable: true
              flow:
                - Change Score: {scoreName: Behavior Score, change: "1"}
                - Execute Campaign: E4
            - {name: E4, executable: true}
            """
        )
    )
    (finding,) = only(findings, "EXE_DEPTH")
    assert finding.campaign == "T" and finding.location == "flow.s2"
    assert "T → E1 → E2 → E3 → E4" in finding.message


def test_execute_depth_reports_campaign_ids_as_path() -> None:
    """VAL-2: with stored ids the finding carries the path of campaign ids."""

    def campaign(name: str, cid: int, target: str | None, *, executable: bool = True) -> Campaign:
        flow = (Step(id="s1", type=StepType.EXECUTE_CAMPAIGN, params={"campaign": target}),)
        return Campaign(
            workspace="Default",
            folder=(),
            name=name,
            id=cid,
            executable=executable,
            flow=flow if target else (),
            smart_list=SmartListRules()
            if executable
            else SmartListRules(triggers=(Rule(name="Fills Out Form"),)),
        )

    definitions = Definitions(
        campaigns=(
            campaign("T", 300, "E1", executable=False),
            campaign("E1", 301, "E2"),
            campaign("E2", 302, "E3"),
            campaign("E3", 303, "E4"),
            campaign("E4", 304, None),
        )
    )
    (finding,) = [f for f in validate(definitions) if f.code == "EXE_DEPTH"]
    assert finding.path == (300, 301, 302, 303, 304) and finding.campaign_id == 300


def test_request_target_must_be_a_requested_campaign() -> None:
    """REQ-1: Request Campaign needs a trigger campaign with Campaign is Requested."""
    _, findings = lint(
        program(
            f"""
            - name: Caller
              {ANY_FILTER}
              flow: [{{Request Campaign: Batchy}}, {{Request Campaign: Listener}}]
            - name: Batchy
              {ANY_FILTER}
            - name: Listener
              active: true
              smartList: {{triggers: [{{Campaign is Requested: {{Source: is Web Service API}}}}]}}
              flow: [{{Add to List: L}}]
            """,
            extra="lists: [{name: L}]",
        )
    )
    assert codes(findings) == ["REQ_TARGET_INVALID", "REQ_SOURCE"]


def test_program_status_must_belong_to_the_channel() -> None:
    """FLOW-20: the new status must be one of the program channel's statuses."""
    _, findings = lint(
        program(
            f"""
            - name: X
              {ANY_FILTER}
              flow:
                - Change Program Status: {{program: P, newStatus: Attended}}
                - Change Program Status: {{program: P, newStatus: Registered}}
            """
        )
    )
    (finding,) = findings
    assert finding.code == "REF_UNKNOWN" and finding.location == "flow.s2.newStatus"


def test_duplicate_names_and_keys() -> None:
    """CMP-1: campaigns per folder; lists per workspace; keys per kind."""
    _, findings = lint(
        program(
            """
            - {name: Same, key: k1}
            - {name: same, key: k1}
            """,
            extra="lists: [{name: L}, {name: l}]",
        )
    )
    assert sorted(codes(findings)) == ["DUPLICATE_KEY", "DUPLICATE_NAME", "DUPLICATE_NAME"]
    duplicates = {f.line for f in only(findings, "DUPLICATE_NAME")}
    assert len(duplicates) == 2


def test_custom_fields_and_my_tokens() -> None:
    """GEN-10, TOK-10: field names per FIELD_NAME_PATTERN; token values per type."""
    text = program("- name: X\n", extra="tokens: {Score: {type: score, value: lots}}")
    text = text.replace(
        "fields:\n", "fields:\n  - {name: 2bad, type: string}\n  - {name: email, type: string}\n"
    )
    assert sorted(errors(text)) == ["DUPLICATE_NAME", "FIELD_INVALID", "TOKEN_INVALID"]


def test_step_kind_and_unknown_param() -> None:
    """FLOW-24: unknown params are STEP_PARAM_INVALID; required params are required."""
    _, findings = lint(
        program(f"- name: X\n  {ANY_FILTER}\n  flow: [{{Change Data Value: {{newValu: x}}}}]\n")
    )
    assert codes(findings) == ["STEP_PARAM_INVALID", "STEP_PARAM_INVALID", "STEP_PARAM_INVALID"]
    assert any("did you mean 'newValue'" in f.message for f in findings)


def test_findings_are_sorted_by_line() -> None:
    """VAL-2: findings come in file and line order."""
    _, findings = lint(
        program(
            """
            - name: X
              smartList: {filters: [{Nope: is 1}, {Lead Score: {at least: x}}]}
              flow: [{Wait: soon}]
            """
        )
    )
    lines = [f.line or 0 for f in findings]
    assert lines == sorted(lines) and len(findings) == 3


@pytest.mark.parametrize(
    ("attribute", "value", "reason"),
    [
        ("Trail", "x" * 256, "at most 255 are allowed"),
        ("Lead Score", "1.5", "is not an integer"),
        ("Behavior Score", "3000000000", "outside the score range"),
        ("Unsubscribed", "maybe", "is not a boolean"),
    ],
)
def test_change_data_value_literals_convert_like_an_import(
    attribute: str, value: str, reason: str
) -> None:
    """FLOW-14: lint refuses exactly the values an import would refuse, with its reason."""
    _, findings = lint(
        program(
            f"""
            - name: X
              {ANY_FILTER}
              flow:
                - Change Data Value: {{attribute: {attribute}, newValue: "{value}"}}
            """
        )
    )
    (finding,) = only(findings, "STEP_PARAM_INVALID")
    assert reason in finding.message and "(FLOW-14)" in finding.message
