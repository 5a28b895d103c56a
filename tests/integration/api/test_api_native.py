"""The native API under /kampanj/v1 (NAT-1): runs, trace, abort, explain, lint, apply, ledger."""

from __future__ import annotations

from apisupport import Api, error_code

from kampanj.api.users import Role
from kampanj.engine.tick import tick

NATIVE = "/kampanj/v1"


def _run(api: Api) -> tuple[int, int]:
    """A completed batch run of Nightly over one person; returns (run id, person id)."""
    (lead,) = api.post(
        "/rest/v1/leads.json", {"input": [{"email": "a@example.com", "leadScore": 5}]}
    )["result"]
    nightly = api.ids("campaign")["Nightly"]
    api.post(f"/rest/v1/campaigns/{nightly}/schedule.json")
    api.clock.set(api.clock.now().replace(minute=5))
    tick(api.database, api.clock)
    (run,) = api.get(f"{NATIVE}/runs")["result"]
    return run["runId"], lead["id"]


def test_runs_run_and_trace(api: Api) -> None:
    """NAT-1: GET /runs, /runs/{id}, /runs/{id}/trace?person= (GEN-6, PROV-3)."""
    run_id, person = _run(api)
    (result,) = api.get(f"{NATIVE}/runs/{run_id}")["result"]
    assert result["status"] == "completed" and result["qualified"] == 1
    assert result["campaignId"] == api.ids("campaign")["Nightly"]
    (step_result,) = result["steps"].values()  # per-step counts (GEN-6)
    assert step_result["executed"] == 1 and step_result["errors"] == 0
    (trace,) = api.get(f"{NATIVE}/runs/{run_id}/trace", person=person)["result"]
    assert (trace["runId"], trace["personId"]) == (run_id, person)
    (step,) = trace["trace"]["steps"]
    assert step["type"] == "Change Score" and step["activities"]
    assert error_code(api.get(f"{NATIVE}/runs/999")) == "1013"
    assert error_code(api.get(f"{NATIVE}/runs/{run_id}/trace")) == "701"
    emea = api.token("emea", Role.READ_ONLY, ("EMEA",))
    assert error_code(api.get(f"{NATIVE}/runs/{run_id}", token=emea)) == "603"
    assert api.get(f"{NATIVE}/runs", token=emea)["result"] == []


def test_abort_finished_run_is_refused(api: Api) -> None:
    """CMP-29: only unfinished runs are aborted (1003); needs execute_campaign (603)."""
    run_id, _ = _run(api)
    assert error_code(api.post(f"{NATIVE}/runs/{run_id}/abort")) == "1003"
    writer = api.token("writer", Role.READ_WRITE)
    assert error_code(api.post(f"{NATIVE}/runs/{run_id}/abort", token=writer)) == "603"


def test_explain(api: Api) -> None:
    """EXPL-1: the verdict for a person and a campaign, without side effects."""
    (lead,) = api.post(
        "/rest/v1/leads.json", {"input": [{"email": "a@example.com", "leadScore": 5}]}
    )["result"]
    nightly = api.ids("campaign")["Nightly"]
    (answer,) = api.post(f"{NATIVE}/explain", {"campaign": nightly, "person": lead["id"]})["result"]
    assert answer["qualifies"] is True
    assert error_code(api.post(f"{NATIVE}/explain", {"campaign": 999, "person": 1})) == "1013"
    assert error_code(api.post(f"{NATIVE}/explain", {"campaign": "x"})) == "1003"


LIST_YAML = """\
workspace: Default
folders:
  - name: Marketing
    lists:
      - name: Newcomers
"""

BROKEN_YAML = """\
workspace: Default
folders:
  - name: Marketing
    campaigns:
      - name: Broken
        smartList:
          filters:
            - Lead Score: {at least: 0}
        flow:
          - Add to List: {list: No Such List}
"""


