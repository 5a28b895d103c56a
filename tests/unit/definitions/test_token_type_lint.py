"""TOKEN_TYPE_MISMATCH: token values lint can tell will not fit their step (FLOW-5, FLOW-6).

FLOW-5 validates token-bearing parameters only after resolution at run time; these are
warnings about what run time will refuse, never errors (VAL-3: warnings never block).
"""

from __future__ import annotations

from pathlib import Path

from definitions_helpers import HEADER, lint, only

from kampanj.definitions.findings import Finding, Severity
from kampanj.definitions.loader import load_paths
from kampanj.definitions.validate import validate

CODE = "TOKEN_TYPE_MISMATCH"
EXAMPLE = Path(__file__).resolve().parents[3] / "examples" / "lead-lifecycle"
FIELDS = """\
fields:
  - {name: mqlDate, displayName: MQL Date, type: date}
  - {name: mqlAt, displayName: MQL At, type: datetime}
  - {name: visits, displayName: Visits, type: integer}
  - {name: vip, displayName: VIP, type: boolean}
"""
TOKENS = """\
tokens:
  Bonus: {type: score, value: "+5"}
  Plain: {type: score, value: "5"}
  Note: {type: text, value: hello}
  Seven: {type: text, value: "7"}
  Half: {type: number, value: "3.5"}
  Day: {type: date, value: "2026-03-02"}
"""


def _flow(*steps: str, trigger: bool = False) -> list[Finding]:
    """Findings of one campaign ``X`` with the given flow steps (one YAML line each)."""
    smart_list = (
        "{triggers: [Visits Web Page]}" if trigger else "{filters: [{Email Address: is not empty}]}"
    )
    flow = "".join(f"          - {step}\n" for step in steps)
    text = (
        FIELDS
        + TOKENS
        + HEADER
        + "programs:\n  - name: P\n    campaigns:\n      - name: X\n"
        + f"        smartList: {smart_list}\n        flow:\n"
        + flow
    )
    _, findings = lint(text)
    return findings


def _warning(findings: list[Finding]) -> Finding:
    (finding,) = only(findings, CODE)
    assert finding.severity is Severity.WARNING and not finding.is_error
    assert finding.campaign == "X"
    return finding


def test_system_date_into_a_date_field_warns() -> None:
    """TOK-7, FLOW-14: {{system.date}} renders 'MMM dd, yyyy', which a date field refuses;
    the warning names the campaign, step, token and outcome, and says what to use."""
    finding = _warning(
        _flow('Change Data Value: {attribute: MQL Date, newValue: "{{system.date}}"}')
    )
    assert finding.location == "flow.s1.newValue" and finding.line is not None
    message = finding.message
    assert "Change Data Value (s1)" in message and "{{system.date}}" in message
    assert "'Aug 08, 2013'" in message and "INVALID_VALUE" in message
    assert "date My Token" in message and "{{system.dateTime}}" in message


def test_system_date_into_a_datetime_field_suggests_system_datetime() -> None:
    """TOK-7: {{system.dateTime}} fits a datetime field; {{system.date}} does not."""
    finding = _warning(_flow('Change Data Value: {attribute: MQL At, newValue: "{{system.date}}"}'))
    assert "Use {{system.dateTime}}" in finding.message
    fits = _flow(
        'Change Data Value: {attribute: MQL At, newValue: "{{system.dateTime}}"}',
        'Change Data Value: {attribute: MQL At, newValue: "{{my.Day}}"}',
        'Change Data Value: {attribute: Trail, newValue: "{{system.date}}"}',
    )
    assert only(fits, CODE) == []


def test_system_datetime_into_a_date_field_warns() -> None:
    """FLOW-14: a date field takes yyyy-MM-dd only, so even {{system.dateTime}} fails."""
    finding = _warning(
        _flow('Change Data Value: {attribute: MQL Date, newValue: "{{system.dateTime}}"}')
    )
    assert "make the field a datetime" in finding.message


def test_sign_before_a_signed_score_token_warns() -> None:
    """FLOW-16: '+' + '+5' is '++5', INVALID_CHANGE; the fix is the token alone."""
    finding = _warning(_flow('Change Score: {scoreName: Behavior Score, change: "+{{my.Bonus}}"}'))
    assert finding.location == "flow.s1.change"
    assert "'++5'" in finding.message and "INVALID_CHANGE" in finding.message
    assert "write the token alone ('{{my.Bonus}}')" in finding.message
    fits = _flow(
        'Change Score: {scoreName: Behavior Score, change: "+{{my.Plain}}"}',
        'Change Score: {scoreName: Behavior Score, change: "{{my.Bonus}}"}',
        'Change Score: {scoreName: Behavior Score, change: "={{my.Plain}}"}',
    )
    assert only(fits, CODE) == []


def test_text_token_into_a_score_change_is_judged_by_its_value() -> None:
    """TOK-10, FLOW-16: a text token's value is known, so 'hello' warns and '7' does not."""
    finding = _warning(_flow('Change Score: {scoreName: Behavior Score, change: "{{my.Note}}"}'))
    assert "a text token defined at account" in finding.message
    assert (
        only(_flow('Change Score: {scoreName: Behavior Score, change: "{{my.Seven}}"}'), CODE) == []
    )


def test_my_tokens_of_an_incompatible_type_warn() -> None:
    """TOK-10, FLOW-14: a date token into an integer field, a decimal number into an
    integer field and a date into a boolean warn; a score token into an integer fits."""
    findings = _flow(
        'Change Data Value: {attribute: Visits, newValue: "{{my.Day}}"}',
        'Change Data Value: {attribute: Visits, newValue: "{{my.Half}}"}',
        'Change Data Value: {attribute: VIP, newValue: "{{my.Day}}"}',
        'Change Data Value: {attribute: Visits, newValue: "{{my.Bonus}}"}',
        'Change Score: {scoreName: Behavior Score, change: "{{my.Half}}"}',
    )
    assert [f.location for f in only(findings, CODE)] == [
        "flow.s1.newValue",
        "flow.s2.newValue",
        "flow.s3.newValue",
        "flow.s5.change",
    ]


