"""Loading YAML into definitions with file and line positions (VAL-2)."""

from __future__ import annotations

from pathlib import Path

from definitions_helpers import codes, lint, only, program

from kampanj.definitions.loader import load_paths, load_text
from kampanj.model.campaigns import QualificationRuleType, StepType
from kampanj.model.smartlists import FilterMatchType
from kampanj.model.tree import FolderKind

THREE_MISTAKES = """\
workspace: Default
folders:
  - name: F
    lists: [{name: MQLs}]
    campaigns:
      - name: A
        smartList:
          filters:
            - Visited Web Pag: {Date of Activity: in past 7 days}
        flow:
          - Add to List: MQLs
      - name: B
        smartList:
          filters:
            - Email Address: is not empty
        flow:
          - Change Data Value: {attribute: Lead Status, newValue: x, colour: red}
      - name: C
        smartList:
          filters:
            - Email Address: is not empty
        flow:
          - Add to List: Missing List
"""


def test_three_mistakes_are_all_reported_with_their_lines() -> None:
    """VAL-1, VAL-2: every problem is reported, each with file and line."""
    _, findings = lint(THREE_MISTAKES, "three.yaml")
    errors = [f for f in findings if f.is_error]
    found = {(f.code, f.campaign, f.line) for f in errors}
    assert found == {
        ("SL_INVALID", "A", 9),
        ("STEP_PARAM_INVALID", "B", 17),
        ("REF_UNKNOWN", "C", 23),
    }
    assert all(f.file == "three.yaml" for f in errors)
    unknown_param = only(errors, "STEP_PARAM_INVALID")[0]
    assert "colour" in unknown_param.message and unknown_param.location == "flow.s1.colour"


def test_yaml_syntax_error_becomes_a_finding_with_its_line() -> None:
    """A syntax error is YAML_INVALID with file and line, not an exception."""
    loaded = load_text("workspace: Default\nfolders:\n  - name: [unclosed\n", "bad.yaml")
    assert codes(list(loaded.findings)) == ["YAML_INVALID"]
    assert loaded.findings[0].file == "bad.yaml" and loaded.findings[0].line == 4


def test_duplicate_mapping_keys_are_errors() -> None:
    loaded = load_text("settings:\n  timezone: UTC\n  timezone: Europe/Stockholm\n", "d.yaml")
    assert codes(list(loaded.findings)) == ["YAML_DUPLICATE_KEY"]
    assert loaded.findings[0].line == 3


def test_unknown_key_is_reported_and_the_rest_still_loads() -> None:
    text = program("- name: X\n  colour: red\n  executable: true\n")
    loaded, findings = lint(text)
    assert codes(only(findings, "UNKNOWN_KEY")) == ["UNKNOWN_KEY"]
    expected_line = text.splitlines().index("            colour: red") + 1
    assert only(findings, "UNKNOWN_KEY")[0].line == expected_line
    assert [c.name for c in loaded.definitions.campaigns] == ["X"]


def test_wrong_typed_value_is_type_invalid() -> None:
    _, findings = lint(program("- name: X\n  executable: maybe\n"))
    assert codes(findings) == ["TYPE_INVALID"]
    assert "executable" in findings[0].message


def test_the_readme_shape_converts_to_the_model() -> None:
    """SL-1, FLOW-1, FLOW-8: filters, logic, steps with aliases, choices and schedule."""
    loaded, findings = lint(
        program(
            """
            - name: Score
              key: score-key
              active: true
              smartList:
                triggers: [{Visits Web Page: {Web Page: {contains: pricing}}}]
                filters:
                  - Email Address: is not empty
                  - Lead Score: {at least: 50}
                  - Visited Web Page:
                      Web Page: {contains: pricing}
                      Date of Activity: in past 30 days
                      Min. Number of Times: 3
                logic: 1 and (2 or 3)
              flow:
                - Change Score: {Score Name: Behavior Score, change: "+5"}
                - Change Data Value:
                    attribute: Lead Status
                    New Value: MQL
                    choices:
                      - {if: {Lead Score: {at least: 100}}, newValue: SQL}
                      - {if: {Country: is Sweden}, doNothing: true}
                - id: final
                  Add to List: MQLs
              schedule: {qualification: {every: 2 weeks}, maxMembers: 10}
            """,
            extra="lists: [{name: MQLs}]",
        )
    )
    assert [f for f in findings if f.is_error] == []
    campaign = loaded.definitions.campaigns[0]
    assert campaign.key == "score-key" and campaign.folder == ("F", "P")
    rules = campaign.smart_list
    assert rules.match_type is FilterMatchType.ADVANCED
    assert rules.advanced_logic == "1 and (2 or 3)"
    assert rules.filters[0].operator == "is not empty" and rules.filters[0].values == ()
    assert rules.filters[1].values == (50,)
    activity = rules.filters[2]
    assert activity.primary is not None and activity.primary.name == "Webpage ID"
    assert [c.name for c in activity.constraints] == ["Date of Activity", "Min. Number of Times"]
    assert [s.id for s in campaign.flow] == ["s1", "s2", "final"]
    assert campaign.flow[0].params == {"scoreName": "Behavior Score", "change": "+5"}
    cdv = campaign.flow[1]
    assert cdv.type is StepType.CHANGE_DATA_VALUE and cdv.params["newValue"] == "MQL"
    assert cdv.choices[0].params == {"newValue": "SQL"} and cdv.choices[1].do_nothing
    assert campaign.schedule.qualification.type is QualificationRuleType.INTERVAL
    assert campaign.schedule.qualification.interval == 2
    folders = {f.path: f for f in loaded.definitions.folders}
    assert folders[("F", "P")].kind is FolderKind.PROGRAM
    assert loaded.sources.find(campaign, "flow.s2.choices[2].if") is not None


