"""The call graph the validator builds and the walks every renderer uses (VAL-7, EXE-15)."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from kampanj.cli.graph_formats import to_dot, to_json, to_text
from kampanj.cli.graph_svg import to_svg
from kampanj.definitions.validate import validate_with_graph
from kampanj.model.account import Definitions
from kampanj.model.call_graph import CallGraph, CallKind
from kampanj.model.campaigns import Campaign, Choice, Step, StepType
from kampanj.model.smartlists import Rule, SmartListRules

REQUESTED = SmartListRules(triggers=(Rule(name="Campaign is Requested"),))
FORM = SmartListRules(triggers=(Rule(name="Fills Out Form"),))


def call(step_id: str, target: str, **params: object) -> Step:
    return Step(
        id=step_id,
        type=StepType.EXECUTE_CAMPAIGN,
        params={"campaign": target, **params},  # type: ignore[dict-item]
    )


def campaign(
    name: str, *steps: Step, executable: bool = True, rules: SmartListRules | None = None
) -> Campaign:
    return Campaign(
        workspace="Default",
        folder=(),
        name=name,
        id=len(name) * 10 + ord(name[0]),
        executable=executable,
        flow=steps,
        smart_list=rules or SmartListRules(),
    )


def graph_of(*campaigns: Campaign) -> CallGraph:
    _, graph = validate_with_graph(Definitions(campaigns=campaigns))
    return graph


def index(graph: CallGraph, name: str) -> int:
    (node,) = [n for n in graph.nodes if n.name == name]
    return node.index


def test_edges_carry_kind_step_context_and_choices() -> None:
    """EXE-5, REQ-1: one edge per call, choices included, with useParentContext."""
    choice = Choice(
        condition=Rule(name="Lead Score", operator="at least", values=(10,)),
        params={"campaign": "B"},
    )
    top = Campaign(
        workspace="Default",
        folder=(),
        name="Top",
        smart_list=FORM,
        flow=(
            Step(
                id="s1",
                type=StepType.EXECUTE_CAMPAIGN,
                params={"campaign": "A", "useParentContext": True},
                choices=(choice,),
            ),
            Step(id="s2", type=StepType.REQUEST_CAMPAIGN, params={"campaign": "Listener"}),
        ),
    )
    graph = graph_of(
        top,
        campaign("A"),
        campaign("B"),
        campaign("Listener", executable=False, rules=REQUESTED),
    )

    described = [
        (e.kind, graph.nodes[e.target].name, e.step_id, e.location, e.use_parent_context)
        for e in graph.outgoing(index(graph, "Top"))
    ]
    assert described == [
        (CallKind.EXECUTE, "A", "s1", "flow.s1", True),
        (CallKind.EXECUTE, "B", "s1", "flow.s1.choices[1]", True),
        (CallKind.REQUEST, "Listener", "s2", "flow.s2", False),
    ]
    assert graph.roots() == [index(graph, "Top")]


def test_findings_are_marked_on_the_calls_that_carry_them() -> None:
    """EXE-15, EXE-24, EXE-5: cycle, depth, invalid child and invalid target on edges."""
    broken = Campaign(
        workspace="Default",
        folder=(),
        name="Broken",
        executable=True,
        smart_list=SmartListRules(filters=(Rule(name="No Such Filter"),)),
    )
    graph = graph_of(
        campaign(
            "T",
            call("s1", "E1"),
            call("s2", "Broken"),
            call("s3", "Plain"),
            executable=False,
            rules=FORM,
        ),
        campaign("E1", call("s1", "E2")),
        campaign("E2", call("s1", "E3")),
        campaign("E3", call("s1", "E4"), call("s2", "E1")),
        campaign("E4"),
        broken,
        campaign("Plain", executable=False),
    )

    marks = {(graph.nodes[e.caller].name, e.step_id): (e.findings, e.valid) for e in graph.edges}
    assert marks[("E3", "s1")] == (("EXE_DEPTH",), True)
    assert marks[("E3", "s2")] == (("EXE_CYCLE",), True)
    assert marks[("T", "s2")] == (("CHILD_SMART_LIST_INVALID",), True)
    assert marks[("T", "s3")] == (("EXE_TARGET",), False)
    assert marks[("T", "s1")] == ((), True)


def test_a_cycle_nobody_calls_still_gets_a_root_and_terminates() -> None:
    """A forced write may store A → B → A; every walk ends and shows the cycle."""
    graph = graph_of(campaign("A", call("s1", "B")), campaign("B", call("s1", "A")))

    roots = graph.roots()

    assert roots == [index(graph, "A")]
    text = to_text(graph, roots)
    assert text[-1].endswith("↻ cycle") and len(text) == 3
    layers = graph.layers(roots)
    assert layers == {index(graph, "A"): 0, index(graph, "B"): 1}
    assert "c1 -> c0" in to_dot(graph, roots)
    assert len(to_json(graph, roots)["edges"]) == 2
    ET.fromstring(to_svg(graph, roots))  # well-formed


def test_text_tree_levels_and_repeated_subtrees() -> None:
    """EXE-7: a child is one level below its caller; a shared child is expanded once."""
    graph = graph_of(
        campaign("Top", call("s1", "Mid"), call("s2", "Mid"), executable=False, rules=FORM),
        campaign("Mid", call("s1", "Leaf")),
        campaign("Leaf"),
    )

    lines = to_text(graph, graph.roots())

    assert lines[0].startswith("Top [trigger]") and lines[0].split()[3] == "L0"
    assert "→ Mid [executable]" in lines[1] and lines[1].endswith("L1")
    assert "→ Leaf [executable]" in lines[2] and lines[2].endswith("L2")
    assert lines[3].endswith("(calls shown above)")
    assert len(lines) == 4


def test_svg_draws_every_campaign_and_call_once() -> None:
    """VAL-7: one node group per campaign, one edge group per call, names escaped."""
    graph = graph_of(
        campaign("A & <B>", call("s1", "Kid"), call("s2", "Kid"), executable=False, rules=FORM),
        campaign("Kid", call("s1", "Kid")),
    )

    root = ET.fromstring(to_svg(graph, graph.roots()))

    namespace = "{http://www.w3.org/2000/svg}"
    groups = root.iter(f"{namespace}g")
    classes = [g.get("class", "") for g in groups]
    assert classes.count("node") == 2
    assert classes.count("edge execute") == 3
    texts = "".join(root.itertext())
    assert "A & <B>" in texts and "EXE_CYCLE" in texts