def test_typed_person_fields_warn_only_when_no_value_fits() -> None:
    """TOK-5: a datetime field never renders an integer, a boolean never a score change;
    an integer may be 0 or 1, so it may fit a boolean, and a text field may hold anything."""
    findings = _flow(
        'Change Data Value: {attribute: Visits, newValue: "{{lead.MQL At}}"}',
        'Change Score: {scoreName: Behavior Score, change: "{{lead.VIP}}"}',
        'Change Data Value: {attribute: VIP, newValue: "{{lead.Visits}}"}',
        'Change Data Value: {attribute: Visits, newValue: "{{lead.Trail}}"}',
        'Change Score: {scoreName: Behavior Score, change: "+{{lead.Visits}}"}',
        'Change Data Value: {attribute: Visits, newValue: "{{lead.MQL At:default=0}}"}',
    )
    assert [f.location for f in only(findings, CODE)] == ["flow.s1.newValue", "flow.s2.change"]


def test_unknowable_values_are_not_judged() -> None:
    """TOK-15 covers tokens that cannot resolve; trigger values are unknown before a run."""
    findings = _flow(
        'Change Score: {scoreName: Behavior Score, change: "{{my.Nope}}"}',
        'Change Data Value: {attribute: Visits, newValue: "{{trigger.Web Page}}"}',
        trigger=True,
    )
    assert only(findings, CODE) == []
    assert len(only(findings, "TOKEN_UNKNOWN")) == 1


def test_a_choice_with_another_field_is_checked_against_that_field() -> None:
    """FLOW-8/9: a choice that changes only the attribute inherits the new value."""
    findings = _flow(
        "Change Data Value: {attribute: MQL At, newValue: '{{system.dateTime}}', "
        "choices: [{if: {Lead Score: {at least: 1}}, attribute: Visits}]}"
    )
    assert _warning(findings).location == "flow.s1.choices[1].newValue"


def test_wait_date_token_and_offset() -> None:
    """WAIT-6: a token that is no date means nobody waits; a text offset is ignored."""
    findings = _flow(
        'Wait: {token: "{{system.date}}"}',
        'Wait: {token: "{{lead.MQL Date}}", offsetDays: "{{my.Note}}"}',
        'Wait: {token: "{{my.Day}}", offsetDays: "{{my.Bonus}}"}',
        trigger=True,
    )
    found = only(findings, CODE)
    assert [f.location for f in found] == ["flow.s1.token", "flow.s2.offsetDays"]
    assert "nobody waits" in found[0].message and "ignored" in found[1].message


def test_parent_context_values_come_from_the_callers() -> None:
    """TOK-21/22: a child called only with parent context uses its caller's value; a
    caller whose value does not fit is named in the warning."""
    text = (
        HEADER
        + """\
tokens:
  Bonus: {type: text, value: hello}
programs:
  - name: Good
    tokens: {Bonus: {type: score, value: "+5"}}
    campaigns:
      - name: Child
        executable: true
        flow:
          - Change Score: {scoreName: Behavior Score, change: "{{my.Bonus}}"}
      - name: Caller
        smartList: {filters: [{Email Address: is not empty}]}
        flow:
          - Execute Campaign: {campaign: Child, useParentContext: true}
"""
    )
    _, findings = lint(text)
    assert only(findings, CODE) == []
    moved = text.replace(
        "      - name: Caller\n",
        "  - name: Elsewhere\n    campaigns:\n      - name: Caller\n",
    )
    _, findings = lint(moved)
    (finding,) = only(findings, CODE)
    assert finding.campaign == "Child"
    assert "when called with parent context by 'Caller'" in finding.message
    assert "'hello'" in finding.message


def test_the_example_mistakes_found_at_run_time_are_warned_by_lint(tmp_path: Path) -> None:
    """The two run-time FLOW-6 errors of the lead-lifecycle example before its fix: MQL
    Date as a date field set from {{system.date}}, and '+{{my.Web Visit Points}}' with a
    token value of '+5'. The example as it is now lints clean."""
    loaded = load_paths([EXAMPLE])
    assert only(validate(loaded.definitions, sources=loaded.sources), CODE) == []
    edits = {
        "account.yaml": (
            "{name: mqlDate, displayName: MQL Date, type: datetime}",
            "{name: mqlDate, displayName: MQL Date, type: date}",
        ),
        "campaigns.yaml": ('"{{system.dateTime}}"', '"{{system.date}}"'),
    }
    for source in EXAMPLE.glob("*.yaml"):
        text = source.read_text(encoding="utf-8")
        old, new = edits.get(source.name, ("", ""))
        assert old in text
        text = text.replace(old, new) if old else text
        if source.name == "campaigns.yaml":
            old = 'change: "{{my.Web Visit Points}}"'
            assert old in text
            text = text.replace(old, 'change: "+{{my.Web Visit Points}}"')
        (tmp_path / source.name).write_text(text, encoding="utf-8")
    loaded = load_paths([tmp_path])
    found = only(validate(loaded.definitions, sources=loaded.sources), CODE)
    assert [(f.campaign, f.file is not None) for f in found] == [
        ("Promote to MQL", True),
        ("Promote to MQL", True),
    ]
    assert "{{system.date}}" in found[0].message and "'MQL Date' (date)" in found[0].message
    assert "write the token alone ('{{my.Web Visit Points}}')" in found[1].message