def test_lint_and_apply(api: Api) -> None:
    """NAT-1 / VAL-1 / VAL-3: lint writes nothing; apply writes or refuses with 709."""
    (report,) = api.post(f"{NATIVE}/lint", {"files": {"broken.yaml": BROKEN_YAML}})["result"]
    assert report["errors"] >= 1
    assert error_code(api.post(f"{NATIVE}/apply", {"files": {"broken.yaml": BROKEN_YAML}})) == "709"
    assert "Broken" not in api.ids("campaign")
    (applied,) = api.post(f"{NATIVE}/apply", {"files": {"lists.yaml": LIST_YAML}})["result"]
    assert "Newcomers" in api.ids("list") and applied["errors"] == 0
    assert error_code(api.post(f"{NATIVE}/apply", {})) == "701"
    scoped = api.token("emea", Role.READ_WRITE, ("EMEA",))
    body = api.post(f"{NATIVE}/apply", {"files": {"lists.yaml": LIST_YAML}}, token=scoped)
    assert error_code(body) == "603"


def test_ledger(api: Api) -> None:
    """LEDG-5: ledger rows per run or person (none for a run without external effects)."""
    run_id, person = _run(api)
    assert api.get(f"{NATIVE}/ledger", run=run_id)["result"] == []
    assert api.get(f"{NATIVE}/ledger", person=person)["result"] == []
    assert error_code(api.get(f"{NATIVE}/ledger")) == "701"


def test_explain_a_smart_list(api: Api) -> None:
    """EXPL-1 --smart-list: each rule of a stand-alone smart list for one person."""
    leads = api.post(
        "/rest/v1/leads.json",
        {
            "lookupField": "firstName",
            "input": [{"firstName": "A", "email": "a@example.com"}, {"firstName": "Nomail"}],
        },
    )["result"]
    has_email = api.ids("smart_list")["Has Email"]
    (yes,) = api.post(f"{NATIVE}/explain", {"smartList": has_email, "person": leads[0]["id"]})[
        "result"
    ]
    (no,) = api.post(f"{NATIVE}/explain", {"smartList": has_email, "person": leads[1]["id"]})[
        "result"
    ]
    assert (yes["smartList"], yes["result"], no["result"]) == ("Has Email", True, False)
    assert error_code(api.post(f"{NATIVE}/explain", {"smartList": 999, "person": 1})) == "1013"
    both = {"smartList": has_email, "campaign": 1, "person": 1}
    assert error_code(api.post(f"{NATIVE}/explain", both)) == "1003"
    emea = api.token("emea", Role.READ_ONLY, ("EMEA",))
    body = api.post(f"{NATIVE}/explain", {"smartList": has_email, "person": 1}, token=emea)
    assert error_code(body) == "603"


CALLER_YAML = """\
workspace: Default
folders:
  - name: Marketing
    programs:
      - name: Events
        campaigns:
          - name: Caller
            smartList:
              filters:
                - Lead Score: {at least: 0}
            flow:
              - Execute Campaign: {campaign: Stamp, useParentContext: true}
              - Execute Campaign: {campaign: Nightly}
"""


def test_graph(api: Api) -> None:
    """NAT-1 / VAL-7: the call graph from one campaign or every root, with edge findings."""
    api.post(f"{NATIVE}/apply", {"files": {"caller.yaml": CALLER_YAML}, "force": True})
    ids = api.ids("campaign")
    (graph,) = api.get(f"{NATIVE}/graph", campaign=ids["Caller"])["result"]
    assert graph["roots"] == [ids["Caller"]]
    edges = [(e["caller"], e["target"], e["useParentContext"]) for e in graph["edges"]]
    assert ("Caller", "Stamp", True) in edges
    assert any(e["findings"] for e in graph["edges"])  # Nightly is not executable (EXE_TARGET)
    (every,) = api.get(f"{NATIVE}/graph")["result"]
    assert ids["Caller"] in every["roots"]
    assert error_code(api.get(f"{NATIVE}/graph", campaign=999)) == "1013"
    emea = api.token("emea", Role.READ_ONLY, ("EMEA",))
    assert error_code(api.get(f"{NATIVE}/graph", campaign=ids["Caller"], token=emea)) == "603"
    (scoped,) = api.get(f"{NATIVE}/graph", token=emea)["result"]
    assert scoped["roots"] == []