def test_string_form_picks_the_longest_operator_for_the_type() -> None:
    """The 'OPERATOR VALUE' form never reads 'is not empty' as 'is' + 'not empty'."""
    loaded, _ = lint(
        program(
            """
            - name: X
              smartList:
                filters:
                  - Email Address: is not empty
                  - Lead Score: between 10 and 20
                  - Country: is true
                  - Unsubscribed: is true
            """
        )
    )
    filters = loaded.definitions.campaigns[0].smart_list.filters
    assert [(f.operator, f.values) for f in filters] == [
        ("is not empty", ()),
        ("between", (10, 20)),
        ("is", ("true",)),
        ("is true", ()),
    ]


def test_unknown_step_is_reported_by_the_loader() -> None:
    """FLOW-24: a step name outside the table is STEP_UNSUPPORTED."""
    _, findings = lint(program("- name: X\n  flow:\n    - Sync Person to SFDC: {}\n"))
    assert codes(findings) == ["STEP_UNSUPPORTED"]
    assert findings[0].location == "flow.s1" and findings[0].campaign == "X"


def test_folder_declared_in_two_files(tmp_path: Path) -> None:
    """Contents merge; attributes declared twice are DUPLICATE_NAME, never merged."""
    (tmp_path / "a.yaml").write_text(
        "channels: [{name: C, statuses: [A]}]\n"
        "folders:\n  - name: F\n    programs:\n      - {name: P, channel: C}\n"
    )
    (tmp_path / "b.yaml").write_text(
        "folders:\n  - name: F\n    programs:\n      - name: P\n        lists: [{name: L}]\n"
    )
    loaded = load_paths([tmp_path])
    assert loaded.findings == ()
    assert [f.path for f in loaded.definitions.folders] == [("F",), ("F", "P")]
    assert loaded.definitions.static_lists[0].folder == ("F", "P")
    (tmp_path / "c.yaml").write_text(
        "folders:\n  - name: F\n    programs:\n      - {name: P, channel: C}\n"
    )
    again = load_paths([tmp_path])
    assert codes(list(again.findings)) == ["DUPLICATE_NAME"]
    assert again.findings[0].file == str(tmp_path / "c.yaml")


def test_unknown_key_lists_the_allowed_keys_and_the_closest() -> None:
    """VAL-2: an unknown key says which keys are allowed there, and the likely one."""
    _, findings = lint(
        program(
            """
            - name: X
              smartlist: {filters: [{Email Address: is not empty}]}
              schedule: {recurrence: {startAt: 2026-01-01, intervalType: Daily, intervall: 2}}
            """
        )
    )
    misspelt, nested = only(findings, "UNKNOWN_KEY")
    assert "unknown key 'smartlist'" in misspelt.message
    assert "did you mean 'smartList'?" in misspelt.message
    assert (
        "allowed keys: name, key, description, executable, active, smartList, flow, schedule"
        in (misspelt.message)
    )
    assert "did you mean 'interval'?" in nested.message
    assert "intervalType" in nested.message and "weekdayMask" in nested.message


def test_unknown_key_without_a_close_match_still_lists_the_keys() -> None:
    _, findings = lint("workspace: Default\nfolders:\n  - name: F\n    colour: red\n")
    (finding,) = only(findings, "UNKNOWN_KEY")
    assert "did you mean" not in finding.message
    assert "allowed keys: name, description, key, tokens, folders, programs" in finding.message


def test_a_nul_character_in_a_value_is_a_finding_with_its_line() -> None:
    """Text columns cannot hold NUL (PostgreSQL refuses it); lint says so before apply."""
    loaded, findings = lint('workspace: Default\nfolders:\n  - name: "Ops\\0"\n')
    (finding,) = findings
    assert (finding.code, finding.line, finding.column) == ("YAML_INVALID", 3, 11)
    assert [f.path for f in loaded.definitions.folders] == [("Ops",)]


def test_paths_that_hold_no_definitions_are_findings(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    loaded = load_paths([tmp_path / "missing.yaml", tmp_path / "empty"])
    messages = {f.file: f.message for f in only(list(loaded.findings), "PATH_INVALID")}
    assert "does not exist" in messages[str(tmp_path / "missing.yaml")]
    assert "without *.yaml or *.yml files" in messages[str(tmp_path / "empty")]
    assert len(loaded.findings) == 2
