"""Call-graph findings: depth boundaries, uncalled executables, invalid children, request cycles
(EXE-15, EXE-24, REQ-13)."""

from __future__ import annotations

from definitions_helpers import codes, lint, only, program

TRIGGER = "smartList: {triggers: [{Fills Out Form: {Form: is 20}}]}"


def chain(names: list[str]) -> str:
    """Executables calling each other in order; the last one deletes the person."""
    lines = []
    for name, target in zip(names, [*names[1:], None], strict=True):
        flow = f"{{Execute Campaign: {target}}}" if target else "{Delete Person}"
        lines.append(f"- {{name: {name}, executable: true, flow: [{flow}]}}")
    return "\n".join(lines)


def test_three_levels_below_a_top_campaign_are_allowed() -> None:
    """EXE-15, WX-2 step 2: T > E1 > E2 > E3 is exactly maxExecuteDepth."""
    text = f"- name: T\n  {TRIGGER}\n  flow: [{{Execute Campaign: E1}}]\n" + chain(
        ["E1", "E2", "E3"]
    )

    _, findings = lint(program(text))

    assert not [f for f in findings if f.is_error], findings


def test_executables_nobody_calls_count_from_level_one() -> None:
    """EXE-15: E1 > E2 > E3 fits (E3 at level 3); E1 > … > E4 can never run fully."""
    _, fits = lint(program(chain(["E1", "E2", "E3"])))
    _, deep = lint(program(chain(["E1", "E2", "E3", "E4"])))

    assert "EXE_DEPTH" not in codes(fits)
    (finding,) = only(deep, "EXE_DEPTH")
    assert finding.campaign == "E1" and "level 4" in finding.message
    assert "E1 is executable" in finding.message


def test_a_called_chain_is_reported_once_from_its_top() -> None:
    """EXE-15: the caller is the top; the executables below it are not tops themselves."""
    text = f"- name: T\n  {TRIGGER}\n  flow: [{{Execute Campaign: E1}}]\n" + chain(
        ["E1", "E2", "E3", "E4"]
    )

    _, findings = lint(program(text))

    assert [f.campaign for f in only(findings, "EXE_DEPTH")] == ["T"]


def test_depth_follows_calls_in_choices() -> None:
    """EXE-15: a choice that executes a chain is a path of its own."""
    text = (
        f"- name: Top\n  {TRIGGER}\n  flow: [{{Execute Campaign: T}}]\n"
        "- name: T\n  executable: true\n  flow:\n    - Execute Campaign:\n"
        "        campaign: E3\n"
        "        choices: [{if: {Lead Score: {at least: 1}}, campaign: E1}]\n"
        + chain(["E1", "E2", "E3"])
    )

    _, findings = lint(program(text))
    _, without_choice = lint(program(text.replace("campaign: E1}", "doNothing: true}")))

    (finding,) = only(findings, "EXE_DEPTH")
    assert "Top → T → E1 → E2 → E3" in finding.message
    assert not only(without_choice, "EXE_DEPTH")


def test_invalid_child_warned_below_an_uncalled_executable() -> None:
    """EXE-24: every reachable child, also below an executable nothing calls yet."""
    text = (
        "- {name: Parent, executable: true, flow: [{Execute Campaign: Broken}]}\n"
        "- name: Broken\n  executable: true\n"
        "  smartList: {filters: [{No Such Filter: is 1}]}\n  flow: [{Delete Person}]\n"
    )

    _, findings = lint(program(text))

    (warning,) = only(findings, "CHILD_SMART_LIST_INVALID")
    assert warning.campaign == "Parent" and not warning.is_error


def test_request_cycles_warn_but_do_not_fail() -> None:
    """REQ-13: Request Campaign edges forming a cycle are REQ_CYCLE warnings."""
    listener = (
        "  active: true\n"
        "  smartList: {triggers: [{Campaign is Requested: {Source: is Marketo Flow Action}}]}\n"
    )
    text = (
        f"- name: A\n{listener}  flow: [{{Request Campaign: B}}]\n"
        f"- name: B\n{listener}  flow: [{{Request Campaign: A}}]\n"
    )

    _, findings = lint(program(text))

    (cycle,) = only(findings, "REQ_CYCLE")
    assert not cycle.is_error and "A → B → A" in cycle.message
    assert not [f for f in findings if f.is_error]


def test_a_child_using_an_invalid_stand_alone_smart_list_is_warned() -> None:
    """EXE-12, SL-10, EXE-24: Member of Smart List of an invalid list makes the child invalid."""
    text = (
        f"- name: T\n  {TRIGGER}\n  flow: [{{Execute Campaign: Child}}]\n"
        "- name: Child\n  executable: true\n"
        "  smartList: {filters: [{Member of Smart List: {in: [Bad]}}]}\n"
        "  flow: [{Delete Person}]\n"
    )

    _, findings = lint(program(text, extra="smartLists: [{name: Bad, filters: [{Nope: is 1}]}]"))

    (warning,) = only(findings, "CHILD_SMART_LIST_INVALID")
    assert warning.campaign == "T" and "'Child'" in warning.message
